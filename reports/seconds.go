package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SimSecond is one second of a run on the wall clock (Unix seconds, so the
// seconds of shards started apart line up): what completed in it. Latencies
// go into the second their step ended in.
type SimSecond struct {
	At        int64 `json:"at"`                  // Unix second the bucket starts
	Connects  int64 `json:"connects"`            // CONNACKs, reconnects included
	Publishes int64 `json:"publishes"`           // PUBLISH packets handed to the client
	Acks      int64 `json:"acks"`                // PUBACKs (QoS 1) and PUBCOMPs (QoS 2); none for QoS 0
	Received  int64 `json:"received"`            // distinct messages at the end-to-end subscriber
	Failures  int64 `json:"failures"`            // failed steps of every stage
	Delivered int64 `json:"delivered,omitempty"` // messages the devices' own subscriptions received
	// ConnectedMin is a gauge: the fewest devices connected at any moment
	// of the second. Merged shards add up, so a merged second's figure is
	// at most the number connected at every moment of it, across the fleet
	// (a shard without that second adds nothing).
	ConnectedMin int64 `json:"connected_min,omitempty"`
	// Latency holds, by stage, the latencies of the steps that ended in
	// this second.
	Latency map[string]*SecondHistogram `json:"latency,omitempty"`
}

// Geometry of the histograms of a second: microseconds from 1 µs to 10
// minutes at two significant figures (a value is kept to within 1%), the
// same for every second and every shard so that they merge exactly.
const (
	SecondLowest  = 1
	SecondHighest = int64(10 * time.Minute / time.Microsecond)
	SecondSigFigs = 2
	// MaxSeconds is the longest timeline a results file holds: six hours.
	MaxSeconds = 6 * 3600
)

// secondBuckets is the length of the HDR counts array of the seconds' geometry.
var secondBuckets = len(hdrhistogram.New(SecondLowest, SecondHighest, SecondSigFigs).Export().Counts)

// SecondHistogram is a histogram of the seconds' geometry holding only its
// non-zero counts: pairs of an index into hdrhistogram's counts array and
// the count there, by ascending index. Adding the counts of equal indexes
// merges two of them exactly.
type SecondHistogram struct {
	Total  int64      `json:"total"`
	Counts [][2]int64 `json:"counts"`
}

// SecondHistogramOf returns the non-zero counts of h, which has the
// seconds' geometry.
func SecondHistogramOf(h *hdrhistogram.Histogram) *SecondHistogram {
	out := &SecondHistogram{Total: h.TotalCount()}
	for i, c := range h.Export().Counts {
		if c != 0 {
			out.Counts = append(out.Counts, [2]int64{int64(i), c})
		}
	}
	return out
}

// NewSecondHDR returns an empty histogram of the seconds' geometry.
func NewSecondHDR() *hdrhistogram.Histogram {
	return hdrhistogram.New(SecondLowest, SecondHighest, SecondSigFigs)
}

// HDR returns the histogram of a checked SecondHistogram.
func (h *SecondHistogram) HDR() *hdrhistogram.Histogram {
	counts := make([]int64, secondBuckets)
	for _, p := range h.Counts {
		counts[p[0]] = p[1]
	}
	return hdrhistogram.Import(&hdrhistogram.Snapshot{LowestTrackableValue: SecondLowest,
		HighestTrackableValue: SecondHighest, SignificantFigures: SecondSigFigs, Counts: counts})
}

// Quantile returns the value at quantile q (0..1) of a checked histogram.
func (h *SecondHistogram) Quantile(q float64) time.Duration {
	return time.Duration(h.HDR().ValueAtQuantile(q*100)) * time.Microsecond
}

func (h *SecondHistogram) check() error {
	if h == nil {
		return fmt.Errorf("%w: missing", ErrInvalid)
	}
	if len(h.Counts) > secondBuckets {
		return fmt.Errorf("%w: more counts than buckets", ErrInvalid)
	}
	var total int64
	for i, p := range h.Counts {
		if p[0] < 0 || p[0] >= int64(secondBuckets) || i > 0 && p[0] <= h.Counts[i-1][0] {
			return fmt.Errorf("%w: indexes out of range or out of order", ErrInvalid)
		}
		if p[1] <= 0 || total > math.MaxInt64-p[1] {
			return fmt.Errorf("%w: histogram count", ErrInvalid)
		}
		total += p[1]
	}
	if total != h.Total {
		return fmt.Errorf("%w: histogram total differs from its counts", ErrInvalid)
	}
	return nil
}

// mergeSecondHistograms adds b's counts to a's, index by index.
func mergeSecondHistograms(a, b *SecondHistogram) (*SecondHistogram, error) {
	if a.Total > math.MaxInt64-b.Total {
		return nil, errors.New("reports: merged histogram counts overflow")
	}
	out := &SecondHistogram{Total: a.Total + b.Total, Counts: make([][2]int64, 0, len(a.Counts)+len(b.Counts))}
	i, j := 0, 0
	for i < len(a.Counts) || j < len(b.Counts) {
		switch {
		case j == len(b.Counts) || i < len(a.Counts) && a.Counts[i][0] < b.Counts[j][0]:
			out.Counts = append(out.Counts, a.Counts[i])
			i++
		case i == len(a.Counts) || b.Counts[j][0] < a.Counts[i][0]:
			out.Counts = append(out.Counts, b.Counts[j])
			j++
		default: // equal indexes; each count is at most Total, so no overflow
			out.Counts = append(out.Counts, [2]int64{a.Counts[i][0], a.Counts[i][1] + b.Counts[j][1]})
			i, j = i+1, j+1
		}
	}
	return out, nil
}

// checkSeconds refuses a timeline out of order, too long, or with a count
// or histogram out of range.
func checkSeconds(secs []SimSecond) error {
	fail := func(i int, msg string) error {
		return &InputError{Doc: "sim", Field: fmt.Sprintf("seconds[%d]", i), Err: fmt.Errorf("%w: %s", ErrInvalid, msg)}
	}
	if len(secs) > MaxSeconds*MaxShards {
		return &InputError{Doc: "sim", Field: "seconds", Err: fmt.Errorf("%w: too many", ErrInvalid)}
	}
	for i, s := range secs {
		if i > 0 && s.At <= secs[i-1].At {
			return fail(i, "out of order")
		}
		for _, n := range []int64{s.Connects, s.Publishes, s.Acks, s.Received, s.Failures, s.Delivered, s.ConnectedMin} {
			if n < 0 || n > maxCount {
				return fail(i, "a count is negative or too large")
			}
		}
		if len(s.Latency) > maxLabels {
			return fail(i, "too many stages")
		}
		for name, h := range s.Latency {
			if len(name) > maxLabelLen {
				return fail(i, "a stage name is too long")
			}
			if err := h.check(); err != nil {
				return &InputError{Doc: "sim", Field: fmt.Sprintf("seconds[%d].latency.%s", i, safeKey(name)), Err: err}
			}
		}
	}
	return nil
}

// mergeSeconds adds the seconds of src to dst's, second by second: counts
// add up and histograms merge exactly. Both are sorted by At; so is the
// result.
func mergeSeconds(dst, src []SimSecond) ([]SimSecond, error) {
	out := make([]SimSecond, 0, len(dst)+len(src))
	i, j := 0, 0
	for i < len(dst) || j < len(src) {
		switch {
		case j == len(src) || i < len(dst) && dst[i].At < src[j].At:
			out = append(out, dst[i])
			i++
		case i == len(dst) || src[j].At < dst[i].At:
			out = append(out, src[j])
			j++
		default:
			s, err := addSecond(dst[i], src[j])
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			i, j = i+1, j+1
		}
	}
	return out, nil
}

func addSecond(a, b SimSecond) (SimSecond, error) {
	s := SimSecond{At: a.At, Connects: a.Connects + b.Connects, Publishes: a.Publishes + b.Publishes,
		Acks: a.Acks + b.Acks, Received: a.Received + b.Received, Failures: a.Failures + b.Failures, Delivered: a.Delivered + b.Delivered,
		ConnectedMin: a.ConnectedMin + b.ConnectedMin}
	if len(a.Latency)+len(b.Latency) > 0 {
		s.Latency = map[string]*SecondHistogram{}
	}
	for k, h := range a.Latency {
		s.Latency[k] = h
	}
	for k, h := range b.Latency {
		cur, ok := s.Latency[k]
		if !ok {
			s.Latency[k] = h
			continue
		}
		m, err := mergeSecondHistograms(cur, h)
		if err != nil {
			return s, err
		}
		s.Latency[k] = m
	}
	return s, nil
}

// Phase is a part of a run and its rates, from the timeline.
type Phase struct {
	From, To  time.Time
	Seconds   float64 // To - From
	Connects  float64 // per second, as the rates below
	Publishes float64
	Acks      float64
	Received  float64
	Failures  float64
	Delivered float64
}

// Phases splits the run in two by its shards' marks: the ramp, from the
// first start to the moment every device of every shard had connected
// (RampEnd), and the steady state, from there until the first device ended
// its hold or the run was interrupted (SteadyEnd). A phase's rates count
// the whole seconds of the timeline inside it; steady is false when no
// whole second lies between the ramp's end and the steady state's.
func (s *Sim) Phases() (ramp, steady Phase, ok bool) {
	var start, rampEnd, steadyEnd time.Time
	for _, sh := range s.Shards {
		start, rampEnd = earliest(start, sh.Started), latest(rampEnd, sh.RampEnd)
		if !sh.SteadyEnd.IsZero() && (steadyEnd.IsZero() || sh.SteadyEnd.Before(steadyEnd)) {
			steadyEnd = sh.SteadyEnd
		}
	}
	if start.IsZero() || rampEnd.IsZero() {
		return ramp, steady, false
	}
	ramp = s.phase(start.Unix(), ceilSecond(rampEnd))
	from, to := ceilSecond(rampEnd), steadyEnd.Unix()
	if steadyEnd.IsZero() || to <= from {
		return ramp, steady, false
	}
	return ramp, s.phase(from, to), true
}

func ceilSecond(t time.Time) int64 {
	if t.Truncate(time.Second).Equal(t) {
		return t.Unix()
	}
	return t.Unix() + 1
}

// phase sums the seconds in [from, to) over their count.
func (s *Sim) phase(from, to int64) Phase {
	p := Phase{From: time.Unix(from, 0).UTC(), To: time.Unix(to, 0).UTC(), Seconds: float64(to - from)}
	if to <= from {
		return p
	}
	lo, _ := slices.BinarySearchFunc(s.Seconds, from, func(x SimSecond, at int64) int { return int(x.At - at) })
	for _, sec := range s.Seconds[lo:] {
		if sec.At >= to {
			break
		}
		p.Connects += float64(sec.Connects)
		p.Publishes += float64(sec.Publishes)
		p.Acks += float64(sec.Acks)
		p.Received += float64(sec.Received)
		p.Failures += float64(sec.Failures)
		p.Delivered += float64(sec.Delivered)
	}
	for _, f := range []*float64{&p.Connects, &p.Publishes, &p.Acks, &p.Received, &p.Failures, &p.Delivered} {
		*f /= p.Seconds
	}
	return p
}

// ConnectedAtOnce is the most devices connected throughout one second of
// the run, and that second (Unix): the largest ConnectedMin of the seconds.
// Over merged shards it proves that many devices connected at once.
func (s *Sim) ConnectedAtOnce() (n, at int64) {
	for _, sec := range s.Seconds {
		if sec.ConnectedMin > n {
			n, at = sec.ConnectedMin, sec.At
		}
	}
	return n, at
}
