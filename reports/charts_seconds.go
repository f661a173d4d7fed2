package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"shakedown/reports/chart"
)

// maxPoints is the most x positions a chart of the seconds draws: a longer
// run is drawn in spans of several seconds each.
const maxPoints = 600

// span is a run of seconds drawn as one x position: counts per second and
// each stage's latencies merged.
type span struct {
	at      float64 // seconds since the run's first second, at the span's end
	seconds float64
	sum     SimSecond
	latency map[string]*hdrhistogram.Histogram
}

// spans cuts the run's seconds, gaps included, into at most maxPoints spans.
func spans(secs []SimSecond, withLatency bool) []span {
	if len(secs) == 0 {
		return nil
	}
	first, last := secs[0].At, secs[len(secs)-1].At
	n := last - first + 1
	width := (n + maxPoints - 1) / maxPoints
	out := make([]span, (n+width-1)/width)
	for i := range out {
		out[i] = span{at: float64(int64(i+1) * width), seconds: float64(min(width, n-int64(i)*width))}
	}
	for _, s := range secs {
		sp := &out[(s.At-first)/width]
		sp.sum.Connects += s.Connects
		sp.sum.Publishes += s.Publishes
		sp.sum.Acks += s.Acks
		sp.sum.Received += s.Received
		sp.sum.Failures += s.Failures
		sp.sum.Delivered += s.Delivered
		if !withLatency {
			continue
		}
		for st, h := range s.Latency {
			if h.check() != nil {
				continue
			}
			if sp.latency == nil {
				sp.latency = map[string]*hdrhistogram.Histogram{}
			}
			if sp.latency[st] == nil {
				sp.latency[st] = NewSecondHDR()
			}
			sp.latency[st].Merge(h.HDR())
		}
	}
	return out
}

// secondsChart: connects, publishes, acknowledgements, messages received
// and failures per second, from the run's seconds.
func secondsChart(s *Sim) chart.Lines {
	l := overTime("chart-timeline", "Throughput over time",
		"Connects, publishes, acknowledgements, messages received end to end and failed steps per second, second by second on the wall clock (merged over the shards)",
		chart.Axis{Label: "per second", Zero: true})
	series := []chart.Series{
		{Name: "connects/s", Color: chart.Palette[0]},
		{Name: "publishes/s", Color: chart.Palette[1]},
		{Name: "acks/s", Color: chart.Palette[2]},
		{Name: "received/s", Color: chart.Palette[3], Reference: true},
		{Name: "failures/s", Color: colourFailure},
		{Name: "delivered to devices/s", Color: chart.Palette[4]},
	}
	for _, sp := range spans(s.Seconds, false) {
		l.X = append(l.X, sp.at)
		for i, v := range []int64{sp.sum.Connects, sp.sum.Publishes, sp.sum.Acks, sp.sum.Received, sp.sum.Failures, sp.sum.Delivered} {
			series[i].Values = append(series[i].Values, float64(v)/sp.seconds)
		}
	}
	for _, sr := range series { // a series that is zero throughout says nothing
		for _, v := range sr.Values {
			if v > 0 {
				l.Series = append(l.Series, sr)
				break
			}
		}
	}
	return l
}

// overTime is a line chart over the seconds of a run.
func overTime(id, title, desc string, y chart.Axis) chart.Lines {
	return chart.Lines{ID: id, Title: title, Desc: desc, Y: y, XAxis: chart.Axis{Label: "seconds since the first", Zero: true}}
}

// colourFailure draws failures.
const colourFailure = "#cf222e"

// p99Chart: each stage's p99 second by second.
func p99Chart(s *Sim) chart.Lines {
	l := overTime("chart-p99s", "p99 latency over time, per stage",
		"The 99th percentile of each stage's latencies that ended in each second (two significant figures)",
		chart.Axis{Label: "p99 (log scale)", Log: true, Format: msTick})
	sps := spans(s.Seconds, true)
	for _, sp := range sps {
		l.X = append(l.X, sp.at)
	}
	for _, st := range StageOrder {
		sr := chart.Series{Name: st, Values: make([]float64, len(sps))}
		seen := false
		for i, sp := range sps {
			sr.Values[i] = math.NaN()
			if h := sp.latency[st]; h != nil && h.TotalCount() > 0 {
				sr.Values[i] = math.Max(float64(h.ValueAtQuantile(99)), 1) / 1e3
				seen = true
			}
		}
		if seen {
			l.Series = append(l.Series, sr)
		}
	}
	return l
}

// capacityChart: the search's curve, offered rate against the p99 of its
// stage and the failed steps, with the knee in the title.
func capacityChart(c *SimCapacity) chart.Lines {
	if c == nil {
		return chart.Lines{}
	}
	l := chart.Lines{
		ID:     "chart-capacity",
		Title:  fmt.Sprintf("Capacity: knee at %s %s", chart.Compact(c.Knee), RateUnit(c.Vary)),
		Desc:   fmt.Sprintf("Each step of the search: the offered %s rate, the p99 of %s and the failed steps; the knee is the highest rate whose thresholds held for a whole step", c.Vary, c.Stage),
		XAxis:  chart.Axis{Label: "offered " + RateUnit(c.Vary), Zero: true},
		Y:      chart.Axis{Label: c.Stage + " p99 (log scale)", Log: true, Format: msTick},
		Y2:     chart.Axis{Label: "failed steps", Zero: true},
		Points: true,
	}
	steps := sortedSteps(c.Steps)
	held := chart.Series{Name: "p99, thresholds held", Color: colourWithin}
	failed := chart.Series{Name: "p99, a threshold failed", Color: colourFailure}
	errs := chart.Series{Name: "failed steps", Color: chart.Palette[6], Right: true, Area: true}
	for _, st := range steps {
		l.X = append(l.X, st.Rate)
		p99 := math.Max(float64(st.P99US), 1) / 1e3
		h, f := p99, math.NaN()
		if !st.Held {
			h, f = math.NaN(), p99
		}
		held.Values, failed.Values = append(held.Values, h), append(failed.Values, f)
		errs.Values = append(errs.Values, float64(st.Errors))
	}
	l.Series = []chart.Series{held, failed, errs}
	return l
}

// sortedSteps returns the steps by offered rate.
func sortedSteps(steps []SimStep) []SimStep {
	out := slices.Clone(steps)
	slices.SortStableFunc(out, func(a, b SimStep) int { return cmp.Compare(a.Rate, b.Rate) })
	return out
}
