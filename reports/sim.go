package reports

import (
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Complete reports whether every shard of the fleet is in s.
func (s *Sim) Complete() bool {
	return len(s.Shards) > 0 && len(s.Shards) == s.Shards[0].Count
}

// Rates are a fleet's throughput figures.
type Rates struct {
	ConnectsPerSecond   float64 // CONNACKs per second between the first and the last
	HandshakesPerSecond float64 // completed handshakes per second between the first and the last
	PublishesPerSecond  float64 // acknowledged publishes per second, first publish to last ack
}

// Rates computes the throughput figures over the shards' common spans; a
// nil Sim has none.
func (s *Sim) Rates() Rates {
	if s == nil {
		return Rates{}
	}
	var firstC, lastC, firstH, lastH, firstP, lastA time.Time
	for _, sh := range s.Shards {
		firstC, lastC = earliest(firstC, sh.FirstConnect), latest(lastC, sh.LastConnect)
		firstH, lastH = earliest(firstH, sh.FirstHandshake), latest(lastH, sh.LastHandshake)
		firstP, lastA = earliest(firstP, sh.FirstPublish), latest(lastA, sh.LastAck)
	}
	per := func(n int64, from, to time.Time) float64 {
		d := to.Sub(from).Seconds()
		if n == 0 || from.IsZero() || d <= 0 {
			return 0
		}
		return float64(n) / d
	}
	return Rates{
		ConnectsPerSecond:   per(s.Counts.Connected+s.Counts.Reconnects, firstC, lastC),
		HandshakesPerSecond: per(s.Counts.Handshakes, firstH, lastH),
		PublishesPerSecond:  per(s.Counts.Acked, firstP, lastA),
	}
}

// Span returns when the fleet's first shard started and its last ended.
func (s *Sim) Span() (started, ended time.Time) {
	for _, sh := range s.Shards {
		started, ended = earliest(started, sh.Started), latest(ended, sh.Ended)
	}
	return started, ended
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

// Errors of MergeSim.
var (
	ErrOtherFleet  = errors.New("reports: results of different fleets (fleet_id differs)")
	ErrShardTwice  = errors.New("reports: a shard appears twice")
	ErrShardCounts = errors.New("reports: results split the fleet into different shard counts")
	ErrNoResults   = errors.New("reports: nothing to merge")
)

// MergeSim combines checked results of shards of one fleet: counts add up,
// failures and hostile outcomes add up per key, and histograms merge
// exactly (hdrhistogram Import then Merge, bucket by bucket). The merged
// result lists every shard, sorted by index; it may lack some (Complete),
// and it is interrupted when any shard was. The seconds (Sim.Seconds)
// merge exactly too: counts add up and each stage's histogram of a second
// merges bucket by bucket. Sampled timelines (Sim.Timeline) and capacity
// searches do not merge: the result has neither.
func MergeSim(rs ...*Sim) (*Sim, error) {
	if len(rs) == 0 || len(rs[0].Shards) == 0 {
		return nil, ErrNoResults
	}
	out := &Sim{Version: SimVersion, FleetID: rs[0].FleetID, Scenario: rs[0].Scenario,
		Failures: map[string]map[string]int64{}, Hostile: map[string]map[string]int64{}, Histograms: map[string]*Histogram{}}
	seen := map[int]bool{}
	for _, r := range rs {
		if r.Version != SimVersion {
			return nil, fmt.Errorf("reports: merging results: version: %w", ErrFormat)
		}
		if r.FleetID != out.FleetID {
			return nil, ErrOtherFleet
		}
		for _, sh := range r.Shards {
			if sh.Count != rs[0].Shards[0].Count {
				return nil, ErrShardCounts
			}
			if seen[sh.Index] {
				return nil, ErrShardTwice
			}
			seen[sh.Index] = true
			out.Shards = append(out.Shards, sh)
			out.Interrupted = out.Interrupted || sh.Interrupted
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		if err := out.Counts.add(r.Counts); err != nil {
			return nil, err
		}
		addNested(out.Failures, r.Failures)
		addNested(out.Hostile, r.Hostile)
		if err := mergeHistograms(out.Histograms, r.Histograms); err != nil {
			return nil, err
		}
		secs, err := mergeSeconds(out.Seconds, r.Seconds)
		if err != nil {
			return nil, err
		}
		out.Seconds = secs
	}
	slices.SortFunc(out.Shards, func(a, b SimShard) int { return a.Index - b.Index })
	return out, nil
}

// add sums every field of SimCounts, refusing an overflow.
func (c *SimCounts) add(o SimCounts) error {
	dst, src := reflect.ValueOf(c).Elem(), reflect.ValueOf(o)
	for i := range dst.NumField() {
		a, b := dst.Field(i).Int(), src.Field(i).Int()
		if b > 0 && a > math.MaxInt64-b {
			return errors.New("reports: merged counts overflow")
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
			dst[k][r] += n // each count is bounded by Check
		}
	}
}

// mergeHistograms adds each histogram of src to dst's of the same stage.
func mergeHistograms(dst, src map[string]*Histogram) error {
	for st, h := range src {
		cur, ok := dst[st]
		if !ok {
			dst[st] = h
			continue
		}
		if cur.Lowest != h.Lowest || cur.Highest != h.Highest || cur.SigFigs != h.SigFigs {
			return fmt.Errorf("reports: merging results: %w: histograms of %s differ in geometry", ErrInvalid, safeKey(st))
		}
		sum := cur.HDR()
		// Equal geometry: a count is dropped only when the total would overflow.
		if dropped := sum.Merge(h.HDR()); dropped != 0 {
			return errors.New("reports: merged histogram counts overflow")
		}
		dst[st] = HistogramOf(sum)
	}
	return nil
}

// HistogramOf returns h as results hold it: its Export, with the counts'
// trailing zeros left out.
func HistogramOf(h *hdrhistogram.Histogram) *Histogram {
	e := h.Export()
	counts := e.Counts
	for len(counts) > 0 && counts[len(counts)-1] == 0 {
		counts = counts[:len(counts)-1]
	}
	return &Histogram{Lowest: e.LowestTrackableValue, Highest: e.HighestTrackableValue, SigFigs: e.SignificantFigures,
		Total: h.TotalCount(), Counts: counts}
}

// Bounds of the simulator results this package reads.
const (
	// MaxShards is the most shards a fleet is split into.
	MaxShards   = 10000
	maxCount    = int64(1) << 53 // counts stay exact in every JSON reader
	maxLabelLen = 64
	maxLabels   = 256
)

// Check refuses results that cannot be trusted: another version, no fleet,
// shards out of range, counts out of range, too many or too long labels, a
// histogram hdrhistogram would misread, a timeline out of order. The
// error is an *InputError naming the field.
func (s *Sim) Check() error {
	fail := func(field, msg string) error {
		return &InputError{Doc: "sim", Field: field, Err: fmt.Errorf("%w: %s", ErrInvalid, msg)}
	}
	if s.Version != SimVersion {
		return &InputError{Doc: "sim", Field: "version", Err: ErrFormat}
	}
	if len(s.FleetID) == 0 || len(s.FleetID) > maxLabelLen {
		return fail("fleet_id", "missing or too long")
	}
	if len(s.Shards) == 0 || len(s.Shards) > MaxShards {
		return fail("shards", fmt.Sprintf("want 1-%d shards", MaxShards))
	}
	for _, sh := range s.Shards {
		if sh.Count < 1 || sh.Count > MaxShards || sh.Index < 0 || sh.Index >= sh.Count || sh.Count != s.Shards[0].Count {
			return fail("shards", "index or count out of range")
		}
	}
	cv := reflect.ValueOf(s.Counts)
	for i := range cv.NumField() {
		if n := cv.Field(i).Int(); n < 0 || n > maxCount {
			return fail("counts", "a count is negative or too large")
		}
	}
	if err := checkLabels("failures", s.Failures); err != nil {
		return err
	}
	if err := checkLabels("hostile", s.Hostile); err != nil {
		return err
	}
	if len(s.Histograms) > maxLabels {
		return fail("histograms", "too many")
	}
	for name, h := range s.Histograms {
		if len(name) > maxLabelLen {
			return fail("histograms", "a name is too long")
		}
		if err := h.Check(); err != nil {
			return &InputError{Doc: "sim", Field: "histograms." + safeKey(name), Err: err}
		}
	}
	if s.Timeline != nil {
		if err := s.Timeline.check(); err != nil {
			return err
		}
	}
	if err := checkSeconds(s.Seconds); err != nil {
		return err
	}
	return s.Capacity.check()
}

// checkLabels bounds a map of counts by two labels.
func checkLabels(field string, m map[string]map[string]int64) error {
	if len(m) > maxLabels {
		return &InputError{Doc: "sim", Field: field, Err: fmt.Errorf("%w: too many keys", ErrInvalid)}
	}
	for k, inner := range m {
		if len(k) > maxLabelLen || len(inner) > maxLabels {
			return &InputError{Doc: "sim", Field: field, Err: fmt.Errorf("%w: a key is too long or has too many entries", ErrInvalid)}
		}
		for rk, n := range inner {
			if len(rk) > maxLabelLen || n < 0 || n > maxCount {
				return &InputError{Doc: "sim", Field: field, Err: fmt.Errorf("%w: an entry is out of range", ErrInvalid)}
			}
		}
	}
	return nil
}

// ErrGeometry is a histogram whose geometry is not the one asked for: it
// would not merge exactly with histograms of that geometry.
var ErrGeometry = errors.New("histogram geometry differs")

// CheckGeometry refuses results holding a histogram whose geometry is not
// lowest..highest at sigFigs significant figures, naming it in an
// *InputError.
func (s *Sim) CheckGeometry(lowest, highest, sigFigs int64) error {
	for name, h := range s.Histograms {
		if h.Lowest != lowest || h.Highest != highest || h.SigFigs != sigFigs {
			return &InputError{Doc: "sim", Field: "histograms." + safeKey(name), Err: ErrGeometry}
		}
	}
	return nil
}

// DecodeJSON reads one JSON document of at most MaxInputSize bytes into v,
// for a reader that holds a document of this package in a type of its own
// (the simulator's results with its whole scenario). Its errors are
// *InputError for doc, and never echo the input.
func DecodeJSON(doc string, r io.Reader, v any) error { return decode(doc, r, v) }
