package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	"shakedown/reports"
)

// Target is what the simulated devices connect to (SimScenario.Target).
type Target = string

const (
	// TargetGateway: the reference server's handshake listeners, one per profile.
	TargetGateway Target = "gateway"
	// TargetBroker: plain MQTT, or MQTT over TLS, straight to any broker.
	TargetBroker Target = "broker"
)

// Reconnect policies.
const (
	ReconnectNone      = "none"      // a failed connect or a lost session ends the device
	ReconnectImmediate = "immediate" // try again at once, up to MaxAttempts times
	ReconnectBackoff   = "backoff"   // try again after Backoff, doubling each time
)

// Hostile kinds: what a hostile device sends instead of a handshake.
const (
	HostileGarbage  = "garbage"  // a frame of random bytes
	HostileReplay   = "replay"   // the bytes of its own earlier handshake's first flight
	HostileHalfOpen = "halfopen" // a TCP connection that never starts the handshake
)

// HostileKinds lists the hostile kinds in a stable order.
var HostileKinds = []string{HostileGarbage, HostileReplay, HostileHalfOpen}

// Device kinds of Scenario.Mix: the profiles, and the seed profile split by curve.
const (
	KindSeedP256      = "seed-p256"
	KindSeedSecp160r1 = "seed-secp160r1"
)

// Kinds lists the keys Scenario.Mix accepts, in the order slots are dealt.
var Kinds = []string{string(handshake.Noise), string(handshake.Seed), KindSeedP256, KindSeedSecp160r1, string(handshake.PSK), string(handshake.TLS)}

// Limits of a scenario.
const (
	maxKeepAlive   = 65535 * time.Second // the CONNECT's Keep Alive field is 16-bit seconds (MQTT 3.1.1 §3.1.2.10)
	MaxDevices     = 1_000_000
	MaxPayloadSize = 1 << 20
	maxMessages    = 1 << 20 // messages per device
)

// Scenario is a fleet and where it goes: the YAML file of `shakedown sim`.
// Every field has a flag of the same name (see the command's --help).
type Scenario struct {
	// The fleet's shape (target, devices, mix, rate, ramp, hold,
	// publish_interval, qos, payload_size) and its thresholds: the part the
	// results keep for the report (reports.SimScenario). Thresholds are
	// judged by Evaluate together with the DefaultThresholds they do not
	// replace; they do not shape the fleet: FleetID leaves them out.
	reports.SimScenario `yaml:",inline"`
	// Topic is the publish topic; {id} stands for the device's client ID.
	Topic string `yaml:"topic" json:"topic"`
	// Subscriptions are the topic filters each device subscribes to ({id} as in Topic).
	Subscriptions []string `yaml:"subscriptions" json:"subscriptions"`
	// KeepAlive is the MQTT keep-alive; 0 (the default) turns it off. Each
	// device's publishes keep its session busy, and a keep-alive costs paho a
	// goroutine and a ticker per device.
	KeepAlive time.Duration `yaml:"keepalive" json:"keepalive"`
	// Engine runs the devices' MQTT: EnginePaho (paho.mqtt.golang, the
	// reference client), EngineLean (paho's packet codec under one reader
	// goroutine per device), or EngineAuto (empty): lean above LeanAbove
	// devices, paho up to it. Results record the engine that ran.
	Engine string `yaml:"engine" json:"engine,omitempty"`
	// Receivers is how many end-to-end subscribers share the fleet's
	// messages: above 1 they hold one shared subscription
	// ($share/GROUP/FILTER, MQTT 5 §4.8.2), so the broker hands each message
	// to one of them and queues it for that one alone. A broker keeps a
	// bounded queue per client and drops a message for a full one, so a
	// single subscriber falls behind first when the machine is saturated.
	// 0 (the default): 1 up to LeanAbove devices, ReceiversAbove above.
	Receivers    int       `yaml:"receivers" json:"receivers,omitempty"`
	Reconnect    Reconnect `yaml:"reconnect" json:"reconnect"`
	Hostile      Hostile   `yaml:"hostile" json:"hostile"`
	Timeouts     Timeouts  `yaml:"timeouts" json:"timeouts"`
	NoisePattern string    `yaml:"noise_pattern" json:"noise_pattern"` // IK, XK or KK
	TLSMode      string    `yaml:"tls_mode" json:"tls_mode"`           // the tls devices' check
	// TLSAuth is how tls devices prove themselves: TLSAuthCertificate (a
	// client certificate, mutual TLS; the default) or TLSAuthPassword (the
	// MQTT password of the CONNECT).
	TLSAuth string `yaml:"tls_auth" json:"tls_auth"`

	// Where devices come from and where they go.
	Fixtures    Fixtures          `yaml:"fixtures" json:"fixtures"`
	Gateway     map[string]string `yaml:"gateway" json:"gateway"` // profile -> host:port
	Backend     Backend           `yaml:"backend" json:"backend"`
	Broker      Broker            `yaml:"broker" json:"broker"`
	SourceAddrs string            `yaml:"source_addrs" json:"source_addrs"` // "127.0.0.2-127.0.0.20,10.0.0.5"
	MetricsAddr string            `yaml:"metrics_addr" json:"metrics_addr"`
}

