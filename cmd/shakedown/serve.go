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

func init() {
	cfg := server.DefaultConfig()
	var (
		configFile, fixturesDir, readyFile, logFormat, logLevel string
		listen                                                  = map[handshake.Name]*string{}
	)
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
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if configFile != "" {
				loaded, err := server.LoadConfig(configFile)
				if err != nil {
					return setupError(err)
				}
				// Flags given on the command line win over the file: the
				// flags write into cfg, so set them again after loading.
				changed := map[*pflag.Flag]string{}
				cmd.Flags().Visit(func(f *pflag.Flag) { changed[f] = f.Value.String() })
				cfg = loaded
				for f, v := range changed {
					if err := f.Value.Set(v); err != nil {
						return err
					}
				}
			}
			for p, addr := range listen {
				if cmd.Flags().Changed("listen-" + string(p)) {
					cfg.Listen[p] = *addr
				}
			}
			if cfg.BackendPassword == "" {
				cfg.BackendPassword = os.Getenv("SHAKEDOWN_BACKEND_PASSWORD")
			}
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return usageError(err)
			}
			ctx := cmd.Context()
			if fixturesDir != "" {
				set, err := fixtures.Load(fixturesDir)
				if err != nil {
					return setupError(err)
				}
				if err := importFixtures(ctx, cfg.Registry, set, cmd.ErrOrStderr()); err != nil {
					return setupError(err)
				}
				if cfg.TLSCert == "" {
					cfg.TLSCert = filepath.Join(fixturesDir, "tls", "broker.crt")
					cfg.TLSKey = filepath.Join(fixturesDir, "tls", "broker.key")
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
			return app.Run(ctx, cfg, log, func(r app.Ready) {
				ready.Store(true)
				for _, name := range []string{"noise", "seed", "psk", "tls", "plain", "backend", "metrics"} {
					if a, ok := r.Listeners[name]; ok {
						fmt.Fprintf(cmd.OutOrStdout(), "listening %-8s %s\n", name, a)
					}
				}
				if readyFile != "" {
					b, _ := json.MarshalIndent(r, "", "  ")
					if err := os.WriteFile(readyFile, append(b, '\n'), 0o644); err != nil {
						log.Error("writing the ready file", "err", err)
					}
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "YAML configuration file")
	f.StringVar(&fixturesDir, "fixtures", "", "import this fixture set into the registry and use its broker certificate")
	f.StringVar(&readyFile, "ready-file", "", "write the bound addresses as JSON here once listening (useful with port 0)")
	f.StringVar(&cfg.Registry, "registry", cfg.Registry, "registry DSN: sqlite:PATH or postgres://...")
	for _, p := range handshake.Profiles {
		usage := fmt.Sprintf("%s listener address (empty: off)", p)
		if p.Insecure() {
			usage = fmt.Sprintf("%s listener address: off unless given; INSECURE, for reproduction only", p)
		}
		listen[p] = f.String("listen-"+string(p), cfg.Listen[p], usage)
	}
	f.StringVar(&cfg.PlainMQTT, "plain-mqtt", "", "plain MQTT baseline listener without handshake (off when empty; never for devices)")
	f.StringVar(&cfg.Backend, "backend", cfg.Backend, "listener of backend MQTT clients (dashboards, simulator subscriber)")
	f.StringVar(&cfg.BackendUser, "backend-user", cfg.BackendUser, "backend clients' MQTT username")
	f.StringVar(&cfg.BackendPassword, "backend-password", "", "backend clients' MQTT password (or SHAKEDOWN_BACKEND_PASSWORD)")
	f.StringVar(&cfg.Broker, "broker", "", "bridge device sessions to this external broker (tcp://host:port) instead of the embedded one")
	f.StringVar(&cfg.Metrics, "metrics", cfg.Metrics, "address of /metrics and /healthz (empty: off)")
	f.StringVar(&cfg.NoisePattern, "noise-pattern", cfg.NoisePattern, "noise pattern: IK (recommended), XK or KK")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "tls profile: broker certificate chain (PEM)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "tls profile: broker private key (PEM)")
	f.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", cfg.HandshakeTimeout, "deadline of one handshake")
	f.IntVar(&cfg.MaxHalfOpen, "max-half-open", cfg.MaxHalfOpen, "handshakes in progress at once; a newcomer to a full table evicts the oldest waiting for its peer")
	f.Float64Var(&cfg.PerSourceRate, "per-source-rate", cfg.PerSourceRate, "handshakes per second one source may start; more are refused (0: unlimited)")
	f.IntVar(&cfg.PerSourceBurst, "per-source-burst", cfg.PerSourceBurst, "burst of --per-source-rate")
	f.DurationVar(&cfg.ConnectTimeout, "connect-timeout", cfg.ConnectTimeout, "how long a client may take to send its MQTT CONNECT after its handshake (or accept, on the plain and backend listeners)")
	f.IntVar(&cfg.MQTTWriteQueue, "mqtt-write-queue", broker.DefaultWriteQueue, "embedded broker: packets each client's write queue holds; more are dropped and counted")
	f.DurationVar(&cfg.Drain, "drain", cfg.Drain, "on SIGTERM, how long sessions may go on before they are closed")
	f.DurationVar(&cfg.KeyRefresh, "key-refresh", cfg.KeyRefresh, "how often server-key changes are read from the registry")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(cmd)
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
