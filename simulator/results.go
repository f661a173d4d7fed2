package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"time"
)

// ResultsVersion is the version of the results JSON this package writes and reads.
const ResultsVersion = 1

// Results is what a run measured: counts, failures by stage and reason,
// hostile outcomes, and one HDR histogram per stage. Results of the shards
// of one fleet merge exactly (Merge).
type Results struct {
	Version  int        `json:"version"`
	FleetID  string     `json:"fleet_id"`
	Scenario Scenario   `json:"scenario"`
	Shards   []ShardRun `json:"shards"` // one per process, by index
	// Interrupted says the run was cut short (SIGINT, SIGTERM, a cancelled
	// context) in some shard: the results cover it up to that moment.
	Interrupted bool   `json:"interrupted"`
	Counts      Counts `json:"counts"`
	// Failures counts failed steps: stage -> reason -> count. Stages are
	// dial, handshake, connack, suback, publish, session (a lost session)
	// and receive; reasons are handshake reason codes and the simulator's.
	Failures map[string]map[string]int64 `json:"failures"`
	// Hostile counts what the server did with hostile connections:
	// kind -> outcome (closed, answered, held, dial_failed) -> count.
	Hostile    map[string]map[string]int64 `json:"hostile"`
	Histograms map[Stage]*Snapshot         `json:"histograms"`
	// ShakedownVersion is the build that wrote the file (set by its writer).
	ShakedownVersion string `json:"shakedown_version,omitempty"`
}

// Counts are the run's totals; each sums over shards.
type Counts struct {
	Slots           int64 `json:"slots"`            // devices this result covers
	Legit           int64 `json:"legit"`            // legitimate devices among them
	HostileDevices  int64 `json:"hostile_devices"`  // hostile devices among them
	Connected       int64 `json:"connected"`        // devices that got a CONNACK
	ConnectFailed   int64 `json:"connect_failed"`   // legitimate devices that never did
	DevicesLost     int64 `json:"devices_lost"`     // legitimate devices that never connected or whose session ended for good before their hold was over
	ConnectAttempts int64 `json:"connect_attempts"` // every attempt, reconnects included
	Handshakes      int64 `json:"handshakes"`       // completed handshakes
	Reconnects      int64 `json:"reconnects"`       // CONNACKs after the first of a device
	SessionsLost    int64 `json:"sessions_lost"`    // sessions the network or server ended
	Subscribed      int64 `json:"subscribed"`       // devices whose SUBACK granted every filter
	Published       int64 `json:"published"`        // PUBLISH packets handed to the client
	Acked           int64 `json:"acked"`            // publishes acknowledged (written, for QoS 0)
	PublishFailed   int64 `json:"publish_failed"`   // publishes that failed or were never acknowledged
	Unpublished     int64 `json:"unpublished"`      // scheduled publishes of devices that were not connected
	Received        int64 `json:"received"`         // distinct messages at the subscriber
	Duplicates      int64 `json:"duplicates"`       // repeated deliveries (QoS 1)
	Missing         int64 `json:"missing"`          // acknowledged messages that never arrived
	Malformed       int64 `json:"malformed"`        // payloads at the subscriber without a valid header
	NotStarted      int64 `json:"not_started"`      // slots the interruption kept from starting
	CutShort        int64 `json:"cut_short"`        // legitimate devices the interruption ended before their hold was over
}

// ShardRun is one process's run of its shard.
type ShardRun struct {
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
	// Memory at the peak, against the baseline before the first device:
	// resident set size (Linux), and the Go runtime's heap and stacks in use.
	BaselineRSS    uint64  `json:"baseline_rss"`
	RSSAtPeak      uint64  `json:"rss_at_peak"`
	BaselineGo     uint64  `json:"baseline_go"`
	GoAtPeak       uint64  `json:"go_at_peak"`
	GoroutinesPeak int     `json:"goroutines_at_peak"`
	KiBPerDevice   float64 `json:"kib_per_device"`    // (RSSAtPeak - BaselineRSS) / PeakActive; 0 under MinMemoryDevices
	GoKiBPerDevice float64 `json:"go_kib_per_device"` // (GoAtPeak - BaselineGo) / PeakActive
	FDLimit        uint64  `json:"fd_limit"`
	Clamped        int64   `json:"clamped"`    // latencies past 10 minutes, recorded as 10 minutes
	EndToEnd       bool    `json:"end_to_end"` // a subscriber received: Received and Missing mean something
	Interrupted    bool    `json:"interrupted"`
}

