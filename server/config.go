package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"shakedown/handshake"
	"shakedown/server/broker"
)

// Config is `shakedown serve`'s configuration: a YAML file, then flags.
type Config struct {
	// Registry is the registry DSN: sqlite:PATH, a bare path, or postgres://…
	Registry string `yaml:"registry"`
	// Listen maps each profile to its listener address; an empty address
	// turns the profile off. The defaults listen on loopback only, and
	// leave the insecure profiles (seed, psk) off: they start only when
	// given an address.
	Listen map[handshake.Name]string `yaml:"listen"`
	// PlainMQTT is a plain MQTT listener without handshake, off when empty:
	// a baseline for comparisons, never for devices.
	PlainMQTT string `yaml:"plain_mqtt"`
	// Backend is the listener of backend MQTT clients (dashboards, the
	// simulator's subscriber), with BackendUser and BackendPassword.
	Backend         string `yaml:"backend"`
	BackendUser     string `yaml:"backend_user"`
	BackendPassword string `yaml:"backend_password"`
	// Broker is empty for the embedded broker, or tcp://host:port to bridge
	// every device session to an external broker.
	Broker string `yaml:"broker"`
	// Metrics is the address of /metrics and /healthz; off when empty.
	Metrics string `yaml:"metrics"`
	// Pprof is the address of Go's profiling endpoints, /debug/pprof/
	// (net/http/pprof); off when empty, the default. They show the
	// server's internals and cost CPU while a profile runs: bind loopback.
	Pprof string `yaml:"pprof"`
	// NoisePattern is IK (default), XK or KK.
	NoisePattern string `yaml:"noise_pattern"`
	// TLSCert and TLSKey are the broker certificate chain and key (PEM) of
	// the tls profile.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Grants maps a device ID, or "*" for every device, to topic filters
	// the device may use besides devices/{id}/.
	Grants map[string][]string `yaml:"grants"`
	// Limits bound each client (Limits; a per_source_rate of 0 is off).
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	MaxHalfOpen      int           `yaml:"max_half_open"`
	PerSourceRate    float64       `yaml:"per_source_rate"`
	PerSourceBurst   int           `yaml:"per_source_burst"`
	// ConnectTimeout bounds the wait for a client's MQTT CONNECT: after a
	// device's handshake, and after accept on the plain and backend
	// listeners.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// MQTTWriteQueue is the embedded broker's per-client queue of packets
	// waiting to be written; a packet for a full queue is dropped and
	// counted (shakedown_mqtt_dropped_total). 0: broker.DefaultWriteQueue.
	MQTTWriteQueue int `yaml:"mqtt_write_queue"`
	// IdleGCPercent is the collector's target (GOGC) while the server
	// allocates little (under 8 MiB a second); busy, it is Go's default of
	// 100. 0 turns it off, and so does GOGC in the environment.
	IdleGCPercent int `yaml:"idle_gc_percent"`
	// Drain is how long SIGTERM waits for sessions to end before closing them.
	Drain time.Duration `yaml:"drain"`
	// KeyRefresh is how often the server keys are re-read from the registry,
	// so that `shakedown serverkey announce|promote` takes effect live.
	KeyRefresh time.Duration `yaml:"key_refresh"`
}

// DefaultIdleGCPercent is Config.IdleGCPercent's default. With 19,744 idle
// noise sessions, each pinging every 30 s, it held the server's resident
// memory at 36.5 KiB a session, where Go's default had it at 48.6 KiB and
// climbing (docs/benchmarks.md, "The floor: mochi by itself").
const DefaultIdleGCPercent = 25

// DefaultConfig is the configuration of `shakedown serve` without a file or
// flags: every listener on loopback, the insecure profiles off, the
// per-source admission limits on (DefaultLimits).
func DefaultConfig() Config {
	return Config{
		Registry: "sqlite:shakedown.db",
		Listen: map[handshake.Name]string{
			handshake.Noise: "127.0.0.1:8885",
			handshake.Seed:  "", // insecure: on request only (port 8886 by convention)
			handshake.PSK:   "", // insecure: on request only (port 8887 by convention)
			handshake.TLS:   "127.0.0.1:8883",
		},
		Backend:          "127.0.0.1:1884",
		BackendUser:      "backend",
		Metrics:          "127.0.0.1:9185",
		NoisePattern:     "IK",
		HandshakeTimeout: DefaultLimits.HandshakeTimeout,
		MaxHalfOpen:      DefaultLimits.MaxHalfOpen,
		PerSourceRate:    DefaultLimits.PerSourceRate,
		PerSourceBurst:   DefaultLimits.PerSourceBurst,
		ConnectTimeout:   broker.DefaultConnectTimeout,
		Drain:            10 * time.Second,
		KeyRefresh:       2 * time.Second,
		IdleGCPercent:    DefaultIdleGCPercent,
	}
}

// LoadConfig reads a YAML file over the defaults. Unknown fields are errors.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	f, err := os.Open(path)
	if err != nil {
		return cfg, fmt.Errorf("server: reading config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("server: config %s: %w", path, err)
	}
	return cfg, cfg.Check()
}

// Check validates a configuration.
func (c Config) Check() error {
	for p := range c.Listen {
		if _, err := handshake.ParseName(string(p)); err != nil {
			return fmt.Errorf("server: listen: %w", err)
		}
	}
	if c.Listen[handshake.TLS] != "" && (c.TLSCert == "" || c.TLSKey == "") {
		return errors.New("server: the tls listener needs tls_cert and tls_key (or --fixtures)")
	}
	if c.Backend != "" && c.BackendPassword == "" && c.Broker == "" {
		return errors.New("server: the backend listener needs backend_password (flag --backend-password or SHAKEDOWN_BACKEND_PASSWORD)")
	}
	if c.HandshakeTimeout <= 0 || c.MaxHalfOpen <= 0 || c.ConnectTimeout <= 0 || c.Drain < 0 {
		return errors.New("server: handshake_timeout, max_half_open and connect_timeout must be positive, drain not negative")
	}
	if c.PerSourceRate < 0 {
		return errors.New("server: per_source_rate must not be negative (0 turns it off)")
	}
	if c.PerSourceRate > 0 && c.PerSourceBurst < 1 {
		return errors.New("server: per_source_burst must be at least 1 when per_source_rate is on")
	}
	if c.IdleGCPercent < 0 || c.IdleGCPercent > 100 {
		return errors.New("server: idle_gc_percent must be between 0 (off) and 100")
	}
	if err := broker.CheckWriteQueue(c.MQTTWriteQueue); err != nil {
		return fmt.Errorf("server: mqtt_write_queue: %w", err)
	}
	return nil
}

// Limits returns the configured limits.
func (c Config) Limits() Limits {
	return Limits{HandshakeTimeout: c.HandshakeTimeout, MaxHalfOpen: c.MaxHalfOpen, PerSourceRate: c.PerSourceRate, PerSourceBurst: c.PerSourceBurst}
}
