package reports

import (
	"fmt"
	"math"
	"sort"
)

// Better says which way a figure improves.
type Better string

const (
	Lower  Better = "lower"
	Higher Better = "higher"
)

// Figure is one comparable number of a run.
type Figure struct {
	Key    string  `json:"key"` // unique within a run, e.g. "board/atmega328p/bench/x25519"
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Better Better  `json:"better"`
	// Exact figures are deterministic (counted by an emulator, or a MITM
	// verdict): Tolerances.Exact applies, else Tolerances.WallPercent.
	Exact bool `json:"exact"`
}

// Tolerances state how far a figure may move the wrong way before the
// comparison calls it a regression, in percent of the baseline.
type Tolerances struct {
	Exact       float64 `json:"exact_percent"`
	WallPercent float64 `json:"wall_percent"`
}

// DefaultWallPercent is the default tolerance of wall-clock figures: single
// figures on the shared 2-core machine move by about ±20 %.
const DefaultWallPercent = 25

// DefaultTolerances: exact figures may not grow at all; wall-clock figures
// may move DefaultWallPercent the wrong way.
func DefaultTolerances() Tolerances { return Tolerances{Exact: 0, WallPercent: DefaultWallPercent} }

// Status of a compared figure.
const (
	StatusOK        = "ok"
	StatusImproved  = "improved"
	StatusRegressed = "regressed"
	StatusMissing   = "missing" // in the baseline, not in the run
	StatusNew       = "new"     // in the run, not in the baseline
)

// Delta is one figure of the baseline and the run side by side.
type Delta struct {
	Figure
	Baseline float64 `json:"baseline"`
	// ChangePercent is (Value - Baseline) / Baseline in percent; 0 when the
	// baseline is 0 and the value too.
	ChangePercent  float64 `json:"change_percent"`
	AllowedPercent float64 `json:"allowed_percent"`
	Status         string  `json:"status"`
}

// Comparison is a run against a baseline.
type Comparison struct {
	Tolerances Tolerances `json:"tolerances"`
	Deltas     []Delta    `json:"deltas"`
}

// Regressions returns the deltas that regressed.
func (c *Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Status == StatusRegressed {
			out = append(out, d)
		}
	}
	return out
}

// Regressed reports whether any figure regressed beyond its tolerance.
func (c *Comparison) Regressed() bool { return len(c.Regressions()) > 0 }

// Compare sets the figures of run beside those of baseline. A figure
// regresses when it moves the wrong way by more than its tolerance: for
// an exact figure with tolerance 0, any growth of a lower-is-better count.
func Compare(baseline, run *Run, tol Tolerances) *Comparison {
	c := &Comparison{Tolerances: tol}
	cur := map[string]Figure{}
	for _, f := range Figures(run) {
		cur[f.Key] = f
	}
	seen := map[string]bool{}
	for _, b := range Figures(baseline) {
		seen[b.Key] = true
		allowed := tol.WallPercent
		if b.Exact {
			allowed = tol.Exact
		}
		f, ok := cur[b.Key]
		if !ok {
			c.Deltas = append(c.Deltas, Delta{Figure: b, Baseline: b.Value, AllowedPercent: allowed, Status: StatusMissing})
			continue
		}
		d := Delta{Figure: f, Baseline: b.Value, AllowedPercent: allowed, Status: StatusOK}
		d.ChangePercent = change(b.Value, f.Value)
		worse := d.ChangePercent
		if b.Better == Higher {
			worse = -worse
		}
		switch {
		case worse > allowed:
			d.Status = StatusRegressed
		case worse < 0:
			d.Status = StatusImproved
		}
		c.Deltas = append(c.Deltas, d)
	}
	for _, f := range Figures(run) {
		if !seen[f.Key] {
			c.Deltas = append(c.Deltas, Delta{Figure: f, Status: StatusNew})
		}
	}
	return c
}

// change is the relative change from b to v in percent; growth from 0 is
// infinite.
func change(b, v float64) float64 {
	switch {
	case b == v:
		return 0
	case b == 0:
		return math.Copysign(math.Inf(1), v)
	}
	return (v - b) / math.Abs(b) * 100
}

