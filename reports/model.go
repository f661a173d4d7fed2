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

// Sim is what a simulated fleet measured, the results of `shakedown sim
// --out`: counts, failures by stage and reason, hostile outcomes, one HDR
// histogram per stage, and a Timeline of throughput samples when the run
// recorded one. The simulator fills it as it runs; the results of the
// shards of one fleet merge exactly (MergeSim).
type Sim struct {
	Version  int         `json:"version"` // SimVersion
	FleetID  string      `json:"fleet_id"`
	Scenario SimScenario `json:"scenario"`
	Shards   []SimShard  `json:"shards"` // one per process, by index
	// Interrupted says the run was cut short (SIGINT, SIGTERM, a cancelled
	// context) in some shard: the results cover it up to that moment.
	Interrupted bool      `json:"interrupted"`
	Counts      SimCounts `json:"counts"`
	// Failures counts failed steps: stage -> reason -> count. Stages are
	// dial, handshake, connack, suback, publish, session (a lost session)
	// and receive; reasons are handshake reason codes and the simulator's.
	Failures map[string]map[string]int64 `json:"failures"`
	// Hostile counts what the server did with hostile connections:
	// kind -> outcome (closed, answered, held, dial_failed) -> count.
	Hostile    map[string]map[string]int64 `json:"hostile"`
	Histograms map[string]*Histogram       `json:"histograms"` // by stage (StageOrder)
	Timeline   *Timeline                   `json:"timeline,omitempty"`
	// Seconds is the run second by second (SimSecond), sorted by At: every
	// run of the simulator writes it, and MergeSim merges it exactly.
	Seconds []SimSecond `json:"seconds,omitempty"`
	// Capacity is the search of `sim --capacity`: the knee and the curve.
	Capacity *SimCapacity `json:"capacity,omitempty"`
	// ShakedownVersion is the build that wrote the results.
	ShakedownVersion string `json:"shakedown_version,omitempty"`
}

// SimScenario is the part of a fleet's scenario that shapes its figures and
// judges them: the simulator's scenario file embeds it, hence the YAML
// names. Durations are nanoseconds in JSON.
type SimScenario struct {
	Target  string             `yaml:"target" json:"target"` // gateway or broker
	Devices int                `yaml:"devices" json:"devices"`
	Mix     map[string]float64 `yaml:"mix" json:"mix"` // kind -> weight
	// Rate is the arrival rate in connections per second once the ramp is
	// over; 0 starts every device at once. Arrivals are open loop: a device
	// starts at its scheduled time whether or not earlier ones are done.
	Rate float64       `yaml:"rate" json:"rate"`
	Ramp time.Duration `yaml:"ramp" json:"ramp"` // the rate rises linearly from 0 to Rate over Ramp
	// Hold is how long each device stays connected after its subscriptions.
	Hold time.Duration `yaml:"hold" json:"hold"`
	// PublishInterval spaces a device's publishes; Hold/PublishInterval
	// messages per device. 0: no publishing.
	PublishInterval time.Duration `yaml:"publish_interval" json:"publish_interval"`
	QoS             byte          `yaml:"qos" json:"qos"`
	PayloadSize     int           `yaml:"payload_size" json:"payload_size"`
	// Thresholds are the run's pass/fail criteria ("connect.p99<2s"),
	// judged on the results together with the defaults they do not replace.
	Thresholds []string `yaml:"thresholds" json:"thresholds,omitempty"`
}

