package reports

import "time"

// Formats of the documents this package reads and writes.
const (
	// RunFormat names the JSON of a Run (WriteJSON, ReadRun): the baseline.
	RunFormat = "shakedown-report/1"
	// MITMFormat is the format of `shakedown mitm run --out`.
	MITMFormat = "shakedown-mitm/1"
	// SimVersion is the results version of `shakedown sim --out`.
	SimVersion = 1
	// BoardsFormat names the board measurements document.
	BoardsFormat = "shakedown-boards/1"
	// TimelineFormat names a throughput timeline document.
	TimelineFormat = "shakedown-timeline/1"
)

// Run is one run's results: any section may be missing.
type Run struct {
	Format    string    `json:"format"`
	Title     string    `json:"title"`
	Generated time.Time `json:"generated"`
	// Notes are lines about the run itself (what was skipped, and why).
	Notes  []string `json:"notes,omitempty"`
	MITM   *MITM    `json:"mitm,omitempty"`
	Sim    *Sim     `json:"sim,omitempty"`
	Boards *Boards  `json:"boards,omitempty"`
	// Interrupted is true when a signal stopped the run: the results
	// cover what ran before it. SetupError says what stopped the run
	// before anything ran.
	Interrupted bool   `json:"interrupted,omitempty"`
	SetupError  string `json:"setup_error,omitempty"`
	// ShakedownVersion is the build that made the run.
	ShakedownVersion string `json:"shakedown_version,omitempty"`
}

// Sim mirrors the results of `shakedown sim --out`, with the fields the
// report shows, and a Timeline of throughput samples when the run recorded
// one.
type Sim struct {
	Version    int                         `json:"version"`
	FleetID    string                      `json:"fleet_id"`
	Scenario   SimScenario                 `json:"scenario"`
	Shards     []SimShard                  `json:"shards"`
	Counts     SimCounts                   `json:"counts"`
	Failures   map[string]map[string]int64 `json:"failures"`
	Hostile    map[string]map[string]int64 `json:"hostile"`
	Histograms map[string]*Histogram       `json:"histograms"`
	Timeline   *Timeline                   `json:"timeline,omitempty"`
	// ShakedownVersion is the build that ran the fleet.
	ShakedownVersion string `json:"shakedown_version,omitempty"`
}

// SimScenario is the part of the fleet's scenario the report prints.
// Durations are nanoseconds, as the simulator writes them.
type SimScenario struct {
	Target          string             `json:"target"`
	Devices         int                `json:"devices"`
	Mix             map[string]float64 `json:"mix"`
	Rate            float64            `json:"rate"`
	Ramp            time.Duration      `json:"ramp"`
	Hold            time.Duration      `json:"hold"`
	PublishInterval time.Duration      `json:"publish_interval"`
	QoS             byte               `json:"qos"`
	PayloadSize     int                `json:"payload_size"`
}

// SimShard is one process's run of its shard.
type SimShard struct {
	Index          int       `json:"index"`
	Count          int       `json:"count"`
	Host           string    `json:"host"`
	Started        time.Time `json:"started"`
	Ended          time.Time `json:"ended"`
	Slots          int       `json:"slots"`
	PeakActive     int       `json:"peak_active"`
	FirstConnect   time.Time `json:"first_connect"`
	LastConnect    time.Time `json:"last_connect"`
	FirstPublish   time.Time `json:"first_publish"`
	LastAck        time.Time `json:"last_ack"`
	KiBPerDevice   float64   `json:"kib_per_device"`
	GoKiBPerDevice float64   `json:"go_kib_per_device"`
	EndToEnd       bool      `json:"end_to_end"`
}

// SimCounts are the fleet's totals.
type SimCounts struct {
	Slots           int64 `json:"slots"`
	Legit           int64 `json:"legit"`
	HostileDevices  int64 `json:"hostile_devices"`
	Connected       int64 `json:"connected"`
	ConnectFailed   int64 `json:"connect_failed"`
	ConnectAttempts int64 `json:"connect_attempts"`
	Handshakes      int64 `json:"handshakes"`
	Reconnects      int64 `json:"reconnects"`
	SessionsLost    int64 `json:"sessions_lost"`
	Subscribed      int64 `json:"subscribed"`
	Published       int64 `json:"published"`
	Acked           int64 `json:"acked"`
	PublishFailed   int64 `json:"publish_failed"`
	Unpublished     int64 `json:"unpublished"`
	Received        int64 `json:"received"`
	Duplicates      int64 `json:"duplicates"`
	Missing         int64 `json:"missing"`
	Malformed       int64 `json:"malformed"`
}

