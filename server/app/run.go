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
	Listeners map[string]string `json:"listeners"` // profile, "plain", "backend", "metrics", "pprof" -> host:port
}

// Run serves until ctx is done, then drains sessions for cfg.Drain.
// ready, when set, is called once everything listens.
func Run(ctx context.Context, cfg server.Config, log *slog.Logger, ready func(Ready)) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	if cfg.PlainMQTT != "" && cfg.Broker != "" {
		return errors.New("server: the plain MQTT baseline needs the embedded broker")
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
	cache := newCaches(server.DefaultKeyCache)
	sc, ring, err := stackConfig(ctx, cfg, reg, cache, metrics, log)
	if err != nil {
		return err
	}
	if cfg.Broker != "" {
		br, err := newBridge(cfg, metrics, sc.Broker.Grants, sc.Broker.Passwords, log)
		if err != nil {
			return err
		}
		defer br.Close()
		sc.Sink = br
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	st, err := server.NewStack(sc)
	if err != nil {
		return err
	}
	defer st.Close(0) // on an early return; ends the plain baseline's sessions too
	metrics.HalfOpen(st.Gateway.HalfOpen)
	if st.Broker != nil {
		metrics.BrokerDropped(st.Broker.Dropped)
	}
	ls := listeners(cfg, st, log)
	if cfg.PlainMQTT != "" {
		ln, err := servePlain(cfg.PlainMQTT, st.Broker, metrics, log, &wg)
		if err != nil {
			return err
		}
		defer ln.Close()
		ls.Listeners["plain"] = ln.Addr().String()
	}
	// The HTTP listeners: /metrics and /healthz, and the profiling
	// endpoints; each is off without an address.
	for _, h := range []struct {
		name, addr string
		handler    func() http.Handler
	}{
		{"metrics", cfg.Metrics, func() http.Handler { return metrics.Handler(func() error { return nil }) }},
		{"pprof", cfg.Pprof, pprofHandler},
	} {
		if h.addr == "" {
			continue
		}
		hs, addr, err := serveHTTP(h.name, h.addr, h.handler(), metrics, log, &wg)
		if err != nil {
			return err
		}
		defer hs.Close()
		ls.Listeners[h.name] = addr
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		refreshKeys(ctx, reg, ring, cfg.KeyRefresh, log)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		cache.warm(ctx, reg, log)
	}()
	if p, ok := newGCPacer(cfg.IdleGCPercent, log); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(ctx, gcWindow)
		}()
	}
	log.Info("serving", "listeners", ls.Listeners, "registry", registryKind(cfg.Registry))
	if ready != nil {
		ready(ls)
	}
	<-ctx.Done()
	log.Info("draining", "sessions", st.Gateway.Sessions(), "deadline", cfg.Drain.String())
	return st.Close(cfg.Drain) // the broker's close ends the plain baseline's sessions too
}

// stackConfig reads from the registry what the gateway and the broker
// need: the noise key ring (returned for refreshKeys), each device's
// grants and the tls devices' password check.
func stackConfig(ctx context.Context, cfg server.Config, reg registry.Registry, cache caches, metrics *server.Metrics, log *slog.Logger) (server.StackConfig, *noise.KeyRing, error) {
	keys, err := reg.ServerKeys(ctx)
	if err != nil && cfg.Listen[handshake.Noise] != "" {
		return server.StackConfig{}, nil, fmt.Errorf("reading the server keys (serve --fixtures imports one; or run shakedown serverkey announce, then serverkey promote): %w", err)
	}
	ring := noise.NewKeyRing(ringKeys(keys))
	pwKey, err := reg.PasswordKey(ctx)
	if err != nil {
		return server.StackConfig{}, nil, fmt.Errorf("reading the password key: %w", err)
	}
	pw, err := server.NewPasswords(reg, pwKey, 0, metrics.Registry)
	if err != nil {
		return server.StackConfig{}, nil, err
	}
	var cert tls.Certificate
	if cfg.Listen[handshake.TLS] != "" {
		if cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return server.StackConfig{}, nil, fmt.Errorf("loading the tls profile's certificate: %w", err)
		}
	}
	pattern, err := noise.ParsePattern(cfg.NoisePattern)
	if err != nil {
		return server.StackConfig{}, nil, err
	}
	dir, counters := metrics.Timed(reg, reg)
	return server.StackConfig{
		Listen: cfg.Listen,
		Profiles: server.ProfileDeps{Directory: dir, Counters: counters, NoiseKeys: ring, NoisePattern: pattern, Certificate: cert,
			KeyCache: cache.keys},
		Limits:   cfg.Limits(),
		Observer: metrics,
		Logger:   log.With("component", "gateway"),
		Broker: broker.Options{Grants: grantsFunc(ctx, reg, cfg.Grants, cache.grants), Passwords: pw.Check,
			BackendUser: cfg.BackendUser, BackendPassword: cfg.BackendPassword, WriteQueue: cfg.MQTTWriteQueue,
			ConnectTimeout: cfg.ConnectTimeout, Observer: metrics,
			Logger: log.With("component", "broker")},
		Backend: cfg.Backend,
		Wrap:    func(s server.Sink) server.Sink { return touchingSink{Sink: s, reg: reg} },
	}, ring, nil
}

