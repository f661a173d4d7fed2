package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	fnoise "github.com/flynn/noise"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/server/accept"
	"shakedown/server/broker"
	"shakedown/server/registry"
)

// Ready describes a started server: the bound address of every listener.
type Ready struct {
	Listeners map[string]string `json:"listeners"` // profile, "plain", "backend", "metrics" -> host:port
}

// Run serves until ctx is done, then drains sessions for cfg.Drain.
// ready, when set, is called once everything listens.
func Run(ctx context.Context, cfg server.Config, log *slog.Logger, ready func(Ready)) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg, err := registry.Open(ctx, cfg.Registry)
	if err != nil {
		return fmt.Errorf("opening the registry: %w", err)
	}
	defer reg.Close()

	metrics := server.NewMetrics()
	dir, counters := metrics.Timed(reg, reg)

	keys, err := reg.ServerKeys(ctx)
	if err != nil && cfg.Listen[handshake.Noise] != "" {
		return fmt.Errorf("reading the server keys (serve --fixtures imports one; or run shakedown serverkey announce, then serverkey promote): %w", err)
	}
	ring := noise.NewKeyRing(ringKeys(keys))

	grants := grantsFunc(ctx, reg, cfg.Grants)
	pwKey, err := reg.PasswordKey(ctx)
	if err != nil {
		return fmt.Errorf("reading the password key: %w", err)
	}
	pw, err := server.NewPasswords(reg, pwKey, 0, metrics.Registry)
	if err != nil {
		return err
	}
	passwords := pw.Check
	var sink server.Sink
	var emb *broker.Embedded
	ls := Ready{Listeners: map[string]string{}}
	if cfg.Broker == "" {
		emb, err = broker.New(broker.Options{Grants: grants, Passwords: passwords,
			BackendUser: cfg.BackendUser, BackendPassword: cfg.BackendPassword, WriteQueue: cfg.MQTTWriteQueue,
			ConnectTimeout: cfg.ConnectTimeout, Observer: metrics,
			Logger: log.With("component", "broker")})
		if err != nil {
			return err
		}
		defer emb.Close()
		metrics.BrokerDropped(emb.Dropped)
		if cfg.Backend != "" {
			a, err := emb.AddBackendListener(cfg.Backend)
			if err != nil {
				return err
			}
			ls.Listeners["backend"] = a.String()
		}
		sink = emb
	} else {
		br, err := newBridge(cfg, metrics, grants, passwords, log)
		if err != nil {
			return err
		}
		defer br.Close()
		sink = br
		ls.Listeners["broker"] = cfg.Broker
	}
	sink = touchingSink{Sink: sink, reg: reg}

	var cert tls.Certificate
	if cfg.Listen[handshake.TLS] != "" {
		if cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return fmt.Errorf("loading the tls profile's certificate: %w", err)
		}
	}
	pattern, err := noise.ParsePattern(cfg.NoisePattern)
	if err != nil {
		return err
	}
	deps := server.ProfileDeps{Directory: dir, Counters: counters, NoiseKeys: ring, NoisePattern: pattern, Certificate: cert}
	gw := server.NewGateway(sink, cfg.Limits(), metrics, log.With("component", "gateway"))
	metrics.HalfOpen(gw.HalfOpen)
	for _, p := range handshake.Profiles {
		addr := cfg.Listen[p]
		if addr == "" {
			continue
		}
		srv, err := server.NewProfileServer(p, deps)
		if err != nil {
			gw.Close(0)
			return err
		}
		a, err := gw.Listen(addr, srv)
		if err != nil {
			gw.Close(0)
			return err
		}
		ls.Listeners[string(p)] = a.String()
		exposed := !onLoopback(a)
		switch {
		case p.Insecure():
			log.Warn("insecure profile enabled, for reproduction only: do not deploy", "profile", p, "addr", a.String(), "beyond_loopback", exposed)
		case exposed:
			log.Info("listening beyond loopback, as asked", "profile", p, "addr", a.String())
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if cfg.PlainMQTT != "" {
		if emb == nil {
			gw.Close(0)
			return errors.New("server: the plain MQTT baseline needs the embedded broker")
		}
		raw, err := net.Listen("tcp", cfg.PlainMQTT)
		if err != nil {
			gw.Close(0)
			return fmt.Errorf("server: plain MQTT listener: %w", err)
		}
		ln := accept.Wrap(raw, func(err error, wait time.Duration) {
			log.Warn("accept failed; retrying", "listener", "plain", "err", err, "retry_in", wait.String())
			metrics.AcceptFailed("plain")
		})
		defer ln.Close()
		ls.Listeners["plain"] = ln.Addr().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			servePlain(ln, emb)
		}()
	}
	if cfg.Metrics != "" {
		raw, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			gw.Close(0)
			return fmt.Errorf("server: metrics listener: %w", err)
		}
		// net/http backs off on temporary accept errors but gives up on
		// the others; the patient listener never gives up.
		ln := accept.Wrap(raw, func(err error, wait time.Duration) {
			log.Warn("accept failed; retrying", "listener", "metrics", "err", err, "retry_in", wait.String())
			metrics.AcceptFailed("metrics")
		})
		hs := &http.Server{Handler: metrics.Handler(func() error { return nil }), ReadHeaderTimeout: 5 * time.Second}
		ls.Listeners["metrics"] = ln.Addr().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs.Serve(ln)
		}()
		defer hs.Close()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		refreshKeys(ctx, reg, ring, cfg.KeyRefresh, log)
	}()
	log.Info("serving", "listeners", ls.Listeners, "registry", registryKind(cfg.Registry))
	if ready != nil {
		ready(ls)
	}
	<-ctx.Done()
	log.Info("draining", "sessions", gw.Sessions(), "deadline", cfg.Drain.String())
	err = gw.Close(cfg.Drain)
	if emb != nil {
		emb.Close() // ends the plain baseline's sessions too
	}
	return err
}

func registryKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// ringKeys converts the registry's server keys to the handshake's.
func ringKeys(k registry.ServerKeys) noise.ServerKeys {
	var out noise.ServerKeys
	if k.Current != nil {
		out.Current = fnoise.DHKey{Private: k.Current.Private, Public: k.Current.Public}
	}
	if k.Next != nil {
		out.Next = fnoise.DHKey{Private: k.Next.Private, Public: k.Next.Public}
	}
	return out
}

// refreshKeys re-reads the server keys so that an announcement or a
// promotion made with `shakedown serverkey` reaches running handshakes.
func refreshKeys(ctx context.Context, reg registry.Registry, ring *noise.KeyRing, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k, err := reg.ServerKeys(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("reading server keys", "err", err)
			}
			continue
		}
		nk, old := ringKeys(k), ring.Get()
		if !bytes.Equal(nk.Current.Public, old.Current.Public) || !bytes.Equal(nk.Next.Public, old.Next.Public) {
			ring.Set(nk)
			log.Info("server keys changed", "current", fmt.Sprintf("%x", nk.Current.Public), "next", fmt.Sprintf("%x", nk.Next.Public))
		}
	}
}

func grantsFunc(ctx context.Context, reg registry.Registry, cfg map[string][]string) func(string) []string {
	return func(id string) []string {
		g := append(append([]string(nil), cfg["*"]...), cfg[id]...)
		if d, err := reg.Device(ctx, id); err == nil {
			g = append(g, d.Grants...)
		}
		return g
	}
}

// touchingSink notes the last-seen time of every device that gets a session.
type touchingSink struct {
	server.Sink
	reg registry.Registry
}

func (s touchingSink) AttachDevice(conn net.Conn, id handshake.Identity) error {
	if id.DeviceID != "" {
		s.reg.TouchLastSeen(id.DeviceID, time.Now())
	}
	return s.Sink.AttachDevice(conn, id)
}

// onLoopback reports whether a listener's address is a loopback address
// (127.0.0.0/8, ::1): reachable from this machine only.
func onLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// servePlain serves the plain MQTT baseline until ln is closed; ln is a
// patient listener (package server/accept), so only its closing ends the
// loop.
func servePlain(ln net.Listener, emb *broker.Embedded) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			emb.AttachPlain(c)
		}()
	}
}
