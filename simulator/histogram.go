package simulator

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"shakedown/reports"
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
	StagePublish   Stage = "publish_ack"    // scheduled publish to PUBACK (QoS 1), PUBCOMP (QoS 2); QoS 0 has none
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

func (h *histogram) snapshot() *reports.Histogram {
	h.mu.Lock()
	defer h.mu.Unlock()
	return reports.HistogramOf(h.h)
}

func (h *histogram) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Duration(h.h.ValueAtQuantile(q*100)) * time.Microsecond
}
