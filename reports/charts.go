package reports

import (
	"errors"
	"fmt"
	"html/template"
	"math"
	"slices"

	"shakedown/reports/chart"
)

// charts are the report's four charts as inline SVG; a chart the run has
// no data for is empty, and the page says so in its place.
type charts struct {
	Handshakes template.HTML
	Chips      template.HTML
	Latency    template.HTML
	Timeline   template.HTML
	P99s       template.HTML // each stage's p99 second by second
	Capacity   template.HTML // the capacity search's curve
}

// latencyQuantiles are the percentiles of the latency chart.
var latencyQuantiles = []float64{0, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100}

// Colours with a meaning in the handshake chart.
const (
	colourWithin = "#2da44e" // board time within the limit
	colourWall   = "#8c959f" // wall time through the relay
	colourLimit  = "#bf8700" // the board profile's limit
)

// drawCharts draws the run's charts.
func drawCharts(run *Run) (charts, error) {
	var cs charts
	var errs []error
	draw := func(dst *template.HTML, svg string, err error) {
		switch {
		case errors.Is(err, chart.ErrNoData):
		case err != nil:
			errs = append(errs, err)
		default:
			// The chart package escapes every text it writes.
			*dst = template.HTML(svg)
		}
	}
	if b := run.Boards; b != nil {
		svg, err := handshakeChart(b).SVG()
		draw(&cs.Handshakes, svg, err)
		svg, err = chipChart(b).SVG()
		draw(&cs.Chips, svg, err)
	}
	if s := run.Sim; s != nil {
		svg, err := latencyChart(s).SVG()
		draw(&cs.Latency, svg, err)
		if len(s.Seconds) > 0 {
			svg, err = secondsChart(s).SVG()
		} else {
			svg, err = timelineChart(s).SVG()
		}
		draw(&cs.Timeline, svg, err)
		svg, err = p99Chart(s).SVG()
		draw(&cs.P99s, svg, err)
		svg, err = capacityChart(s.Capacity).SVG()
		draw(&cs.Capacity, svg, err)
	}
	if err := errors.Join(errs...); err != nil {
		return cs, fmt.Errorf("reports: drawing charts: %w", err)
	}
	return cs, nil
}

// handshakeChart: per board and profile, the median board time of its
// successful handshakes (with the fastest and the slowest when there are
// several), the median wall time through the relay, and the limit.
func handshakeChart(b *Boards) chart.Bars {
	type group struct {
		board, wall []float64
		limit       float64
		over        bool
	}
	var names []string
	groups := map[string]*group{}
	for _, bd := range b.Boards {
		for _, h := range bd.Handshakes {
			if !h.OK {
				continue
			}
			name := bd.Name + " · " + h.Profile
			g, ok := groups[name]
			if !ok {
				g = &group{}
				groups[name] = g
				names = append(names, name)
			}
			if h.BoardMS > 0 {
				g.board = append(g.board, h.BoardMS)
			}
			if h.WallMS > 0 {
				g.wall = append(g.wall, h.WallMS)
			}
			g.limit = math.Max(g.limit, h.LimitMS)
			g.over = g.over || !h.WithinLimit()
		}
	}
	board := chart.Series{Name: "board time (median)", Color: colourWithin}
	wall := chart.Series{Name: "wall time through the relay (median)", Color: colourWall}
	limits := &chart.Marks{Name: "the board profile's limit", Color: colourLimit}
	for _, n := range names {
		g := groups[n]
		m, lo, hi := spread(g.board)
		board.Values, board.Lo, board.Hi = append(board.Values, m), append(board.Lo, lo), append(board.Hi, hi)
		board.Alert = append(board.Alert, g.over)
		board.Tips = append(board.Tips, samplesTip(len(g.board)))
		wm, _, _ := spread(g.wall)
		wall.Values = append(wall.Values, wm)
		wall.Tips = append(wall.Tips, samplesTip(len(g.wall)))
		limits.Values = append(limits.Values, nanIfZero(g.limit))
	}
	return chart.Bars{
		ID:         "chart-handshakes",
		Title:      "Handshake time per board and profile, against the limit",
		Desc:       "Each board's successful handshakes per profile: the board's own time, the host's wall time through the relay, and the limit of the board's profile",
		Categories: names,
		Series:     []chart.Series{board, wall},
		Marks:      limits,
		Value:      chart.Axis{Label: "time (log scale)", Log: true, Format: msTick},
		Horizontal: true,
		AlertName:  "board time over the limit",
		RangeName:  "fastest to slowest",
	}
}

// spread is the median, the smallest and the largest of vs; NaN for none.
func spread(vs []float64) (median, lo, hi float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	f := Figure{Samples: vs}
	s := slices.Clone(vs)
	slices.Sort(s)
	return f.Median(), s[0], s[len(s)-1]
}

func samplesTip(n int) string {
	if n == 1 {
		return "1 handshake"
	}
	return fmt.Sprintf("%d handshakes", n)
}

func nanIfZero(v float64) float64 {
	if v <= 0 {
		return math.NaN()
	}
	return v
}

