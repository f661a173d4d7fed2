package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/seed"
	"shakedown/server"
	"shakedown/server/app"
	"shakedown/server/broker"
)

// serveOptions are the flags of `shakedown serve`: the server's
// configuration, and what the command does around the server.
type serveOptions struct {
	cfg                                                     server.Config
	configFile, fixturesDir, readyFile, logFormat, logLevel string
	// listen are the --listen-PROFILE flags: given ones override the
	// configuration file.
	listen map[handshake.Name]*string
}

// newServeCmd is `shakedown serve`.
func newServeCmd() *cobra.Command {
	o := &serveOptions{cfg: server.DefaultConfig(), listen: map[handshake.Name]*string{}}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference server: handshake listeners, registry, broker, metrics",
		Long: `Run the reference server. Each protocol profile has its own listener; a device
registered for one profile is refused on every other (no downgrade). Devices
that finish a handshake enter the embedded MQTT broker (or, with --broker, a
bridge to an external one), where their MQTT client ID must be their device ID
and they may use only devices/{id}/... and the topics granted to them.

The registry (SQLite file by default, PostgreSQL with a postgres:// DSN) holds
the devices, their message-1 counters and the server's noise keys. --fixtures
imports a fixture set into it first (devices that are missing, and the server
key when there is none) and takes the tls profile's certificate from it.

Safe by default: every listener binds loopback (noise 127.0.0.1:8885, tls
127.0.0.1:8883, backend 127.0.0.1:1884, metrics 127.0.0.1:9185) unless given an
address, and the insecure seed and psk profiles stay off unless given one
(--listen-seed 127.0.0.1:8886, --listen-psk 127.0.0.1:8887), with a warning.

Admission is fair by default. One source (an IPv4 address, an IPv6 /64) may
start --per-source-rate handshakes a second (after --per-source-burst). A
newcomer to a full table of --max-half-open handshakes evicts the oldest one
waiting for its peer's bytes, and is refused only when the server is working
on every one of them. A client that sends no MQTT CONNECT within
--connect-timeout is closed. Refusals and evictions are counted in
shakedown_handshakes_total (rate_limited, evicted, half_open_full), timeouts
in shakedown_mqtt_refused_total (connect_timeout). A load test from one
address raises the rate or turns it off (0), or spreads its devices over
addresses (shakedown sim --source-addrs).

Settings come from --config (YAML, the field names of the flags with
underscores), then flags. SIGTERM or Ctrl-C drains sessions for --drain.`,
		Example: `  # everything embedded, from a fixture set, on loopback
  shakedown fixtures gen fx --seed demo
  shakedown serve --fixtures fx --registry sqlite:fx/registry.db --backend-password s3cret

  # a gateway sharing a PostgreSQL registry, bridged to mosquitto, with a config file
  shakedown serve --config gateway.yaml --registry postgres://gw@db/shakedown --broker tcp://mosquitto:1883`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, o) },
	}
	o.bind(cmd.Flags())
	return cmd
}

// bind adds the flags of serve to f.
func (o *serveOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.configFile, "config", "", "YAML configuration file")
	f.StringVar(&o.fixturesDir, "fixtures", "", "import this fixture set into the registry and use its broker certificate")
	f.StringVar(&o.readyFile, "ready-file", "", "write the bound addresses as JSON here once listening (useful with port 0)")
	f.StringVar(&o.cfg.Registry, "registry", o.cfg.Registry, "registry DSN: sqlite:PATH or postgres://...")
	for _, p := range handshake.Profiles {
		usage := fmt.Sprintf("%s listener address (empty: off)", p)
		if p.Insecure() {
			usage = fmt.Sprintf("%s listener address: off unless given; INSECURE, for reproduction only", p)
		}
		o.listen[p] = f.String("listen-"+string(p), o.cfg.Listen[p], usage)
	}
	f.StringVar(&o.cfg.PlainMQTT, "plain-mqtt", "", "plain MQTT baseline listener without handshake (off when empty; never for devices)")
	f.StringVar(&o.cfg.Backend, "backend", o.cfg.Backend, "listener of backend MQTT clients (dashboards, simulator subscriber)")
	f.StringVar(&o.cfg.BackendUser, "backend-user", o.cfg.BackendUser, "backend clients' MQTT username")
	f.StringVar(&o.cfg.BackendPassword, "backend-password", "", "backend clients' MQTT password (or SHAKEDOWN_BACKEND_PASSWORD)")
	f.StringVar(&o.cfg.Broker, "broker", "", "bridge device sessions to this external broker (tcp://host:port) instead of the embedded one")
	f.StringVar(&o.cfg.Metrics, "metrics", o.cfg.Metrics, "address of /metrics and /healthz (empty: off)")
	f.StringVar(&o.cfg.Pprof, "pprof", "", "address of Go's profiling endpoints /debug/pprof/ (empty: off; e.g. 127.0.0.1:6060)")
	f.StringVar(&o.cfg.NoisePattern, "noise-pattern", o.cfg.NoisePattern, "noise pattern: IK (recommended), XK or KK")
	f.StringVar(&o.cfg.TLSCert, "tls-cert", "", "tls profile: broker certificate chain (PEM)")
	f.StringVar(&o.cfg.TLSKey, "tls-key", "", "tls profile: broker private key (PEM)")
	f.DurationVar(&o.cfg.HandshakeTimeout, "handshake-timeout", o.cfg.HandshakeTimeout, "deadline of one handshake")
	f.IntVar(&o.cfg.MaxHalfOpen, "max-half-open", o.cfg.MaxHalfOpen, "handshakes in progress at once; a newcomer to a full table evicts the oldest waiting for its peer")
	f.Float64Var(&o.cfg.PerSourceRate, "per-source-rate", o.cfg.PerSourceRate, "handshakes per second one source may start; more are refused (0: unlimited)")
	f.IntVar(&o.cfg.PerSourceBurst, "per-source-burst", o.cfg.PerSourceBurst, "burst of --per-source-rate")
	f.DurationVar(&o.cfg.ConnectTimeout, "connect-timeout", o.cfg.ConnectTimeout, "how long a client may take to send its MQTT CONNECT after its handshake (or accept, on the plain and backend listeners)")
	f.IntVar(&o.cfg.MQTTWriteQueue, "mqtt-write-queue", broker.DefaultWriteQueue, "embedded broker: packets each client's write queue holds; more are dropped and counted")
	f.IntVar(&o.cfg.IdleGCPercent, "idle-gc-percent", o.cfg.IdleGCPercent, "Go collector's target (GOGC) while the server allocates under 8 MiB/s, so that idle sessions' memory stays near what they use; busy, Go's default 100 (0: off; a GOGC in the environment also turns it off)")
	f.DurationVar(&o.cfg.Drain, "drain", o.cfg.Drain, "on SIGTERM, how long sessions may go on before they are closed")
	f.DurationVar(&o.cfg.KeyRefresh, "key-refresh", o.cfg.KeyRefresh, "how often server-key changes are read from the registry")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// configure completes the configuration: the file of --config under the