// MinMemoryDevices is the fewest connected devices at which a run reports
// memory per device: below it, the runtime's own growth swamps the figure.
const MinMemoryDevices = 100

// Complete reports whether every shard of the fleet is in r.
func (r *Results) Complete() bool {
	return len(r.Shards) > 0 && len(r.Shards) == r.Shards[0].Count
}

// Rates are the run's throughput figures.
type Rates struct {
	ConnectsPerSecond   float64 // CONNACKs per second between the first and the last
	HandshakesPerSecond float64 // completed handshakes per second between the first and the last
	PublishesPerSecond  float64 // acknowledged publishes per second, first publish to last ack
}

// Rates computes the throughput figures over the shards' common spans.
func (r *Results) Rates() Rates {
	var firstC, lastC, firstH, lastH, firstP, lastA time.Time
	for _, s := range r.Shards {
		firstC, lastC = earliest(firstC, s.FirstConnect), latest(lastC, s.LastConnect)
		firstH, lastH = earliest(firstH, s.FirstHandshake), latest(lastH, s.LastHandshake)
		firstP, lastA = earliest(firstP, s.FirstPublish), latest(lastA, s.LastAck)
	}
	per := func(n int64, from, to time.Time) float64 {
		d := to.Sub(from).Seconds()
		if n == 0 || from.IsZero() || d <= 0 {
			return 0
		}
		return float64(n) / d
	}
	return Rates{
		ConnectsPerSecond:   per(r.Counts.Connected+r.Counts.Reconnects, firstC, lastC),
		HandshakesPerSecond: per(r.Counts.Handshakes, firstH, lastH),
		PublishesPerSecond:  per(r.Counts.Acked, firstP, lastA),
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Errors of Merge and DecodeResults.
var (
	ErrResultsVersion = errors.New("simulator: results of another version")
	ErrOtherFleet     = errors.New("simulator: results of different fleets (fleet_id differs)")
	ErrShardTwice     = errors.New("simulator: a shard appears twice")
	ErrShardCounts    = errors.New("simulator: results split the fleet into different shard counts")
	ErrNoResults      = errors.New("simulator: nothing to merge")
)

// Merge combines results of shards of one fleet: counts add up, failures
// and hostile outcomes add up per key, and histograms merge exactly
// (hdrhistogram Import then Merge, bucket by bucket). The merged result
// lists every shard; it may lack some (see Complete).
func Merge(rs ...*Results) (*Results, error) {
	if len(rs) == 0 {
		return nil, ErrNoResults
	}
	out := &Results{Version: ResultsVersion, FleetID: rs[0].FleetID, Scenario: rs[0].Scenario,
		Failures: map[string]map[string]int64{}, Hostile: map[string]map[string]int64{}, Histograms: map[Stage]*Snapshot{}}
	seen := map[int]bool{}
	for _, r := range rs {
		if r.Version != ResultsVersion {
			return nil, ErrResultsVersion
		}
		if r.FleetID != out.FleetID {
			return nil, ErrOtherFleet
		}
		for _, s := range r.Shards {
			if s.Count != rs[0].Shards[0].Count {
				return nil, ErrShardCounts
			}
			if seen[s.Index] {
				return nil, ErrShardTwice
			}
			seen[s.Index] = true
			out.Shards = append(out.Shards, s)
			out.Interrupted = out.Interrupted || s.Interrupted
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		if err := out.Counts.add(r.Counts); err != nil {
			return nil, err
		}
		addNested(out.Failures, r.Failures)
		addNested(out.Hostile, r.Hostile)
		for st, snap := range r.Histograms {
			cur, ok := out.Histograms[st]
			if !ok {
				out.Histograms[st] = snap
				continue
			}
			m, err := mergeSnapshots(cur, snap)
			if err != nil {
				return nil, err
			}
			out.Histograms[st] = m
		}
	}
	slices.SortFunc(out.Shards, func(a, b ShardRun) int { return a.Index - b.Index })
	return out, nil
}

// add sums every field of Counts, refusing an overflow.
func (c *Counts) add(o Counts) error {
	dst, src := reflect.ValueOf(c).Elem(), reflect.ValueOf(o)
	for i := range dst.NumField() {
		a, b := dst.Field(i).Int(), src.Field(i).Int()
		if b > 0 && a > math.MaxInt64-b {
			return errors.New("simulator: merged counts overflow")
		}
		dst.Field(i).SetInt(a + b)
	}
	return nil
}

func addNested(dst, src map[string]map[string]int64) {
	for k, m := range src {
		if dst[k] == nil {
			dst[k] = map[string]int64{}
		}
		for r, n := range m {
			dst[k][r] += n // each count is bounded at decode
		}
	}
}

// maxResultsSize bounds a results file: a few histograms of ~21,000 counts.
const maxResultsSize = 64 << 20

// Bounds of decoded results.
const (
	maxCount      = int64(1) << 53 // counts stay exact in every JSON reader
	maxLabelLen   = 64
	maxLabels     = 256
	maxShardsRead = MaxShards
)

// ResultsError is a results file that cannot be read or trusted. It names
// the field, never echoes its content.
type ResultsError struct {
	Field string
	Err   error
}

func (e *ResultsError) Error() string { return "simulator: results: " + e.Field + ": " + e.Err.Error() }
func (e *ResultsError) Unwrap() error { return e.Err }

// DecodeResults reads and checks a results JSON.
func DecodeResults(r io.Reader) (*Results, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResultsSize+1))
	if err != nil {
		return nil, fmt.Errorf("simulator: reading results: %w", err)
	}
	if len(data) > maxResultsSize {
		return nil, &ResultsError{Field: "(file)", Err: errors.New("larger than 64 MiB")}
	}
	var res Results
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, &ResultsError{Field: "(file)", Err: errors.New("not a results JSON")}
	}
	if err := res.check(); err != nil {
		return nil, err
	}
	return &res, nil
}

