package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"shakedown/handshake"
	"shakedown/server"
	"shakedown/simulator"
)

// dashboardFile is the Grafana dashboard of the simulator's and the
// server's metrics.
var dashboardFile = filepath.Join("..", "..", "deploy", "grafana", "shakedown-dashboard.json")

// exportedMetrics are the metric families the server and the simulator
// export, each made to hold a sample so that a vector shows in a gather.
func exportedMetrics(t *testing.T) map[string]bool {
	m := server.NewMetrics()
	m.Handshake(handshake.Noise, "", time.Millisecond)
	m.Handshake(handshake.Noise, handshake.ReasonTimeout, time.Millisecond)
	m.Session(handshake.Noise, 1)
	m.Bytes(handshake.Noise, true, 10)
	m.Refused(handshake.Noise, handshake.ReasonInternal)
	m.TransportFailed(handshake.Noise, handshake.ReasonInternal)
	m.AcceptFailed("noise")
	m.BrokerDropped(func() (int64, int64) { return 1, 2 })
	m.HalfOpen(func() (int, int) { return 1, 0 })

	// A fleet against a closed port: every connect fails, every hostile
	// device finds no one to dial, and every counter of the fleet exists.
	ln, err := newClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	sc := simulator.DefaultScenario()
	sc.Target, sc.Broker.Addr = simulator.TargetBroker, ln
	sc.Devices, sc.Rate, sc.Hold, sc.PublishInterval = 4, 0, time.Second, 0
	sc.Hostile.Share, sc.Hostile.Kinds, sc.Hostile.Timeout = 0.5, []string{simulator.HostileGarbage}, time.Second
	sim := prometheus.NewRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Metrics: sim}); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, g := range []prometheus.Gatherer{m.Registry, sim} {
		mfs, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			names[mf.GetName()] = true
		}
	}
	return names
}

// metricName is a metric in a PromQL expression; histogramSuffix the
// series a histogram exports beside its name.
var (
	metricName      = regexp.MustCompile(`\bshakedown_[a-z0-9_]+`)
	histogramSuffix = regexp.MustCompile(`_(bucket|sum|count)$`)
)

// TestDashboardQueries loads the Grafana dashboard and holds every query
// to a metric the code exports.
func TestDashboardQueries(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	exported := exportedMetrics(t)
	used := map[string]bool{}
	queries := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			queries++
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: %q names no shakedown metric", p.Title, q.Expr)
			}
			for _, n := range names {
				base := histogramSuffix.ReplaceAllString(n, "")
				if !exported[n] && !(exported[base] && base != n) {
					t.Errorf("panel %q: %s is not a metric the code exports", p.Title, n)
				}
				used[base] = true
			}
		}
	}
	if queries < 10 {
		t.Errorf("%d queries: want the simulator's and the server's panels", queries)
	}
	for _, prefix := range []string{"shakedown_sim_", "shakedown_handshake"} {
		found := false
		for n := range used {
			found = found || strings.HasPrefix(n, prefix)
		}
		if !found {
			t.Errorf("no panel shows a %s* metric", prefix)
		}
	}
}

// newClosedAddr is a loopback address where nothing listens.
func newClosedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