// listeners returns the bound addresses of st's listeners, and warns of
// every insecure profile and notes every listener beyond loopback.
func listeners(cfg server.Config, st *server.Stack, log *slog.Logger) Ready {
	ls := Ready{Listeners: map[string]string{}}
	for _, p := range handshake.Profiles {
		a, ok := st.Addrs[p]
		if !ok {
			continue
		}
		ls.Listeners[string(p)] = a
		exposed := !onLoopback(a)
		switch {
		case p.Insecure():
			log.Warn("insecure profile enabled, for reproduction only: do not deploy", "profile", p, "addr", a, "beyond_loopback", exposed)
		case exposed:
			log.Info("listening beyond loopback, as asked", "profile", p, "addr", a)
		}
	}
	if st.Backend != "" {
		ls.Listeners["backend"] = st.Backend
	}
	if cfg.Broker != "" {
		ls.Listeners["broker"] = cfg.Broker
	}
	return ls
}

// patientListener listens on addr for the listener called name. Its
// accept loop rides out failures such as EMFILE (package server/accept),
// logging and counting each.
func patientListener(addr, name string, metrics *server.Metrics, log *slog.Logger) (net.Listener, error) {
	raw, err := server.ListenTCP(addr)
	if err != nil {
		return nil, fmt.Errorf("server: %s listener: %w", name, err)
	}
	return accept.Wrap(raw, func(err error, wait time.Duration) {
		log.Warn("accept failed; retrying", "listener", name, "err", err, "retry_in", wait.String())
		metrics.AcceptFailed(name)
	}), nil
}

// serveHTTP serves handler on addr, the listener called name, in a
// goroutine of wg until the returned server is closed.
func serveHTTP(name, addr string, handler http.Handler, metrics *server.Metrics, log *slog.Logger, wg *sync.WaitGroup) (*http.Server, string, error) {
	// net/http backs off on temporary accept errors but gives up on the
	// others; the patient listener never gives up.
	ln, err := patientListener(addr, name, metrics, log)
	if err != nil {
		return nil, "", err
	}
	if !onLoopback(ln.Addr().String()) {
		log.Info("listening beyond loopback, as asked", "listener", name, "addr", ln.Addr().String())
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		hs.Serve(ln)
	}()
	return hs, ln.Addr().String(), nil
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

// grantsFunc returns the topic filters device id may use beyond its own
// namespace: the configuration's, for every device and for id, and the
// registry's for id. The broker asks once per CONNECT. A registered
// device's grants never change (the registry sets them at registration
// only), so the registry's answer for a device it knows is kept in known
// (caches.warm may fill it ahead); an ID it does not know is asked again
// each time.
func grantsFunc(ctx context.Context, reg registry.Registry, cfg map[string][]string, known *server.Memo[string, []string]) func(string) []string {
	return func(id string) []string {
		g := append(append([]string(nil), cfg["*"]...), cfg[id]...)
		if dg, ok := known.Get(id); ok {
			return append(g, dg...)
		}
		if d, err := reg.Device(ctx, id); err == nil {
			known.Put(id, d.Grants)
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

// onLoopback reports whether a listener's address (host:port) is a
// loopback address (127.0.0.0/8, ::1): reachable from this machine only.
func onLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// servePlain serves the plain MQTT baseline on addr, with emb, in a
// goroutine of wg until the returned listener is closed.
func servePlain(addr string, emb *broker.Embedded, metrics *server.Metrics, log *slog.Logger, wg *sync.WaitGroup) (net.Listener, error) {
	ln, err := patientListener(addr, "plain", metrics, log)
	if err != nil {
		return nil, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		acceptPlain(ln, emb)
	}()
	return ln, nil
}

// acceptPlain serves the plain MQTT baseline until ln is closed; ln is a
// patient listener (package server/accept), so only its closing ends the
// loop.
func acceptPlain(ln net.Listener, emb *broker.Embedded) {
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
