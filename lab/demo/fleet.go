package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/reports"
	"shakedown/server"
	"shakedown/simulator"
	"shakedown/version"
)

// sampleEvery is the period of the fleet's timeline.
const sampleEvery = 500 * time.Millisecond

// fleetScenario is the demo's fleet: every profile, a few hostile devices,
// arrivals at 200 per second, each device publishing once a second for a
// few seconds.
func fleetScenario(devices int) simulator.Scenario {
	sc := simulator.DefaultScenario()
	sc.Devices = devices
	sc.Mix = map[string]float64{string(handshake.Noise): 5, simulator.KindSeedP256: 1, simulator.KindSeedSecp160r1: 1,
		string(handshake.PSK): 1, string(handshake.TLS): 2}
	sc.Rate, sc.Ramp = 200, time.Second
	sc.Hold, sc.PublishInterval = 4*time.Second, time.Second
	sc.KeepAlive = 0
	sc.Hostile.Share = 0.02
	sc.Hostile.Timeout = 6 * time.Second
	sc.Timeouts.Drain = 3 * time.Second
	sc.Timeouts.Handshake = 20 * time.Second // a loaded 2-core machine is slow, not broken
	return sc
}

// describeMix is the mix as shares: "noise 50%, tls 20%".
func describeMix(m map[string]float64) string {
	var total float64
	for _, w := range m {
		total += w
	}
	var parts []string
	for _, k := range simulator.Kinds {
		if w, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", k, w/total*100))
		}
	}
	return strings.Join(parts, ", ")
}

// runFleet starts the server of cfg and runs the fleet of sc against it,
// sampling the fleet's counters for the timeline. An interrupted fleet
// returns its results so far.
func runFleet(ctx context.Context, cfg server.Config, sc simulator.Scenario, set *fixtures.Set, out io.Writer) (*reports.Sim, error) {
	ready, stop, err := startServer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	for _, p := range handshake.Profiles {
		sc.Gateway[string(p)] = ready.Listeners[string(p)]
	}
	sc.Backend = simulator.Backend{Addr: ready.Listeners["backend"], Username: cfg.BackendUser, Password: cfg.BackendPassword}
	if _, err := simulator.RaiseFileLimit(uint64(sc.Devices) + 512); err != nil {
		fmt.Fprintln(out, "   warning:", err)
	}
	reg := prometheus.NewRegistry()
	tl, done := sampleFleet(reg)
	res, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg, Progress: out, ProgressInterval: 2 * time.Second})
	done()
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("demo: the fleet's server: %w", serr)
	}
	if err != nil {
		return nil, err
	}
	res.ShakedownVersion = version.String()
	sim := &res.Sim // the report's section as the simulator filled it
	sim.Timeline = tl
	r := res.Rates()
	fmt.Fprintf(out, "   %d connected, %d failed; %.0f connects/s, %.0f publishes/s; %d of %d messages received\n",
		res.Counts.Connected, res.Counts.ConnectFailed, r.ConnectsPerSecond, r.PublishesPerSecond, res.Counts.Received, res.Counts.Acked)
	return sim, nil
}

// sampleFleet samples the fleet's counters in reg every sampleEvery into
// the timeline it returns, until done, which takes a last sample and
// returns once the sampler has ended.
func sampleFleet(reg *prometheus.Registry) (tl *reports.Timeline, done func()) {
	tl = &reports.Timeline{Format: reports.TimelineFormat}
	started := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			tl.Samples = append(tl.Samples, sample(reg, time.Since(started)))
			select {
			case <-stop:
				tl.Samples = append(tl.Samples, sample(reg, time.Since(started)))
				return
			case <-t.C:
			}
		}
	}()
	return tl, func() { close(stop); wg.Wait() }
}

// sample reads the fleet's counters from its metrics.
func sample(reg *prometheus.Registry, at time.Duration) reports.Sample {
	s := reports.Sample{AtMS: at.Milliseconds()}
	mfs, err := reg.Gather()
	if err != nil {
		return s
	}
	for _, mf := range mfs {
		var v float64
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				v += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				v += g.GetValue()
			}
		}
		switch mf.GetName() {
		case "shakedown_sim_connects_total":
			s.Connects = int64(v)
		case "shakedown_sim_handshakes_total":
			s.Handshakes = int64(v)
		case "shakedown_sim_acked_total":
			s.Acked = int64(v)
		case "shakedown_sim_received_total":
			s.Received = int64(v)
		case "shakedown_sim_devices_connected":
			s.Connected = int64(v)
		}
	}
	return s
}