// Figures lists the comparable numbers of a run, sorted by key: board
// bench counts and handshake costs, simulator latency quantiles and rates,
// and one figure per MITM cell (1 when as expected).
func Figures(run *Run) []Figure {
	if run == nil {
		return nil
	}
	var fs []Figure
	if run.Boards != nil {
		for _, b := range run.Boards.Boards {
			for _, x := range b.Bench {
				key := "board/" + b.Name + "/bench/" + x.Op
				if x.Size > 0 {
					key += fmt.Sprintf("/%dB", x.Size)
				}
				fs = append(fs, Figure{Key: key, Value: x.Mean, Unit: x.Unit, Better: Lower, Exact: b.Exact})
			}
			for _, h := range b.Handshakes {
				if !h.OK {
					continue
				}
				fs = append(fs, Figure{Key: "board/" + b.Name + "/handshake/" + h.Profile, Value: float64(h.Total),
					Unit: h.Unit, Better: Lower, Exact: b.Exact})
			}
		}
	}
	if s := run.Sim; s != nil {
		for _, st := range StageOrder {
			h, ok := s.Histograms[st]
			if !ok || h == nil || h.Total == 0 || h.Check() != nil {
				continue
			}
			q := h.Quantiles(50, 99)
			fs = append(fs, Figure{Key: "sim/" + st + "/p50", Value: q[0], Unit: "us", Better: Lower},
				Figure{Key: "sim/" + st + "/p99", Value: q[1], Unit: "us", Better: Lower})
		}
		r := SimRates(s)
		if r.ConnectsPerSecond > 0 {
			fs = append(fs, Figure{Key: "sim/rate/connects", Value: r.ConnectsPerSecond, Unit: "1/s", Better: Higher})
		}
		if r.PublishesPerSecond > 0 {
			fs = append(fs, Figure{Key: "sim/rate/publishes", Value: r.PublishesPerSecond, Unit: "1/s", Better: Higher})
		}
	}
	if m := run.MITM; m != nil {
		for _, v := range m.Verdicts {
			val := 0.0
			if v.AsExpected {
				val = 1
			}
			fs = append(fs, Figure{Key: "mitm/" + v.Scenario + "/" + v.Column, Value: val, Unit: "as expected", Better: Higher, Exact: true})
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key < fs[j].Key })
	return fs
}

// StageOrder lists the simulator's stages in report order.
var StageOrder = []string{"start_lag", "tcp_connect", "handshake", "connack", "connect", "suback", "publish_ack", "end_to_end", "halfopen_close"}

// Rates are a fleet's throughput figures.
type Rates struct {
	ConnectsPerSecond  float64
	PublishesPerSecond float64
}

// SimRates computes the connect and publish rates over the shards' spans:
// CONNACKs between the first and the last, acknowledged publishes between
// the first publish and the last acknowledgement.
func SimRates(s *Sim) Rates {
	var r Rates
	if s == nil || len(s.Shards) == 0 {
		return r
	}
	fc, lc, fp, la := s.Shards[0].FirstConnect, s.Shards[0].LastConnect, s.Shards[0].FirstPublish, s.Shards[0].LastAck
	for _, sh := range s.Shards[1:] {
		if !sh.FirstConnect.IsZero() && (fc.IsZero() || sh.FirstConnect.Before(fc)) {
			fc = sh.FirstConnect
		}
		if sh.LastConnect.After(lc) {
			lc = sh.LastConnect
		}
		if !sh.FirstPublish.IsZero() && (fp.IsZero() || sh.FirstPublish.Before(fp)) {
			fp = sh.FirstPublish
		}
		if sh.LastAck.After(la) {
			la = sh.LastAck
		}
	}
	if d := lc.Sub(fc).Seconds(); d > 0 && !fc.IsZero() {
		r.ConnectsPerSecond = float64(s.Counts.Connected+s.Counts.Reconnects) / d
	}
	if d := la.Sub(fp).Seconds(); d > 0 && !fp.IsZero() {
		r.PublishesPerSecond = float64(s.Counts.Acked) / d
	}
	return r
}
