package chart

import (
	"fmt"
	"math"
	"strings"
)

// Series is one named row of values.
type Series struct {
	Name string
	// Values has one value per category (Bars) or per x position (Lines);
	// NaN where there is none.
	Values []float64
	// Lo and Hi, when given, are each value's range (the fastest and the
	// slowest of several samples), drawn as a whisker across a bar.
	Lo, Hi []float64
	// Alert marks values drawn in the alert colour, e.g. over a limit.
	Alert []bool
	// Tips add a line per value to the hover title (e.g. "3 handshakes").
	Tips []string
	// Color overrides the palette: #rgb or #rrggbb.
	Color string
	// Reference marks a figure from elsewhere, set beside ours: bars
	// hatched and outlined, lines dashed.
	Reference bool
	// Area fills below a line.
	Area bool
	// Right puts a line on the second y axis.
	Right bool
}

// value returns the series' i-th value, NaN where it has none.
func (s Series) value(vs []float64, i int) float64 {
	if i < len(vs) {
		return vs[i]
	}
	return math.NaN()
}

// Marks are one reference value per category drawn as a rule across the
// category's bars, e.g. the limit a handshake is held to.
type Marks struct {
	Name   string
	Values []float64 // NaN where a category has none
	Color  string
}

// Bars is a grouped bar chart: each category holds one bar per series.
type Bars struct {
	// ID is unique within the page: it prefixes the SVG's element ids.
	ID    string
	Title string
	// Desc leads the chart's description; what the chart shows (axes,
	// scales, series, values left out) follows it.
	Desc       string
	Categories []string
	Series     []Series
	Marks      *Marks
	Value      Axis
	// Horizontal lays the categories down the left side and the bars
	// along the x axis: for long category names.
	Horizontal bool
	// AlertName names alerted values in the legend ("over the limit").
	AlertName string
	// RangeName names the whiskers in the legend ("fastest to slowest").
	RangeName string
}

// Bar geometry.
const (
	barsHeight   = 380.0 // a vertical bar chart's height
	hBarThick    = 11.0  // a horizontal bar's thickness
	hBandGap     = 12.0  // space between two categories of horizontal bars
	bandFill     = 0.78  // share of a vertical band the bars take
	minBarLength = 1.0
	maxBarThick  = 30.0
)

// SVG draws the chart, or returns ErrNoData.
func (b Bars) SVG() (string, error) {
	var all []float64
	drawable, skipped := 0, 0
	for _, s := range b.Series {
		for i := range b.Categories {
			v := s.value(s.Values, i)
			if b.Value.drawable(v) {
				drawable++
				all = append(all, v, s.value(s.Lo, i), s.value(s.Hi, i))
			} else if !math.IsNaN(v) {
				skipped++
			}
		}
	}
	if b.Marks != nil {
		all = append(all, b.Marks.Values...)
	}
	if len(b.Categories) == 0 || drawable == 0 {
		return "", ErrNoData
	}
	a := b.Value
	a.Zero = true
	sc := newScale(a, all)
	items := b.legendItems()
	c := &canvas{id: idOr(b.ID, "bars")}
	// The legend sits under the title; the plot under the legend.
	legendTop := padOuter + titleSize + 10
	g := b.layout(sc, legendTop+legendHeight(items, width-2*padOuter)+12)
	c.open("bars", b.Title, b.describe(sc, skipped), g.height)
	// Reference series fill with a hatch of their colour.
	hatches := map[int]string{}
	named := map[string]string{}
	for j, s := range b.Series {
		if s.Reference {
			hatches[j] = c.hatch(j, colour(s, j))
			named[clean(s.Name)] = hatches[j]
		}
	}
	c.legend(items, padOuter, legendTop, width-2*padOuter, named)
	c.valueGrid(sc, b.Horizontal, g.left, g.right, g.top, g.bottom)
	c.raw(`<g class="bars">`)
	for i := range b.Categories {
		c.category(b, sc, g, i, hatches)
	}
	c.raw(`</g>`)
	c.axisTitle(b.Value.Label, b.Horizontal, g.left, g.right, g.top, g.bottom, g.height)
	return c.close(), nil
}

// barsGeometry is where a bar chart's plot sits on its canvas.
type barsGeometry struct {
	left, right, top, bottom, height float64
}

// layout places the plot below plotTop and points the value scale along
// the bars' direction.
func (b Bars) layout(sc *scale, plotTop float64) barsGeometry {
	tickW := float64(sc.maxTickLen) * tickSize * charWidthEm
	g := barsGeometry{top: plotTop}
	if b.Horizontal {
		labelW := 0.0
		for _, cat := range b.Categories {
			labelW = math.Max(labelW, textWidth(clean(cat), textSize))
		}
		g.left = padOuter + math.Min(labelW, maxLabelW) + 10
		g.right = width - padOuter - tickW/2
		band := float64(max(len(b.Series), 1))*hBarThick + hBandGap
		g.bottom = g.top + band*float64(len(b.Categories))
		g.height = g.bottom + tickSize + 10 + textSize + 14
		sc.from, sc.to = g.left, g.right
	} else {
		g.left = padOuter + textSize + 10 + tickW + 8
		g.right = width - padOuter
		g.height = barsHeight
		g.bottom = g.height - (textSize + 10) - (textSize + 16)
		sc.from, sc.to = g.bottom, g.top
	}
	return g
}

