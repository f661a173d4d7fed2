package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Axis describes one value axis.
type Axis struct {
	Label string // shown beside the axis, and in the description
	Log   bool   // a base-10 logarithmic scale
	// Format prints a tick or a value; Compact when nil.
	Format func(float64) string
	// Zero keeps 0 on a linear axis (bars always start at 0).
	Zero bool
}

func (a Axis) format(v float64) string {
	if a.Format != nil {
		return a.Format(v)
	}
	return Compact(v)
}

// Bounds of what an axis draws: far beyond any count or time a run makes,
// and within what float64 arithmetic on a scale keeps finite.
const (
	maxMagnitude = 1e18
	minLog       = 1e-12
)

// drawable reports whether v has a place on the axis.
func (a Axis) drawable(v float64) bool {
	if math.IsNaN(v) || math.Abs(v) > maxMagnitude {
		return false
	}
	return !a.Log || v >= minLog
}

// tick is one labelled position on a scale.
type tick struct {
	v     float64
	label string
}

// scale maps values of a domain to pixels of a range.
type scale struct {
	log        bool
	lo, hi     float64 // domain; for log, the values (not their logs)
	from, to   float64 // pixels for lo and hi
	ticks      []tick
	fmt        func(float64) string
	maxTickLen int // runes of the longest tick label
}

// maxTicks bounds the ticks of a linear axis; the nice step gives 4 to 8.
const maxTicks = 6

// newScale fits a scale to the drawable values of vs on axis a.
func newScale(a Axis, vs []float64) *scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if a.drawable(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	s := &scale{log: a.Log, fmt: a.format}
	if a.Log {
		if math.IsInf(lo, 1) {
			lo, hi = 1, 10
		}
		s.lo = math.Pow(10, math.Floor(math.Log10(lo)))
		s.hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if s.hi <= s.lo {
			s.hi = s.lo * 10
		}
		s.ticks = logTicks(s.lo, s.hi, a.format)
	} else {
		if math.IsInf(lo, 1) {
			lo, hi = 0, 1
		}
		if a.Zero {
			lo, hi = math.Min(lo, 0), math.Max(hi, 0)
		}
		if hi == lo {
			d := math.Max(math.Abs(lo)/10, 1)
			lo, hi = lo-d, hi+d
			if a.Zero && lo < 0 && hi-d >= 0 {
				lo = 0
			}
		}
		step := niceNum((hi-lo)/(maxTicks-1), true)
		s.lo, s.hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
		for i := 0; ; i++ {
			v := s.lo + float64(i)*step
			if v > s.hi+step/2 || i > 2*maxTicks {
				break
			}
			if math.Abs(v) < step/1e6 {
				v = 0
			}
			s.ticks = append(s.ticks, tick{v, a.format(v)})
		}
	}
	for _, t := range s.ticks {
		s.maxTickLen = max(s.maxTickLen, len([]rune(t.label)))
	}
	return s
}

// maxLogLabels bounds the labelled decades of a logarithmic axis.
const maxLogLabels = 10

// logTicks labels every decade from lo to hi (every second or more when
// there are many), and 2 and 5 times each decade when the scale spans at
// most two decades.
func logTicks(lo, hi float64, format func(float64) string) []tick {
	decades := int(math.Round(math.Log10(hi / lo)))
	every := (decades + maxLogLabels - 1) / maxLogLabels
	var ts []tick
	for d := 0; d <= decades; d += max(every, 1) {
		v := lo * math.Pow(10, float64(d))
		ts = append(ts, tick{v, format(v)})
		if decades <= 2 && d < decades {
			ts = append(ts, tick{2 * v, format(2 * v)}, tick{5 * v, format(5 * v)})
		}
	}
	return ts
}

// niceNum is a 1, 2 or 5 times a power of ten near x (Heckbert, "Nice
// numbers for graph labels", Graphics Gems, 1990): rounded when round, else
// the next such number up.
func niceNum(x float64, round bool) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, exp)
}

// at is the pixel of v, clamped to the range.
func (s *scale) at(v float64) float64 {
	var t float64
	if s.log {
		t = math.Log10(v/s.lo) / math.Log10(s.hi/s.lo)
	} else {
		t = (v - s.lo) / (s.hi - s.lo)
	}
	t = math.Max(0, math.Min(1, t))
	return s.from + t*(s.to-s.from)
}

// base is the pixel bars grow from: 0 on a linear scale, the bottom of a
// logarithmic one.
func (s *scale) base() float64 {
	if s.log {
		return s.from
	}
	return s.at(math.Max(s.lo, math.Min(0, s.hi)))
}

func (s *scale) describe(a Axis) string {
	kind := "linear"
	if s.log {
		kind = "logarithmic"
	}
	return fmt.Sprintf("%s (%s scale from %s to %s)", a.Label, kind, s.fmt(s.lo), s.fmt(s.hi))
}

// Compact prints a number in at most three significant figures with an SI
// suffix: 950, 1.5k, 22.9M, 4.35G; 0.25 and 0.001 below one.
func Compact(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v == 0:
		return "0"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if v >= 1e15 || v < 1e-4 {
		return sign + strconv.FormatFloat(v, 'g', 3, 64)
	}
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.div*0.9995 {
			return sign + trimFloat(v/u.div) + u.suffix
		}
	}
	return sign + trimFloat(v)
}

// trimFloat prints v in three significant figures without trailing zeros.
func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if strings.ContainsRune(s, 'e') && v >= 1 {
		// Three figures of a number of 1,000 or more: print it whole.
		s = strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	return s
}
