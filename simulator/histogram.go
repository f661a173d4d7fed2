package simulator

import (
	"errors"
	"fmt"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Stage names a measured step. Stages are histogram names, metric labels
// and report columns.
type Stage string

// Measured stages. Every latency counts from the step's scheduled time where
// the step has one (connect: the device's arrival; publish: its slot in the
// publish schedule), so a stalled server shows as latency instead of as
// fewer samples (no coordinated omission).
const (
	StageStartLag  Stage = "start_lag"      // scheduled arrival to the goroutine's start
	StageTCP       Stage = "tcp_connect"    // TCP three-way handshake
	StageHandshake Stage = "handshake"      // the profile's handshake (TLS for a broker over TLS)
	StageConnack   Stage = "connack"        // CONNECT to CONNACK
	StageConnect   Stage = "connect"        // scheduled arrival to CONNACK: the whole connect
	StageSuback    Stage = "suback"         // SUBSCRIBE to SUBACK
	StagePublish   Stage = "publish_ack"    // scheduled publish to PUBACK (QoS 1), PUBCOMP (QoS 2), written (QoS 0)
	StageEndToEnd  Stage = "end_to_end"     // scheduled publish to arrival at the subscriber
	StageHalfOpen  Stage = "halfopen_close" // a half-open connection until the server closed it
)

// Stages lists the measured stages in report order.
var Stages = []Stage{StageStartLag, StageTCP, StageHandshake, StageConnack, StageConnect, StageSuback, StagePublish, StageEndToEnd, StageHalfOpen}

// Histogram geometry, the same for every stage so histograms merge exactly:
// microseconds from 1 µs to 10 minutes, 3 significant figures (a value is
// kept to within 0.1%).
const (
	HistLowest  = 1
	HistHighest = int64(10 * time.Minute / time.Microsecond)
	HistSigFigs = 3
)

// histogram is a locked HDR histogram of one stage.
type histogram struct {
	mu      sync.Mutex
	h       *hdrhistogram.Histogram
	clamped int64 // values past HistHighest, recorded as HistHighest
}

func newHistogram() *histogram {
	return &histogram{h: hdrhistogram.New(HistLowest, HistHighest, HistSigFigs)}
}

// record adds d, clamped to the histogram's range.
func (h *histogram) record(d time.Duration) {
	v := max(int64(d/time.Microsecond), HistLowest)
	h.mu.Lock()
	defer h.mu.Unlock()
	if v > HistHighest {
		v = HistHighest
		h.clamped++
	}
	h.h.RecordValue(v) // in range by construction
}

func (h *histogram) snapshot() *Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fromHDR(h.h)
}

func (h *histogram) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Duration(h.h.ValueAtQuantile(q*100)) * time.Microsecond
}

// Snapshot is an HDR histogram as the results JSON holds it: hdrhistogram's
// Export, with its counts' trailing zeros left out. Import restores it
// exactly, so histograms of shards merge without loss. Values are
// microseconds.
type Snapshot struct {
	Lowest  int64   `json:"lowest"`
	Highest int64   `json:"highest"`
	SigFigs int64   `json:"significant_figures"`
	Total   int64   `json:"total"`
	Counts  []int64 `json:"counts"`
}

func fromHDR(h *hdrhistogram.Histogram) *Snapshot {
	e := h.Export()
	counts := e.Counts
	for len(counts) > 0 && counts[len(counts)-1] == 0 {
		counts = counts[:len(counts)-1]
	}
	return &Snapshot{Lowest: e.LowestTrackableValue, Highest: e.HighestTrackableValue, SigFigs: e.SignificantFigures,
		Total: h.TotalCount(), Counts: counts}
}

// ErrGeometry is a snapshot whose geometry is not the simulator's.
var ErrGeometry = errors.New("simulator: histogram geometry differs from 1 µs..10 min, 3 figures")

// check refuses a snapshot that Import would misread or that does not
// merge with the simulator's histograms.
func (s *Snapshot) check() error {
	if s.Lowest != HistLowest || s.Highest != HistHighest || s.SigFigs != HistSigFigs {
		return ErrGeometry
	}
	e := s.export()
	if err := e.Validate(); err != nil {
		return fmt.Errorf("simulator: histogram: %w", err)
	}
	var total int64
	for _, c := range s.Counts {
		total += c // Validate bounds the sum
	}
	if total != s.Total {
		return errors.New("simulator: histogram total differs from its counts")
	}
	return nil
}

func (s *Snapshot) export() *hdrhistogram.Snapshot {
	return &hdrhistogram.Snapshot{LowestTrackableValue: s.Lowest, HighestTrackableValue: s.Highest, SignificantFigures: s.SigFigs, Counts: s.Counts}
}

// HDR returns the histogram of a checked snapshot.
func (s *Snapshot) HDR() *hdrhistogram.Histogram { return hdrhistogram.Import(s.export()) }

// mergeSnapshots returns the exact sum of two checked snapshots.
func mergeSnapshots(a, b *Snapshot) (*Snapshot, error) {
	h := a.HDR()
	// Equal geometry: a count is dropped only when the total would overflow.
	if dropped := h.Merge(b.HDR()); dropped != 0 {
		return nil, errors.New("simulator: merged histogram counts overflow")
	}
	return fromHDR(h), nil
}

// Quantile returns the value at quantile q (0..1) of the snapshot.
func (s *Snapshot) Quantile(q float64) time.Duration {
	return time.Duration(s.HDR().ValueAtQuantile(q*100)) * time.Microsecond
}