// category draws category i: its label, its bars and its mark.
func (c *canvas) category(b Bars, sc *scale, g barsGeometry, i int, hatches map[int]string) {
	cat := clean(b.Categories[i])
	n := len(b.Categories)
	var lo, hi float64 // the category's band
	if b.Horizontal {
		band := (g.bottom - g.top) / float64(n)
		lo, hi = g.top+float64(i)*band+hBandGap/2, g.top+float64(i+1)*band-hBandGap/2
		c.text(g.left-8, (lo+hi)/2+4, textSize, colourText, "end", shorten(cat, g.left-padOuter-10, textSize))
	} else {
		band := (g.right - g.left) / float64(n)
		lo, hi = g.left+float64(i)*band+band*(1-bandFill)/2, g.left+float64(i+1)*band-band*(1-bandFill)/2
		c.text((lo+hi)/2, g.bottom+textSize+8, textSize, colourText, "middle", shorten(cat, band-4, textSize))
	}
	// The category's bars share its band, centred, each no thicker
	// than maxBarThick: a series without a value here takes no slot.
	var present []int
	for j, s := range b.Series {
		if b.Value.drawable(s.value(s.Values, i)) {
			present = append(present, j)
		}
	}
	thick := math.Min((hi-lo)/float64(max(len(present), 1)), maxBarThick)
	at := (lo+hi)/2 - thick*float64(len(present))/2
	for k, j := range present {
		s := b.Series[j]
		c.bar(b, sc, s, j, i, cat, s.value(s.Values, i), at+float64(k)*thick, thick, hatches[j])
	}
	if b.Marks != nil {
		if v := b.Marks.value(i); b.Value.drawable(v) {
			c.mark(b, sc, cat, v, lo, hi)
		}
	}
}

// mark draws a category's reference value v as a rule across its band.
func (c *canvas) mark(b Bars, sc *scale, cat string, v, lo, hi float64) {
	p := sc.at(v)
	tip := fmt.Sprintf("%s · %s: %s", cat, clean(b.Marks.Name), sc.fmt(v))
	x1, y1, x2, y2 := lo-3, p, hi+3, p
	if b.Horizontal {
		x1, y1, x2, y2 = p, lo-3, p, hi+3
	}
	c.raw(`<line class="mark" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5" stroke-linecap="round"><title>%s</title></line>`,
		f(x1), f(y1), f(x2), f(y2), markColour(b.Marks), esc(tip))
}

// bar draws series s's value v in category i, in the slot from at thick.
func (c *canvas) bar(b Bars, sc *scale, s Series, j, i int, cat string, v, at, thick float64, hatch string) {
	fill := colour(s, j)
	if i < len(s.Alert) && s.Alert[i] {
		fill = colourAlert
	}
	stroke := ""
	if s.Reference && hatch != "" {
		stroke = fmt.Sprintf(` stroke="%s" stroke-width="1" stroke-dasharray="3 2"`, fill)
		fill = hatch
	}
	tip := fmt.Sprintf("%s · %s: %s", cat, clean(s.Name), sc.fmt(v))
	lo, hi := s.value(s.Lo, i), s.value(s.Hi, i)
	ranged := b.hasRange(s, i)
	if ranged {
		tip += fmt.Sprintf(" (from %s to %s)", sc.fmt(lo), sc.fmt(hi))
	}
	if i < len(s.Tips) && s.Tips[i] != "" {
		tip += "; " + clean(s.Tips[i])
	}
	base, p := sc.base(), sc.at(v)
	gap := math.Min(2, thick*0.15)
	if b.Horizontal {
		w := math.Max(p-base, minBarLength)
		c.raw(`<rect class="bar" data-series="%d" x="%s" y="%s" width="%s" height="%s" rx="2" fill="%s"%s><title>%s</title></rect>`,
			j, f(base), f(at+gap/2), f(w), f(thick-gap), fill, stroke, esc(tip))
	} else {
		h := math.Max(base-p, minBarLength)
		c.raw(`<rect class="bar" data-series="%d" x="%s" y="%s" width="%s" height="%s" rx="2" fill="%s"%s><title>%s</title></rect>`,
			j, f(at+gap/2), f(base-h), f(thick-gap), f(h), fill, stroke, esc(tip))
	}
	if ranged {
		a, z, mid, cap := sc.at(lo), sc.at(hi), at+thick/2, math.Min(thick*0.3, 4)
		if b.Horizontal {
			c.raw(`<path class="range" d="M%s %sV%sM%s %sH%sM%s %sV%s" stroke="%s" stroke-width="1.2" fill="none"/>`,
				f(a), f(mid-cap), f(mid+cap), f(a), f(mid), f(z), f(z), f(mid-cap), f(mid+cap), colourText)
		} else {
			c.raw(`<path class="range" d="M%s %sH%sM%s %sV%sM%s %sH%s" stroke="%s" stroke-width="1.2" fill="none"/>`,
				f(mid-cap), f(a), f(mid+cap), f(mid), f(a), f(z), f(mid-cap), f(z), f(mid+cap), colourText)
		}
	}
}