// flags given, the listeners given, the backend password from the
// environment.
func (o *serveOptions) configure(cmd *cobra.Command) error {
	if o.configFile != "" {
		loaded, err := server.LoadConfig(o.configFile)
		if err != nil {
			return setupError(err)
		}
		// Flags given on the command line win over the file: the
		// flags write into cfg, so set them again after loading.
		changed := map[*pflag.Flag]string{}
		cmd.Flags().Visit(func(f *pflag.Flag) { changed[f] = f.Value.String() })
		o.cfg = loaded
		for f, v := range changed {
			if err := f.Value.Set(v); err != nil {
				return err
			}
		}
	}
	for p, addr := range o.listen {
		if cmd.Flags().Changed("listen-" + string(p)) {
			o.cfg.Listen[p] = *addr
		}
	}
	if o.cfg.BackendPassword == "" {
		o.cfg.BackendPassword = os.Getenv("SHAKEDOWN_BACKEND_PASSWORD")
	}
	return nil
}

// runServe runs the server until the command's context ends.
func runServe(cmd *cobra.Command, o *serveOptions) (err error) {
	if err := o.configure(cmd); err != nil {
		return err
	}
	cfg := &o.cfg
	log, err := newLogger(o.logFormat, o.logLevel)
	if err != nil {
		return usageError(err)
	}
	ctx := cmd.Context()
	if o.fixturesDir != "" {
		set, err := fixtures.Load(o.fixturesDir)
		if err != nil {
			return setupError(err)
		}
		if err := importFixtures(ctx, cfg.Registry, set, cmd.ErrOrStderr()); err != nil {
			return setupError(err)
		}
		if cfg.TLSCert == "" {
			cfg.TLSCert = filepath.Join(o.fixturesDir, "tls", "broker.crt")
			cfg.TLSKey = filepath.Join(o.fixturesDir, "tls", "broker.key")
		}
	}
	// The insecure profiles run only when given an address, and say so.
	if cfg.Listen[handshake.Seed] != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", seed.Warning)
	}
	if cfg.Listen[handshake.PSK] != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: psk profile: INSECURE BY DESIGN, kept to reproduce the seed discussion's weaknesses: no freshness, recorded sessions replay. Do not deploy.")
	}
	// Until it is listening, what stops the server is its set-up.
	var ready atomic.Bool
	defer func() {
		if err != nil && !ready.Load() {
			err = setupError(err)
		}
	}()
	return app.Run(ctx, *cfg, log, func(r app.Ready) {
		ready.Store(true)
		for _, name := range []string{"noise", "seed", "psk", "tls", "plain", "backend", "metrics", "pprof"} {
			if a, ok := r.Listeners[name]; ok {
				fmt.Fprintf(cmd.OutOrStdout(), "listening %-8s %s\n", name, a)
			}
		}
		if o.readyFile != "" {
			b, _ := json.MarshalIndent(r, "", "  ")
			if err := os.WriteFile(o.readyFile, append(b, '\n'), 0o644); err != nil {
				log.Error("writing the ready file", "err", err)
			}
		}
	})
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, not %q", format)
}
