package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Better says which way a figure improves.
type Better string

const (
	Lower  Better = "lower"
	Higher Better = "higher"
)

// Figure is one comparable quantity of a run with every sample the run
// made of it: `shakedown test --runs 5` gives a board's handshake five
// samples under one key.
type Figure struct {
	Key     string    `json:"key"`     // unique within a run, e.g. "board/atmega328p/bench/x25519"
	Samples []float64 `json:"samples"` // in the order the run made them
	Unit    string    `json:"unit"`
	Better  Better    `json:"better"`
	// Exact figures are deterministic (counted by an emulator, or a MITM
	// verdict): their best and worst samples are compared with
	// Tolerances.Exact. Other figures move with the machine's load: their
	// medians are compared with Tolerances.WallPercent.
	Exact bool `json:"exact"`
}

// Median is the middle of the samples (the mean of the two middle ones for
// an even count); 0 without samples.
func (f Figure) Median() float64 {
	s := f.sorted()
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Best is the sample furthest the better way; 0 without samples.
func (f Figure) Best() float64 { return f.end(f.Better != Higher) }

// Worst is the sample furthest the wrong way; 0 without samples.
func (f Figure) Worst() float64 { return f.end(f.Better == Higher) }

// end is the smallest sample, or the largest when high.
func (f Figure) end(low bool) float64 {
	s := f.sorted()
	if len(s) == 0 {
		return 0
	}
	if low {
		return s[0]
	}
	return s[len(s)-1]
}

func (f Figure) sorted() []float64 {
	s := slices.Clone(f.Samples)
	slices.Sort(s)
	return s
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

// Statistics a comparison sets side by side.
const (
	StatMedian = "median" // wall-clock figures
	StatBest   = "best"   // exact figures: the best sample
	StatWorst  = "worst"  // exact figures: the worst sample
)

// Delta is one figure of the baseline and the run side by side.
type Delta struct {
	// Figure is the run's figure (the baseline's when missing from the run).
	Figure
	BaselineSamples []float64 `json:"baseline_samples"`
	// Statistic names what Baseline and Value are: the medians of a
	// wall-clock figure; of an exact figure the best or the worst samples,
	// whichever moved further the wrong way.
	Statistic string  `json:"statistic"`
	Baseline  float64 `json:"baseline"`
	Value     float64 `json:"value"`
	// ChangePercent is (Value - Baseline) / |Baseline| in percent; 0 when
	// both are 0, infinite for growth from 0.
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

// Compare sets the figures of run beside those of baseline, like with like:
//
//   - a wall-clock figure compares its median with the baseline's median;
//     it regresses when the median moved the wrong way by more than
//     Tolerances.WallPercent, and improved when it moved the right way by
//     more than that;
//   - an exact figure compares its best and its worst sample with the
//     baseline's (the first handshake of an emulated chip is dearer than
//     the next ones, so the two ends are each deterministic where a median
//     of several is not); it regresses when either moved the wrong way by
//     more than Tolerances.Exact, by default any growth of a count.
//
// A run compared with itself has every figure ok.
func Compare(baseline, run *Run, tol Tolerances) *Comparison {
	c := &Comparison{Tolerances: tol}
	cur := map[string]Figure{}
	for _, f := range Figures(run) {
		cur[f.Key] = f
	}
	seen := map[string]bool{}
	for _, b := range Figures(baseline) {
		seen[b.Key] = true
		allowed, stats := tol.WallPercent, []string{StatMedian}
		if b.Exact {
			allowed, stats = tol.Exact, []string{StatWorst, StatBest}
		}
		f, ok := cur[b.Key]
		if !ok {
			c.Deltas = append(c.Deltas, Delta{Figure: b, BaselineSamples: b.Samples, Statistic: stats[0], Baseline: b.stat(stats[0]),
				AllowedPercent: allowed, Status: StatusMissing})
			continue
		}
		var d Delta
		for i, st := range stats {
			e := Delta{Figure: f, BaselineSamples: b.Samples, Statistic: st, Baseline: b.stat(st), Value: f.stat(st), AllowedPercent: allowed}
			e.ChangePercent = change(e.Baseline, e.Value)
			worse := e.ChangePercent
			if b.Better == Higher {
				worse = -worse
			}
			switch {
			case worse > allowed:
				e.Status = StatusRegressed
			case worse < -allowed || (allowed == 0 && worse < 0):
				e.Status = StatusImproved
			default:
				e.Status = StatusOK
			}
			if i == 0 || rank(e.Status) > rank(d.Status) {
				d = e
			}
		}
		c.Deltas = append(c.Deltas, d)
	}
	for _, f := range Figures(run) {
		if !seen[f.Key] {
			st := StatMedian
			if f.Exact {
				st = StatWorst
			}
			c.Deltas = append(c.Deltas, Delta{Figure: f, Statistic: st, Value: f.stat(st), Status: StatusNew})
		}
	}
	return c
}

// rank orders the statuses of one figure's statistics: the one that says
// most decides.
func rank(status string) int {
	switch status {
	case StatusRegressed:
		return 2
	case StatusImproved:
		return 1
	}
	return 0
}

func (f Figure) stat(name string) float64 {
	switch name {
	case StatBest:
		return f.Best()
	case StatWorst:
		return f.Worst()
	}
	return f.Median()
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

// figures collects samples under their keys, in the order keys first came.
type figures struct {
	byKey map[string]int
	list  []Figure
}

func (fs *figures) add(key string, v float64, unit string, better Better, exact bool) {
	if i, ok := fs.byKey[key]; ok {
		fs.list[i].Samples = append(fs.list[i].Samples, v)
		return
	}
	if fs.byKey == nil {
		fs.byKey = map[string]int{}
	}
	fs.byKey[key] = len(fs.list)
	fs.list = append(fs.list, Figure{Key: key, Samples: []float64{v}, Unit: unit, Better: better, Exact: exact})
}

// Figures lists the comparable quantities of a run, sorted by key, each
// with all its samples:
//
//   - board/NAME/bench/OP[/SIZEB]: a bench operation's mean count, exact on
//     an emulated chip;
//   - board/NAME/handshake/PROFILE/total: the board's count of the whole
//     handshake, never exact (on an emulated chip it includes the UART's
//     timing, which moves by a few thousand cycles);
//   - board/NAME/handshake/PROFILE/crypto: its public-key work, exact on an
//     emulated chip;
//   - board/NAME/handshake/PROFILE/failed: how many of the profile's
//     handshakes failed, an exact count;
//   - sim/STAGE/p50, sim/STAGE/p99, sim/rate/connects, sim/rate/publishes;
//   - mitm/SCENARIO/COLUMN: 1 when the cell is as expected, exact.
func Figures(run *Run) []Figure {
	if run == nil {
		return nil
	}
	var fs figures
	if run.Boards != nil {
		for _, b := range run.Boards.Boards {
			for _, x := range b.Bench {
				key := "board/" + b.Name + "/bench/" + x.Op
				if x.Size > 0 {
					key += fmt.Sprintf("/%dB", x.Size)
				}
				fs.add(key, x.Mean, x.Unit, Lower, b.Exact)
			}
			failed := map[string]int{}
			var profiles []string
			for _, h := range b.Handshakes {
				if _, ok := failed[h.Profile]; !ok {
					profiles = append(profiles, h.Profile)
					failed[h.Profile] = 0
				}
				key := "board/" + b.Name + "/handshake/" + h.Profile
				if !h.OK {
					failed[h.Profile]++
					continue
				}
				fs.add(key+"/total", float64(h.Total), h.Unit, Lower, false)
				if h.Crypto > 0 {
					fs.add(key+"/crypto", float64(h.Crypto), h.Unit, Lower, b.Exact)
				}
			}
			for _, p := range profiles {
				fs.add("board/"+b.Name+"/handshake/"+p+"/failed", float64(failed[p]), "handshakes", Lower, true)
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
			fs.add("sim/"+st+"/p50", q[0], "us", Lower, false)
			fs.add("sim/"+st+"/p99", q[1], "us", Lower, false)
		}
		r := s.Rates()
		if r.ConnectsPerSecond > 0 {
			fs.add("sim/rate/connects", r.ConnectsPerSecond, "1/s", Higher, false)
		}
		if r.PublishesPerSecond > 0 {
			fs.add("sim/rate/publishes", r.PublishesPerSecond, "1/s", Higher, false)
		}
	}
	if m := run.MITM; m != nil {
		for _, v := range m.Verdicts {
			val := 0.0
			if v.AsExpected {
				val = 1
			}
			fs.add("mitm/"+v.Scenario+"/"+v.Column, val, "as expected", Higher, true)
		}
	}
	sort.SliceStable(fs.list, func(i, j int) bool { return fs.list[i].Key < fs.list[j].Key })
	return fs.list
}

// StageOrder lists the simulator's stages in report order.
var StageOrder = []string{"start_lag", "tcp_connect", "handshake", "connack", "connect", "suback", "publish_ack", "end_to_end", "halfopen_close"}