func (m *Marks) value(i int) float64 {
	if i < len(m.Values) {
		return m.Values[i]
	}
	return math.NaN()
}

func markColour(m *Marks) string {
	if validColour(m.Color) {
		return m.Color
	}
	return "#bf8700"
}

// legendItems lists the legend: the series, the marks, the alert colour.
func (b Bars) legendItems() []legendItem {
	var items []legendItem
	for j, s := range b.Series {
		it := legendItem{name: clean(s.Name), colour: colour(s, j), kind: "bar"}
		if s.Reference {
			it.kind = "hatch"
		}
		items = append(items, it)
	}
	if b.Marks != nil {
		items = append(items, legendItem{name: clean(b.Marks.Name), colour: markColour(b.Marks), kind: "mark"})
	}
	if b.RangeName != "" {
		if b.ranged() {
			items = append(items, legendItem{name: clean(b.RangeName), colour: colourText, kind: "range"})
		}
	}
	if b.AlertName != "" {
		for _, s := range b.Series {
			if alerted(s) {
				items = append(items, legendItem{name: clean(b.AlertName), colour: colourAlert, kind: "bar"})
				break
			}
		}
	}
	return items
}

// ranged reports whether any drawn value has a range to whisker.
func (b Bars) ranged() bool {
	for _, s := range b.Series {
		for i := range b.Categories {
			if b.hasRange(s, i) {
				return true
			}
		}
	}
	return false
}

// hasRange reports whether series s's value in category i has a range.
func (b Bars) hasRange(s Series, i int) bool {
	lo, hi := s.value(s.Lo, i), s.value(s.Hi, i)
	return b.Value.drawable(s.value(s.Values, i)) && b.Value.drawable(lo) && b.Value.drawable(hi) && hi > lo
}

func alerted(s Series) bool {
	for _, a := range s.Alert {
		if a {
			return true
		}
	}
	return false
}

func (b Bars) describe(sc *scale, skipped int) string {
	var d strings.Builder
	if b.Desc != "" {
		d.WriteString(strings.TrimSuffix(clean(b.Desc), ".") + ". ")
	}
	dir := "Vertical"
	if b.Horizontal {
		dir = "Horizontal"
	}
	fmt.Fprintf(&d, "%s bar chart of %d categories (%s); series: %s", dir, len(b.Categories), listed(b.Categories), seriesNames(b.Series))
	if b.Marks != nil {
		fmt.Fprintf(&d, "; %s marked across each category", clean(b.Marks.Name))
	}
	fmt.Fprintf(&d, ". Value axis: %s.", sc.describe(b.Value))
	if skipped > 0 {
		fmt.Fprintf(&d, " %d values could not be drawn on this scale.", skipped)
	}
	return d.String()
}

// listed joins up to six names, then says how many more.
func listed(names []string) string {
	const shown = 6
	var out []string
	for i, n := range names {
		if i == shown {
			out = append(out, fmt.Sprintf("and %d more", len(names)-shown))
			break
		}
		out = append(out, clean(n))
	}
	return strings.Join(out, ", ")
}

func seriesNames(ss []Series) string {
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	return listed(names)
}

// idOr is id made safe for element ids and aria references (letters,
// digits, '-' and '_'), or def when empty.
func idOr(id, def string) string {
	if id == "" {
		return def
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, id)
}

// valueGrid draws the value axis's ticks and grid lines across the plot.
func (c *canvas) valueGrid(sc *scale, horizontal bool, left, right, top, bottom float64) {
	c.raw(`<g class="grid">`)
	for _, t := range sc.ticks {
		p := sc.at(t.v)
		if horizontal {
			c.line(p, top, p, bottom, colourGrid, 1, "")
			c.text(p, bottom+tickSize+6, tickSize, colourMuted, "middle", t.label)
		} else {
			c.line(left, p, right, p, colourGrid, 1, "")
			c.text(left-6, p+4, tickSize, colourMuted, "end", t.label)
		}
	}
	if horizontal {
		c.line(left, top, left, bottom, colourAxis, 1, "")
	} else {
		c.line(left, bottom, right, bottom, colourAxis, 1, "")
	}
	c.raw(`</g>`)
}

// axisTitle writes the value axis's label.
func (c *canvas) axisTitle(label string, horizontal bool, left, right, top, bottom, height float64) {
	if label == "" {
		return
	}
	if horizontal {
		c.text((left+right)/2, height-padOuter, textSize, colourMuted, "middle", label)
		return
	}
	c.vtext(padOuter+textSize/2+2, (top+bottom)/2, label)
}