func (r *Results) check() error {
	fail := func(field, msg string) error { return &ResultsError{Field: field, Err: errors.New(msg)} }
	if r.Version != ResultsVersion {
		return &ResultsError{Field: "version", Err: ErrResultsVersion}
	}
	if len(r.FleetID) == 0 || len(r.FleetID) > maxLabelLen {
		return fail("fleet_id", "missing or too long")
	}
	if len(r.Shards) == 0 || len(r.Shards) > maxShardsRead {
		return fail("shards", "want 1-10000 shards")
	}
	for _, s := range r.Shards {
		if s.Count < 1 || s.Count > MaxShards || s.Index < 0 || s.Index >= s.Count || s.Count != r.Shards[0].Count {
			return fail("shards", "index or count out of range")
		}
	}
	cv := reflect.ValueOf(r.Counts)
	for i := range cv.NumField() {
		if n := cv.Field(i).Int(); n < 0 || n > maxCount {
			return fail("counts", "a count is negative or too large")
		}
	}
	for name, m := range map[string]map[string]map[string]int64{"failures": r.Failures, "hostile": r.Hostile} {
		if len(m) > maxLabels {
			return fail(name, "too many keys")
		}
		for k, inner := range m {
			if len(k) > maxLabelLen || len(inner) > maxLabels {
				return fail(name, "a key is too long or has too many entries")
			}
			for rk, n := range inner {
				if len(rk) > maxLabelLen || n < 0 || n > maxCount {
					return fail(name, "an entry is out of range")
				}
			}
		}
	}
	if len(r.Scenario.Thresholds) > MaxThresholds {
		return fail("scenario.thresholds", "too many")
	}
	for _, e := range r.Scenario.Thresholds {
		if _, err := ParseThreshold(e); err != nil {
			return fail("scenario.thresholds", "a threshold cannot be read")
		}
	}
	if len(r.Histograms) > maxLabels {
		return fail("histograms", "too many")
	}
	for st, snap := range r.Histograms {
		if len(st) > maxLabelLen || snap == nil {
			return fail("histograms", "a histogram is unnamed or empty")
		}
		if err := snap.check(); err != nil {
			return &ResultsError{Field: "histograms", Err: err}
		}
	}
	return nil
}

// Encode writes r as indented JSON.
func (r *Results) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}
