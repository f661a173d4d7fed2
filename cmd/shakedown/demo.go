package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/spf13/cobra"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/app"
	"shakedown/simulator"
)

func init() {
	var dir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole story on embedded defaults, printing what happens",
		Long: `Generate a fixture set, start the reference server on loopback (SQLite
registry, embedded broker, every profile), connect one device per profile,
publish a message from each, receive it on a backend subscriber, and print what
happened. Nothing to install, nothing left running.`,
		Example: `  shakedown demo --dir out/demo`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), dir, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "out/demo", "where the demo writes its fixtures and registry")
	root.AddCommand(cmd)
}

func runDemo(ctx context.Context, dir string, out io.Writer) error {
	fxDir := filepath.Join(dir, "fixtures")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "== fixtures: %s (seed %q)\n", fxDir, "demo")
	if _, err := fixtures.Generate(fxDir, fixtures.Options{Seed: "demo", DevicesPerProfile: 2}); err != nil {
		return err
	}
	set, err := fixtures.Load(fxDir)
	if err != nil {
		return err
	}
	cfg := server.DefaultConfig()
	cfg.Registry = "sqlite:" + filepath.Join(dir, "registry.db")
	for p := range cfg.Listen {
		cfg.Listen[p] = "127.0.0.1:0"
	}
	cfg.Backend, cfg.Metrics = "127.0.0.1:0", "127.0.0.1:0"
	cfg.BackendPassword = "demo-backend"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(fxDir, "tls", "broker.crt"), filepath.Join(fxDir, "tls", "broker.key")
	cfg.Drain = time.Second
	if err := importFixtures(ctx, cfg.Registry, set, out); err != nil {
		return err
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	readyc := make(chan app.Ready, 1)
	errc := make(chan error, 1)
	go func() { errc <- app.Run(sctx, cfg, nil, func(r app.Ready) { readyc <- r }) }()
	var ready app.Ready
	select {
	case ready = <-readyc:
	case err := <-errc:
		return err
	}
	fmt.Fprintln(out, "== server: embedded broker, SQLite registry")
	for _, p := range handshake.Profiles {
		note := ""
		if p.Insecure() {
			note = "  (INSECURE by design: reproduces the seed discussion)"
		}
		fmt.Fprintf(out, "   %-5s listener %s%s\n", p, ready.Listeners[string(p)], note)
	}

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	backend, err := simulator.Connect(cctx, simulator.ClientConfig{Addr: ready.Listeners["backend"], ClientID: "demo-dashboard", Username: cfg.BackendUser, Password: cfg.BackendPassword})
	if err != nil {
		return fmt.Errorf("backend subscriber: %w", err)
	}
	defer backend.Disconnect(100)
	var mu sync.Mutex
	got := map[string]string{}
	arrived := make(chan struct{}, 16)
	tok := backend.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		got[m.Topic()] = string(m.Payload())
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("backend subscribe: %v", tok.Error())
	}

	fmt.Fprintln(out, "== one device per profile: handshake, MQTT CONNECT, PUBLISH, received by the backend")
	failures := 0
	for _, p := range handshake.Profiles {
		d := set.DevicesOf(p)[0]
		dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		if err != nil {
			return err
		}
		start := time.Now()
		c, err := simulator.Connect(cctx, simulator.ClientConfig{Device: dev, Addr: ready.Listeners[string(p)], ClientID: d.ID, Username: user, Password: pass})
		if err != nil {
			failures++
			fmt.Fprintf(out, "   %-5s %-20s FAILED: %v\n", p, d.ID, err)
			continue
		}
		connected := time.Since(start)
		topic := "devices/" + d.ID + "/telemetry"
		payload := fmt.Sprintf("temperature=21.5 from %s", d.ID)
		pt := c.Publish(topic, 1, false, payload)
		pt.WaitTimeout(10 * time.Second)
		received := false
		deadline := time.After(5 * time.Second)
	wait:
		for {
			mu.Lock()
			received = got[topic] == payload
			mu.Unlock()
			if received {
				break
			}
			select {
			case <-arrived:
			case <-deadline:
				break wait
			}
		}
		c.Disconnect(50)
		status := "received by the backend"
		if !received || pt.Error() != nil {
			status, failures = "NOT received", failures+1
		}
		fmt.Fprintf(out, "   %-5s %-20s connected in %6.1f ms, published %q: %s\n", p, d.ID, float64(connected.Microseconds())/1000, topic, status)
	}
	stop()
	if err := <-errc; err != nil {
		return err
	}
	fmt.Fprintf(out, "== metrics were at http://%s/metrics; registry at %s\n", ready.Listeners["metrics"], cfg.Registry)
	fmt.Fprintln(out, "== next: `shakedown mitm run` shows which attacks succeed against which profile (docs/security.md)")
	if failures > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d devices failed", failures, len(handshake.Profiles))}
	}
	return nil
}