// Device engines (Scenario.Engine).
const (
	EngineAuto = ""     // EngineLean above LeanAbove devices, else EnginePaho
	EnginePaho = "paho" // paho.mqtt.golang: ten goroutines and 39-61 KiB per noise device
	EngineLean = "lean" // paho's packet codec, one reader goroutine per device
)

// LeanAbove is the largest fleet EngineAuto runs on paho. Up to it, paho's
// cost (39-61 KiB and ten goroutines per device, under 60 MiB and 10,000
// goroutines in all) is small beside a machine's memory and the reference
// client's fidelity is worth it: every fidelity spec and the default fleet
// run paho. Above it, paho's cost is what limits a fleet on one machine
// (docs/benchmarks.md, "Memory per device").
const LeanAbove = 1000

// EngineOf is the engine the scenario's fleet runs on.
func (s *Scenario) EngineOf() string {
	if s.Engine != EngineAuto {
		return s.Engine
	}
	if s.Devices > LeanAbove {
		return EngineLean
	}
	return EnginePaho
}

// ReceiversAbove is the number of end-to-end subscribers of a fleet of more
// than LeanAbove devices when the scenario names none; MaxReceivers bounds
// the number a scenario may name.
const (
	ReceiversAbove = 4
	MaxReceivers   = 64
)

// ReceiversOf is the number of end-to-end subscribers the fleet runs.
func (s *Scenario) ReceiversOf() int {
	switch {
	case s.Receivers > 0:
		return s.Receivers
	case s.Devices > LeanAbove:
		return ReceiversAbove
	}
	return 1
}

// Reconnect is what a device does after a failed connect or a lost session.
type Reconnect struct {
	Policy      string        `yaml:"policy" json:"policy"`
	MaxAttempts int           `yaml:"max_attempts" json:"max_attempts"`
	Backoff     time.Duration `yaml:"backoff" json:"backoff"`
}