// chipChart: the anchored operations' counts per chip (boards whose counts
// are cycles or instructions), beside the published anchors.
func chipChart(b *Boards) chart.Bars {
	var series []chart.Series
	for _, bd := range b.Boards {
		if bd.Kind == KindVirtual {
			continue // host nanoseconds do not sit on a cycle axis
		}
		s := chart.Series{Name: bd.Chip + " (" + unitOf(bd) + ")"}
		found := false
		for _, op := range AnchorOps {
			v := math.NaN()
			for _, x := range bd.Bench {
				if x.Op == op {
					v, found = x.Mean, true
				}
			}
			s.Values = append(s.Values, v)
		}
		if found {
			series = append(series, s)
		}
	}
	if len(series) > 0 {
		var chips []string
		for _, a := range Anchors {
			if !slices.Contains(chips, a.Chip) {
				chips = append(chips, a.Chip)
			}
		}
		for i, chip := range chips {
			s := chart.Series{Name: "anchor: " + chip, Reference: true, Color: anchorColours[i%len(anchorColours)]}
			for _, op := range AnchorOps {
				v := math.NaN()
				for _, a := range Anchors {
					if a.Chip == chip && a.Op == op {
						v = a.CyclesAt()
						s.Tips = append(s.Tips, a.Source)
					}
				}
				if math.IsNaN(v) {
					s.Tips = append(s.Tips, "")
				}
				s.Values = append(s.Values, v)
			}
			series = append(series, s)
		}
	}
	return chart.Bars{
		ID:         "chart-chips",
		Title:      "Cycles per chip (instructions under QEMU), beside published anchors",
		Desc:       "Our count of each anchored operation per chip, set beside published figures of other implementations on other parts (hatched)",
		Categories: AnchorOps,
		Series:     series,
		Value:      chart.Axis{Label: "count per operation (log scale)", Log: true},
	}
}

// anchorColours are greys and browns for the hatched anchors, apart from
// the palette's colours of our chips.
var anchorColours = []string{"#6e7781", "#953800", "#424a53"}

// latencyChart: each stage's latency at the latencyQuantiles.
func latencyChart(s *Sim) chart.Lines {
	l := chart.Lines{
		ID:     "chart-latency",
		Title:  "Latency by percentile, per stage",
		Desc:   "Each stage's latency at percentiles of its HDR histogram, counted from the step's scheduled time",
		XAxis:  chart.Axis{Label: "percentile"},
		Y:      chart.Axis{Label: "latency (log scale)", Log: true, Format: msTick},
		Points: true,
	}
	for _, q := range latencyQuantiles {
		l.Categories = append(l.Categories, fmt.Sprintf("p%g", q))
	}
	for _, st := range StageOrder {
		h := s.Histograms[st]
		if h == nil || h.Total == 0 || h.Check() != nil {
			continue
		}
		vals := h.Quantiles(latencyQuantiles...)
		for i := range vals {
			vals[i] = math.Max(vals[i], 1) / 1e3 // a log axis has no 0: at least 1 µs
		}
		l.Series = append(l.Series, chart.Series{Name: st, Values: vals})
	}
	return l
}

// timelineChart: rates between the timeline's samples, and the devices
// connected at each.
func timelineChart(s *Sim) chart.Lines {
	l := chart.Lines{
		ID:    "chart-timeline",
		Title: "Throughput over time",
		Desc:  "Connects, acknowledged publishes and messages received per second between samples of the run, and the devices connected",
		XAxis: chart.Axis{Label: "seconds since the start", Zero: true},
		Y:     chart.Axis{Label: "per second", Zero: true},
		Y2:    chart.Axis{Label: "devices connected", Zero: true},
	}
	t := s.Timeline
	if t == nil || len(t.Samples) < 2 {
		return l
	}
	connects := chart.Series{Name: "connects/s", Color: chart.Palette[0]}
	acked := chart.Series{Name: "publishes acked/s", Color: chart.Palette[2]}
	received := chart.Series{Name: "received/s", Color: chart.Palette[3], Reference: true}
	connected := chart.Series{Name: "devices connected", Color: chart.Palette[6], Area: true, Right: true}
	for i := 1; i < len(t.Samples); i++ {
		a, b := t.Samples[i-1], t.Samples[i]
		dt := float64(b.AtMS-a.AtMS) / 1e3
		if dt <= 0 {
			continue
		}
		l.X = append(l.X, float64(b.AtMS)/1e3)
		connects.Values = append(connects.Values, float64(b.Connects-a.Connects)/dt)
		acked.Values = append(acked.Values, float64(b.Acked-a.Acked)/dt)
		received.Values = append(received.Values, float64(b.Received-a.Received)/dt)
		connected.Values = append(connected.Values, float64(b.Connected))
	}
	l.Series = []chart.Series{connects, acked, received, connected}
	return l
}

// msTick prints milliseconds for an axis: 0.01 ms, 1 ms, 250 ms, 1 s, 10 s.
func msTick(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "–"
	case ms >= 1000:
		return chart.Compact(ms/1000) + " s"
	case ms >= 1 || ms == 0:
		return chart.Compact(ms) + " ms"
	case ms >= 0.001:
		return chart.Compact(ms*1000) + " µs"
	}
	return chart.Compact(ms*1e6) + " ns"
}

func unitOf(b Board) string {
	for _, x := range b.Bench {
		return x.Unit
	}
	return ""
}