// Timeline is throughput over time: cumulative counters sampled during a run.
type Timeline struct {
	Format  string   `json:"format"`
	Samples []Sample `json:"samples"`
}

// Sample is the state of the counters at one instant of a run.
type Sample struct {
	// AtMS is milliseconds since the run started.
	AtMS       int64 `json:"at_ms"`
	Connects   int64 `json:"connects"`   // CONNACKs so far
	Handshakes int64 `json:"handshakes"` // handshakes completed so far
	Acked      int64 `json:"acked"`      // publishes acknowledged so far
	Received   int64 `json:"received"`   // messages at the end-to-end subscriber so far
	Connected  int64 `json:"connected"`  // devices connected at the instant
}

// Boards are the board measurements of a run.
type Boards struct {
	Format string  `json:"format"`
	Boards []Board `json:"boards"`
	// Interrupted is true when a signal stopped the run before its end.
	Interrupted bool `json:"interrupted,omitempty"`
	// ShakedownVersion is the build that measured the boards.
	ShakedownVersion string `json:"shakedown_version,omitempty"`
}

// Board kinds.
const (
	KindVirtual  = "virtual"  // the Go board on a pseudo-terminal
	KindEmulated = "emulated" // firmware under simavr or QEMU
	KindReal     = "real"     // a board on USB
)

// Units of board counts.
const (
	UnitCycles       = "cycles"
	UnitInstructions = "instructions"
	UnitNanoseconds  = "ns"
	UnitMicroseconds = "us"
)

// Board is one board's measurements.
type Board struct {
	Name    string `json:"name"` // e.g. "atmega328p", "virtual"
	Board   string `json:"board"`
	Chip    string `json:"chip"`
	Kind    string `json:"kind"`
	ClockHz uint32 `json:"clock_hz,omitempty"`
	// Exact says the board's counts are deterministic (an emulator counts
	// them), so a baseline comparison allows them no tolerance.
	Exact      bool        `json:"exact"`
	Bench      []Bench     `json:"bench,omitempty"`
	Handshakes []Handshake `json:"handshakes,omitempty"`
	Note       string      `json:"note,omitempty"`
}

// Bench is one operation's cost on a board, in the board's own counter.
type Bench struct {
	Op         string  `json:"op"` // x25519, ecdh_p256, ecdh_secp160r1, aead_64, sha256_64, ...
	Size       int     `json:"size,omitempty"`
	Iterations int     `json:"iterations,omitempty"`
	Mean       float64 `json:"mean"`
	Min        uint64  `json:"min,omitempty"`
	Max        uint64  `json:"max,omitempty"`
	Unit       string  `json:"unit"`
	StackBytes int     `json:"stack_bytes,omitempty"`
}

// Handshake is one handshake a board ran, with its cost and the limit its
// board profile holds it to.
type Handshake struct {
	Profile string `json:"profile"`
	OK      bool   `json:"ok"`
	Reason  string `json:"reason,omitempty"`
	// Total and Crypto are the board's own counts (Unit): the whole
	// handshake and its public-key work.
	Total  uint64 `json:"total"`
	Crypto uint64 `json:"crypto"`
	Unit   string `json:"unit"`
	// BoardMS is Total as time (through the clock for cycles); 0 when the
	// unit does not convert.
	BoardMS float64 `json:"board_ms"`
	// WallMS is the host's time from request to result, relay included.
	WallMS   float64 `json:"wall_ms"`
	LimitMS  float64 `json:"limit_ms,omitempty"`
	Sent     int     `json:"sent"`
	Received int     `json:"received"`
	// Message says what ran over the session afterwards (e.g. "MQTT
	// publish received by the backend").
	Message string `json:"message,omitempty"`
}

// WithinLimit reports whether the handshake met its limit: true when it has
// none.
func (h Handshake) WithinLimit() bool {
	if h.LimitMS <= 0 {
		return true
	}
	ms := h.BoardMS
	if ms == 0 {
		ms = h.WallMS
	}
	return ms <= h.LimitMS
}