// Hostile mixes misbehaving devices into the legitimate load.
type Hostile struct {
	Share float64  `yaml:"share" json:"share"` // fraction of the slots, 0..1
	Kinds []string `yaml:"kinds" json:"kinds"` // dealt round robin to the hostile slots
	// Timeout is how long a hostile device waits for the server's answer
	// (longer than the server's handshake timeout, to see it enforced).
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// Timeouts bound each step of a device.
type Timeouts struct {
	Handshake time.Duration `yaml:"handshake" json:"handshake"` // TCP connect, handshake and CONNACK
	Ack       time.Duration `yaml:"ack" json:"ack"`             // SUBACK, PUBACK, PUBCOMP
	Drain     time.Duration `yaml:"drain" json:"drain"`         // wait for the last messages to arrive
}

// Fixtures names the fixture set the device identities come from: a
// directory, or a seed to build the same set in memory.
type Fixtures struct {
	Dir               string `yaml:"dir" json:"dir"`
	Seed              string `yaml:"seed" json:"seed"`
	DevicesPerProfile int    `yaml:"devices_per_profile" json:"devices_per_profile"`
	Now               string `yaml:"now" json:"now"` // RFC 3339
}

// Backend is the gateway's backend listener, where the end-to-end
// subscriber connects (for the broker target too, when it is set: the
// gateway's plain-MQTT baseline listener lets a client use only its own
// topics).
type Backend struct {
	Addr     string `yaml:"addr" json:"addr"`
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"-"`
}

// Broker is a plain MQTT broker for TargetBroker.
type Broker struct {
	Addr       string `yaml:"addr" json:"addr"`
	TLS        bool   `yaml:"tls" json:"tls"`
	CAFile     string `yaml:"ca_file" json:"ca_file"`         // PEM roots; the fixture CA when empty and fixtures are set
	ServerName string `yaml:"server_name" json:"server_name"` // the name to verify; the host of Addr when empty
	Insecure   bool   `yaml:"insecure" json:"insecure"`       // accept any certificate
	Username   string `yaml:"username" json:"username"`
	Password   string `yaml:"password" json:"-"`
	ClientID   string `yaml:"client_id" json:"client_id"` // client ID template, {n} the slot number
}

// DefaultScenario is the scenario of `shakedown sim` without a file or flags.
func DefaultScenario() Scenario {
	return Scenario{
		SimScenario: reports.SimScenario{
			Target:          TargetGateway,
			Devices:         100,
			Mix:             map[string]float64{string(handshake.Noise): 1},
			Rate:            100,
			Hold:            10 * time.Second,
			PublishInterval: time.Second,
			QoS:             1,
			PayloadSize:     64,
		},
		Topic:         "devices/{id}/telemetry",
		Subscriptions: []string{"devices/{id}/cmd"},
		KeepAlive:     60 * time.Second,
		Reconnect:     Reconnect{Policy: ReconnectNone, MaxAttempts: 3, Backoff: time.Second},
		Hostile:       Hostile{Kinds: slices.Clone(HostileKinds), Timeout: 15 * time.Second},
		Timeouts:      Timeouts{Handshake: 10 * time.Second, Ack: 10 * time.Second, Drain: 10 * time.Second},
		NoisePattern:  string(noise.IK),
		TLSMode:       string(tlsprofile.CA),
		TLSAuth:       TLSAuthCertificate,
		Gateway:       map[string]string{},
		Backend:       Backend{Username: "backend"},
		Broker:        Broker{ClientID: "sim-{n}"},
	}
}

// ScenarioError is a scenario that cannot run: a field and what is wrong with it.
type ScenarioError struct {
	Field string // the YAML key, dotted
	Err   error
}

func (e *ScenarioError) Error() string {
	return "simulator: scenario: " + e.Field + ": " + e.Err.Error()
}
func (e *ScenarioError) Unwrap() error { return e.Err }

func bad(field, format string, a ...any) error {
	return &ScenarioError{Field: field, Err: fmt.Errorf(format, a...)}
}

// maxScenarioSize bounds a scenario file.
const maxScenarioSize = 1 << 20

// ParseScenario reads a YAML scenario over the defaults: a key that is
// absent keeps its default, a key that is present replaces it (maps and
// lists whole). Unknown keys are refused. The result is checked.
func ParseScenario(r io.Reader) (Scenario, error) {
	s, err := DecodeScenario(r)
	if err != nil {
		return Scenario{}, err
	}
	if err := s.Check(); err != nil {
		return Scenario{}, err
	}
	return s, nil
}

// DecodeScenario is ParseScenario without the check, for a caller that
// fills in fields (the gateway's addresses, the fixtures) before it checks.
func DecodeScenario(r io.Reader) (Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxScenarioSize+1))
	if err != nil {
		return Scenario{}, fmt.Errorf("simulator: reading the scenario: %w", err)
	}
	if len(data) > maxScenarioSize {
		return Scenario{}, &ScenarioError{Field: "(file)", Err: errors.New("longer than 1 MiB")}
	}
	s := DefaultScenario()
	def := DefaultScenario()
	s.Mix, s.Gateway = nil, nil // present maps replace the defaults instead of merging
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Scenario{}, &ScenarioError{Field: "(file)", Err: yamlError(err)}
	}
	if s.Mix == nil {
		s.Mix = def.Mix
	}
	if s.Gateway == nil {
		s.Gateway = def.Gateway
	}
	return s, nil
}

// yamlError keeps the decoder's message (line numbers and key names of the
// user's own file) but drops the wrapping.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// LoadScenario reads the scenario file at path.
func LoadScenario(path string) (Scenario, error) {
	s, err := ReadScenario(path)
	if err != nil {
		return Scenario{}, err
	}
	if err := s.Check(); err != nil {
		return Scenario{}, err
	}
	return s, nil
}

// ReadScenario reads the scenario file at path without checking it
// (DecodeScenario).
func ReadScenario(path string) (Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("simulator: opening the scenario: %w", err)
	}
	defer f.Close()
	return DecodeScenario(f)
}

// Check reports the first field that makes the scenario unrunnable.
func (s *Scenario) Check() error {
	switch s.Target {
	case TargetGateway, TargetBroker:
	default:
		return bad("target", "want gateway or broker")
	}
	if s.Devices < 1 || s.Devices > MaxDevices {
		return bad("devices", "want 1-%d", MaxDevices)
	}
	if err := s.checkMix(); err != nil {
		return err
	}
	switch {
	case !finite(s.Rate) || s.Rate < 0:
		return bad("rate", "want connections per second, 0 or more")
	case s.Ramp < 0:
		return bad("ramp", "negative")
	case s.Ramp > 0 && s.Rate == 0:
		return bad("ramp", "a ramp needs a rate")
	case s.Hold < 0:
		return bad("hold", "negative")
	case s.PublishInterval < 0:
		return bad("publish_interval", "negative")
	case s.QoS > 2:
		return bad("qos", "want 0, 1 or 2")
	case s.PayloadSize < PayloadHeaderLen || s.PayloadSize > MaxPayloadSize:
		return bad("payload_size", "want %d-%d bytes (the payload carries a %d-byte header)", PayloadHeaderLen, MaxPayloadSize, PayloadHeaderLen)
	case s.KeepAlive < 0 || s.KeepAlive > 0 && s.KeepAlive < time.Second:
		return bad("keepalive", "want 0 (off) or at least 1s")
	case s.KeepAlive > maxKeepAlive:
		return bad("keepalive", "want at most %v (MQTT's 16-bit seconds)", maxKeepAlive)
	case s.Engine != EngineAuto && s.Engine != EnginePaho && s.Engine != EngineLean:
		return bad("engine", "want paho, lean or empty (lean above %d devices)", LeanAbove)
	case s.Receivers < 0 || s.Receivers > MaxReceivers:
		return bad("receivers", "want 0-%d (0: 1 up to %d devices, %d above)", MaxReceivers, LeanAbove, ReceiversAbove)
	}
	if s.PublishInterval > 0 && s.Hold/s.PublishInterval > maxMessages {
		return bad("publish_interval", "more than %d messages per device", maxMessages)
	}
	if err := checkTopic(s.Topic); err != nil {
		return bad("topic", "%v", err)
	}
	for _, f := range s.Subscriptions {
		if err := checkFilter(f); err != nil {
			return bad("subscriptions", "%v", err)
		}
	}
	if err := s.checkBehaviour(); err != nil {
		return err
	}
	if s.SourceAddrs != "" {
		if _, err := ParseSourceAddrs(s.SourceAddrs); err != nil {
			return bad("source_addrs", "%v", err)
		}
	}
	if len(s.Thresholds) > MaxThresholds {
		return bad("thresholds", "more than %d", MaxThresholds)
	}
	for _, e := range s.Thresholds {
		if _, err := ParseThreshold(e); err != nil {
			var te *ThresholdError
			if errors.As(err, &te) {
				return bad("thresholds", "%s: %s", quoteExpr(te.Expr), te.Reason)
			}
			return &ScenarioError{Field: "thresholds", Err: err}
		}
	}
	return s.checkTarget()
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func (s *Scenario) checkMix() error {
	if len(s.Mix) == 0 {
		return bad("mix", "empty")
	}
	for k, w := range s.Mix {
		if !slices.Contains(Kinds, k) {
			return bad("mix", "unknown kind (want %s)", strings.Join(Kinds, ", "))
		}
		if !finite(w) || w <= 0 {
			return bad("mix", "weights must be positive")
		}
	}
	_, both := s.Mix[string(handshake.Seed)]
	_, p256 := s.Mix[KindSeedP256]
	_, secp := s.Mix[KindSeedSecp160r1]
	if both && (p256 || secp) {
		return bad("mix", "seed already holds seed-p256 and seed-secp160r1; name either seed or the curves")
	}
	return nil
}

func (s *Scenario) checkBehaviour() error {
	r := s.Reconnect
	switch {
	case r.Policy != ReconnectNone && r.Policy != ReconnectImmediate && r.Policy != ReconnectBackoff:
		return bad("reconnect.policy", "want none, immediate or backoff")
	case r.MaxAttempts < 0 || r.MaxAttempts > 1000:
		return bad("reconnect.max_attempts", "want 0-1000")
	case r.Backoff < 0:
		return bad("reconnect.backoff", "negative")
	}
	h := s.Hostile
	switch {
	case !finite(h.Share) || h.Share < 0 || h.Share > 1:
		return bad("hostile.share", "want 0..1")
	case h.Share > 0 && len(h.Kinds) == 0:
		return bad("hostile.kinds", "empty")
	case h.Share > 0 && h.Timeout <= 0:
		return bad("hostile.timeout", "want a positive duration")
	}
	for _, k := range h.Kinds {
		if !slices.Contains(HostileKinds, k) {
			return bad("hostile.kinds", "unknown kind (want %s)", strings.Join(HostileKinds, ", "))
		}
	}
	t := s.Timeouts
	if t.Handshake <= 0 || t.Ack <= 0 || t.Drain < 0 {
		return bad("timeouts", "handshake and ack must be positive, drain not negative")
	}
	if _, err := noise.ParsePattern(s.NoisePattern); err != nil {
		return bad("noise_pattern", "want IK, XK or KK")
	}
	if _, err := tlsprofile.ParseMode(s.TLSMode); err != nil {
		return bad("tls_mode", "want none, fingerprint, spki, ca or ca-noclock")
	}
	if s.TLSAuth != TLSAuthCertificate && s.TLSAuth != TLSAuthPassword {
		return bad("tls_auth", "want %s or %s", TLSAuthCertificate, TLSAuthPassword)
	}
	return nil
}

// How tls devices authenticate (Scenario.TLSAuth).
const (
	TLSAuthCertificate = "certificate"
	TLSAuthPassword    = "password"
)

func (s *Scenario) checkTarget() error {
	if s.Target == TargetBroker {
		if s.Broker.Addr == "" {
			return bad("broker.addr", "the broker target needs an address")
		}
		if !strings.Contains(s.Broker.ClientID, "{n}") {
			return bad("broker.client_id", "needs {n} so client IDs differ")
		}
		return nil
	}
	f := s.Fixtures
	switch {
	case f.Dir == "" && f.Seed == "":
		return bad("fixtures", "the gateway target needs a fixture directory or seed")
	case f.Dir != "" && f.Seed != "":
		return bad("fixtures", "name a directory or a seed, not both")
	case f.DevicesPerProfile < 0:
		return bad("fixtures.devices_per_profile", "negative")
	}
	if f.Now != "" {
		if _, err := time.Parse(time.RFC3339, f.Now); err != nil {
			return bad("fixtures.now", "want RFC 3339")
		}
	}
	for k := range s.Mix {
		p := profileOfKind(k)
		if s.Gateway[string(p)] == "" {
			return bad("gateway", "no address for the %s listener", p)
		}
	}
	for p := range s.Gateway {
		if _, err := handshake.ParseName(p); err != nil {
			return bad("gateway", "unknown profile (want noise, seed, psk or tls)")
		}
	}
	return nil
}

// profileOfKind maps a mix kind to its profile.
func profileOfKind(k string) handshake.Name {
	if strings.HasPrefix(k, string(handshake.Seed)) {
		return handshake.Seed
	}
	return handshake.Name(k)
}

// HoldForeverMessages is the most messages a device publishes when it is
// held until the run is interrupted (Hold 0): at one a second, 18 hours.
const HoldForeverMessages = 1 << 16

// Messages is the number of messages each device publishes: Hold /
// PublishInterval, or at most HoldForeverMessages when Hold is 0 (the
// devices stay until the run is interrupted).
func (s *Scenario) Messages() int {
	switch {
	case s.PublishInterval <= 0:
		return 0
	case s.Hold == 0:
		return HoldForeverMessages
	}
	return int(s.Hold / s.PublishInterval)
}

// FleetID names the fleet: a digest of every field that shapes what the
// devices do (not where they connect), so shard results of the same fleet
// can be recognised and merged.
func (s *Scenario) FleetID() string {
	f := struct {
		Target                                 Target
		Devices                                int
		Mix                                    map[string]float64
		Rate                                   float64
		Ramp, Hold, PublishInterval, KeepAlive time.Duration
		QoS                                    byte
		PayloadSize                            int
		Topic                                  string
		Subscriptions                          []string
		Reconnect                              Reconnect
		Hostile                                Hostile
		NoisePattern, TLSMode, FixSeed         string
		FixDevices                             int
		TLSAuth                                string `json:",omitempty"` // empty for the default: older fingerprints stay
	}{s.Target, s.Devices, s.Mix, s.Rate, s.Ramp, s.Hold, s.PublishInterval, s.KeepAlive, s.QoS, s.PayloadSize,
		s.Topic, s.Subscriptions, s.Reconnect, s.Hostile, s.NoisePattern, s.TLSMode, s.Fixtures.Seed, s.Fixtures.DevicesPerProfile, ""}
	if s.TLSAuth != TLSAuthCertificate {
		f.TLSAuth = s.TLSAuth
	}
	b, _ := json.Marshal(f) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// checkTopic accepts a topic name whose {id} placeholders are whole levels.
func checkTopic(t string) error {
	if err := checkFilter(t); err != nil {
		return err
	}
	if strings.ContainsAny(t, "+#") {
		return errors.New("a publish topic has no wildcards")
	}
	return nil
}

// checkFilter accepts a topic filter (MQTT 3.1.1 §4.7) whose {id}
// placeholders are whole levels.
func checkFilter(f string) error {
	if f == "" || len(f) > 1024 {
		return errors.New("want 1-1024 bytes")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return errors.New("# only as the last level")
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return errors.New("wildcards only as whole levels")
		case strings.Contains(l, "{id}") && l != "{id}":
			return errors.New("{id} only as a whole level")
		case strings.ContainsRune(l, 0):
			return errors.New("no NUL characters")
		}
	}
	return nil
}

// expand puts the client ID in place of {id}.
func expand(template, id string) string { return strings.ReplaceAll(template, "{id}", id) }

// receiverFilter is the filter that matches every device's publish topic.
func receiverFilter(topic string) string { return strings.ReplaceAll(topic, "{id}", "+") }