// SimShard is one process's run of its shard.
type SimShard struct {
	Index      int       `json:"index"`
	Count      int       `json:"count"`
	Host       string    `json:"host"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
	Slots      int       `json:"slots"`
	PeakActive int       `json:"peak_active"` // most devices connected at once
	// Connects, handshakes and publishes span these times (for rates).
	FirstConnect   time.Time `json:"first_connect"`
	LastConnect    time.Time `json:"last_connect"`
	FirstHandshake time.Time `json:"first_handshake"`
	LastHandshake  time.Time `json:"last_handshake"`
	FirstPublish   time.Time `json:"first_publish"`
	LastAck        time.Time `json:"last_ack"`
	// RampEnd is when the shard's last device first connected: the ramp
	// ends there. SteadyEnd is when its first device ended its hold, or the
	// run was interrupted: the steady state lies between (Sim.Phases).
	RampEnd   time.Time `json:"ramp_end,omitzero"`
	SteadyEnd time.Time `json:"steady_end,omitzero"`
	// Memory at the peak, against the baseline before the first device:
	// resident set size (Linux), and the Go runtime's heap and stacks in use.
	BaselineRSS    uint64  `json:"baseline_rss"`
	RSSAtPeak      uint64  `json:"rss_at_peak"`
	BaselineGo     uint64  `json:"baseline_go"`
	GoAtPeak       uint64  `json:"go_at_peak"`
	GoroutinesPeak int     `json:"goroutines_at_peak"`
	KiBPerDevice   float64 `json:"kib_per_device"`    // (RSSAtPeak - BaselineRSS) / PeakActive; 0 when too few devices connected
	GoKiBPerDevice float64 `json:"go_kib_per_device"` // (GoAtPeak - BaselineGo) / PeakActive
	// Settled memory: resident set size after runtime.GC and
	// debug.FreeOSMemory, with the fixtures loaded and no device connected
	// (SettledBaselineRSS), and once every device the shard started was
	// connected and the count had held still (SettledRSS, at SettledActive
	// devices). Zero when the shard never got there.
	SettledBaselineRSS  uint64  `json:"settled_baseline_rss,omitzero"`
	SettledRSS          uint64  `json:"settled_rss,omitzero"`
	SettledActive       int     `json:"settled_active,omitzero"`
	SettledKiBPerDevice float64 `json:"settled_kib_per_device,omitzero"` // (SettledRSS - SettledBaselineRSS) / SettledActive
	FDLimit             uint64  `json:"fd_limit"`
	Clamped             int64   `json:"clamped"`    // latencies past the histograms' range, recorded as its top
	EndToEnd            bool    `json:"end_to_end"` // a subscriber received: Received and Missing mean something
	Interrupted         bool    `json:"interrupted"`
}

// SimCounts are the fleet's totals; each sums over shards.
type SimCounts struct {
	Slots           int64 `json:"slots"`               // devices this result covers
	Legit           int64 `json:"legit"`               // legitimate devices among them
	HostileDevices  int64 `json:"hostile_devices"`     // hostile devices among them
	Connected       int64 `json:"connected"`           // devices that got a CONNACK
	ConnectFailed   int64 `json:"connect_failed"`      // legitimate devices that never did
	DevicesLost     int64 `json:"devices_lost"`        // legitimate devices that never connected or whose session ended for good before their hold was over
	ConnectAttempts int64 `json:"connect_attempts"`    // every attempt, reconnects included
	Handshakes      int64 `json:"handshakes"`          // completed handshakes
	Reconnects      int64 `json:"reconnects"`          // CONNACKs after the first of a device
	SessionsLost    int64 `json:"sessions_lost"`       // sessions the network or server ended
	Subscribed      int64 `json:"subscribed"`          // devices whose SUBACK granted every filter
	Published       int64 `json:"published"`           // PUBLISH packets handed to the client
	Acked           int64 `json:"acked"`               // publishes acknowledged (written, for QoS 0)
	PublishFailed   int64 `json:"publish_failed"`      // publishes that failed or were never acknowledged
	Unpublished     int64 `json:"unpublished"`         // scheduled publishes of devices that were not connected
	Received        int64 `json:"received"`            // distinct messages at the subscriber
	Duplicates      int64 `json:"duplicates"`          // repeated deliveries (QoS 1)
	Missing         int64 `json:"missing"`             // acknowledged messages that never arrived
	Malformed       int64 `json:"malformed"`           // payloads at the subscriber without a valid header
	Delivered       int64 `json:"delivered,omitempty"` // messages the devices' own subscriptions received (sim sub)
	NotStarted      int64 `json:"not_started"`         // slots the interruption kept from starting
	CutShort        int64 `json:"cut_short"`           // legitimate devices the interruption ended before their hold was over
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
