package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/app"
	"shakedown/server/registry"
)

// backendPassword is the backend listener's password in the demo.
const backendPassword = "demo-backend"

// serverConfig is the reference server of the demo: every listener on
// 127.0.0.1 at a free port, the insecure profiles too (the demo
// reproduces them), an SQLite registry in dir, the fixture set's broker
// certificate.
func serverConfig(dir, fxDir string) server.Config {
	cfg := server.DefaultConfig()
	cfg.Registry = "sqlite:" + filepath.Join(dir, "registry.db")
	for _, p := range handshake.Profiles {
		cfg.Listen[p] = "127.0.0.1:0"
	}
	cfg.Backend, cfg.Metrics = "127.0.0.1:0", "127.0.0.1:0"
	cfg.BackendPassword = backendPassword
	cfg.TLSCert, cfg.TLSKey = filepath.Join(fxDir, "tls", "broker.crt"), filepath.Join(fxDir, "tls", "broker.key")
	cfg.Drain = time.Second
	return cfg
}

// enrol puts every device of set, and its noise key when there is none,
// into the registry of dsn, and says what it did on w.
func enrol(ctx context.Context, dsn string, set *fixtures.Set, w io.Writer) error {
	reg, err := registry.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("demo: opening the registry: %w", err)
	}
	defer reg.Close()
	key := registry.Keypair{Private: set.NoiseCurrent.Private, Public: set.NoiseCurrent.Public}
	e, err := registry.Enrol(ctx, reg, set.Records(), set.Passwords(), key)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if e.KeySet {
		fmt.Fprintf(w, "server noise key set from the fixtures: %x\n", key.Public)
	}
	fmt.Fprintf(w, "registry: %d fixture devices added, %d already present\n", e.Added, e.Present)
	return nil
}

// startServer runs the server of cfg until ctx ends or stop is called.
// stop waits for the server to end and returns its error; calling it again
// returns the same.
func startServer(ctx context.Context, cfg server.Config) (ready app.Ready, stop func() error, err error) {
	sctx, cancel := context.WithCancel(ctx)
	readyc := make(chan app.Ready, 1)
	errc := make(chan error, 1)
	go func() { errc <- app.Run(sctx, cfg, nil, func(r app.Ready) { readyc <- r }) }()
	select {
	case ready = <-readyc:
		return ready, sync.OnceValue(func() error { cancel(); return <-errc }), nil
	case err := <-errc:
		cancel()
		return app.Ready{}, nil, fmt.Errorf("demo: starting the server: %w", err)
	}
}
