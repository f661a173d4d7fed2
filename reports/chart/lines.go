package chart

import (
	"fmt"
	"math"
	"strings"
)

// Lines is a line chart: each series a line through its values, on a
// categorical x axis (Categories, evenly spaced) or a numeric one (X).
type Lines struct {
	// ID is unique within the page: it prefixes the SVG's element ids.
	ID    string
	Title string
	// Desc leads the chart's description; what the chart shows follows.
	Desc string
	// Categories name the x positions of a categorical axis; else X holds
	// the numeric positions the series' values belong to.
	Categories []string
	X          []float64
	XAxis      Axis
	Y          Axis
	// Y2 is the right-hand axis of the series with Right set.
	Y2     Axis
	Series []Series
	// Points marks every value with a dot that carries a hover title.
	Points bool
}

// linesHeight is a line chart's height.
const linesHeight = 380.0

// SVG draws the chart, or returns ErrNoData.
func (l Lines) SVG() (string, error) {
	n := len(l.Categories)
	if n == 0 {
		n = len(l.X)
	}
	left, right, skipped, hasRight := l.collect(n)
	if n == 0 || len(left)+len(right) == 0 {
		return "", ErrNoData
	}
	ys := newScale(l.Y, left)
	var y2 *scale
	if hasRight {
		y2 = newScale(l.Y2, right)
	}
	var xs *scale
	if l.Categories == nil {
		xs = newScale(l.XAxis, l.X)
	}

	items := l.legendItems()
	c := &canvas{id: idOr(l.ID, "lines")}
	legendTop := padOuter + titleSize + 10
	top := legendTop + legendHeight(items, width-2*padOuter) + 12
	bottom := linesHeight - (textSize + 10) - (textSize + 16)
	plotLeft := padOuter + textSize + 10 + float64(ys.maxTickLen)*tickSize*charWidthEm + 8
	plotRight := width - padOuter - 8
	if y2 != nil {
		plotRight = width - padOuter - textSize - 10 - float64(y2.maxTickLen)*tickSize*charWidthEm - 8
	}
	ys.from, ys.to = bottom, top
	if y2 != nil {
		y2.from, y2.to = bottom, top
	}
	x := l.xPixel(xs, plotLeft, plotRight, n)

	c.open("lines", l.Title, l.describe(ys, y2, xs, skipped), linesHeight)
	c.legend(items, padOuter, legendTop, width-2*padOuter, nil)
	c.valueGrid(ys, false, plotLeft, plotRight, top, bottom)
	if y2 != nil {
		c.raw(`<g class="grid-right">`)
		for _, t := range y2.ticks {
			c.text(plotRight+6, y2.at(t.v)+4, tickSize, colourMuted, "start", t.label)
		}
		c.line(plotRight, top, plotRight, bottom, colourAxis, 1, "")
		c.raw(`</g>`)
	}
	c.xAxis(l, xs, x, n, plotLeft, plotRight, bottom)

	// Areas first, so lines draw over them.
	for pass := 0; pass < 2; pass++ {
		for j, s := range l.Series {
			sc, ax := ys, l.Y
			if s.Right {
				sc, ax = y2, l.Y2
			}
			if pass == 0 && s.Area {
				c.area(s, j, sc, ax, x, n, l)
			}
			if pass == 1 {
				c.polyline(s, j, sc, ax, x, n, l)
			}
		}
	}
	if l.Y.Label != "" {
		c.vtext(padOuter+textSize/2+2, (top+bottom)/2, l.Y.Label)
	}
	if y2 != nil && l.Y2.Label != "" {
		c.raw(`<text transform="translate(%s %s) rotate(90)" font-size="%s" fill="%s" text-anchor="middle">%s</text>`,
			f(width-padOuter-textSize/2+2), f((top+bottom)/2), f(textSize), colourMuted, esc(l.Y2.Label))
	}
	if l.XAxis.Label != "" {
		c.text((plotLeft+plotRight)/2, linesHeight-padOuter, textSize, colourMuted, "middle", l.XAxis.Label)
	}
	return c.close(), nil
}

// collect sorts the drawable values of the first n x positions by axis and
// counts the values an axis cannot draw (e.g. zero on a log scale).
func (l Lines) collect(n int) (left, right []float64, skipped int, hasRight bool) {
	for _, s := range l.Series {
		ax := l.axisOf(s)
		hasRight = hasRight || s.Right
		for i := 0; i < n; i++ {
			v := s.value(s.Values, i)
			switch {
			case !l.drawableX(i):
			case ax.drawable(v):
				if s.Right {
					right = append(right, v)
				} else {
					left = append(left, v)
				}
			case !math.IsNaN(v):
				skipped++
			}
		}
	}
	return left, right, skipped, hasRight
}

// xAxis draws the x axis: category names, or ticks of the numeric scale.
func (c *canvas) xAxis(l Lines, xs *scale, x func(int) float64, n int, plotLeft, plotRight, bottom float64) {
	c.raw(`<g class="x-axis">`)
	if xs == nil {
		step := 1
		if slot := (plotRight - plotLeft) / float64(n); slot > 0 {
			widest := 0.0
			for _, cat := range l.Categories {
				widest = math.Max(widest, textWidth(clean(cat), tickSize))
			}
			step = max(1, int(math.Ceil((widest+8)/slot)))
		}
		for i := 0; i < n; i += step {
			c.text(x(i), bottom+tickSize+8, tickSize, colourMuted, "middle", clean(l.Categories[i]))
		}
	} else {
		for _, t := range xs.ticks {
			p := xs.at(t.v)
			c.line(p, bottom, p, bottom+4, colourAxis, 1, "")
			c.text(p, bottom+tickSize+8, tickSize, colourMuted, "middle", t.label)
		}
	}
	c.raw(`</g>`)
}

func (l Lines) axisOf(s Series) Axis {
	if s.Right {
		return l.Y2
	}
	return l.Y
}

// drawableX reports whether x position i has a place on the x axis.
func (l Lines) drawableX(i int) bool {
	if l.Categories != nil {
		return true
	}
	return l.XAxis.drawable(l.X[i])
}

// xPixel maps the i-th x position to its pixel.
func (l Lines) xPixel(xs *scale, left, right float64, n int) func(int) float64 {
	if xs != nil {
		xs.from, xs.to = left, right
		return func(i int) float64 { return xs.at(l.X[i]) }
	}
	slot := (right - left) / float64(n)
	return func(i int) float64 { return left + slot*(float64(i)+0.5) }
}

// segments splits a series into runs of drawable points.
func (l Lines) segments(s Series, ax Axis, n int) [][]int {
	var segs [][]int
	var cur []int
	for i := 0; i < n; i++ {
		if l.drawableX(i) && ax.drawable(s.value(s.Values, i)) {
			cur = append(cur, i)
			continue
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}

func (c *canvas) polyline(s Series, j int, sc *scale, ax Axis, x func(int) float64, n int, l Lines) {
	col := colour(s, j)
	dash := ""
	if s.Reference {
		dash = ` stroke-dasharray="6 4"`
	}
	var d strings.Builder
	for _, seg := range l.segments(s, ax, n) {
		for k, i := range seg {
			cmd := "L"
			if k == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%s %s", cmd, f(x(i)), f(sc.at(s.Values[i])))
		}
	}
	c.raw(`<g class="series" data-series="%d">`, j)
	c.raw(`<path class="line" d="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"%s><title>%s</title></path>`,
		d.String(), col, dash, esc(s.Name))
	if l.Points {
		for _, seg := range l.segments(s, ax, n) {
			for _, i := range seg {
				tip := fmt.Sprintf("%s · %s: %s", clean(s.Name), l.xName(i), ax.format(s.Values[i]))
				if i < len(s.Tips) && s.Tips[i] != "" {
					tip += "; " + clean(s.Tips[i])
				}
				c.raw(`<circle class="point" cx="%s" cy="%s" r="3" fill="#ffffff" stroke="%s" stroke-width="1.5"><title>%s</title></circle>`,
					f(x(i)), f(sc.at(s.Values[i])), col, esc(tip))
			}
		}
	}
	c.raw(`</g>`)
}

func (c *canvas) area(s Series, j int, sc *scale, ax Axis, x func(int) float64, n int, l Lines) {
	base := sc.base()
	var d strings.Builder
	for _, seg := range l.segments(s, ax, n) {
		fmt.Fprintf(&d, "M%s %s", f(x(seg[0])), f(base))
		for _, i := range seg {
			fmt.Fprintf(&d, "L%s %s", f(x(i)), f(sc.at(s.Values[i])))
		}
		fmt.Fprintf(&d, "L%s %sZ", f(x(seg[len(seg)-1])), f(base))
	}
	c.raw(`<path class="area" d="%s" fill="%s" fill-opacity="0.14" stroke="none"/>`, d.String(), colour(s, j))
}

// xName is the x position's name for a hover title.
func (l Lines) xName(i int) string {
	if l.Categories != nil {
		return clean(l.Categories[i])
	}
	return l.XAxis.format(l.X[i])
}

func (l Lines) legendItems() []legendItem {
	var items []legendItem
	for j, s := range l.Series {
		it := legendItem{name: clean(s.Name), colour: colour(s, j), kind: "line"}
		switch {
		case s.Area:
			it.kind = "area"
		case s.Reference:
			it.kind = "dash"
		}
		if s.Right && l.Y2.Label != "" {
			it.name += " (right axis)"
		}
		items = append(items, it)
	}
	return items
}

func (l Lines) describe(ys, y2, xs *scale, skipped int) string {
	var d strings.Builder
	if l.Desc != "" {
		d.WriteString(strings.TrimSuffix(clean(l.Desc), ".") + ". ")
	}
	fmt.Fprintf(&d, "Line chart of %d series (%s)", len(l.Series), seriesNames(l.Series))
	if xs == nil {
		fmt.Fprintf(&d, " over %d categories (%s)", len(l.Categories), listed(l.Categories))
	} else {
		fmt.Fprintf(&d, "; x axis: %s", xs.describe(l.XAxis))
	}
	fmt.Fprintf(&d, "; y axis: %s", ys.describe(l.Y))
	if y2 != nil {
		fmt.Fprintf(&d, "; right y axis: %s", y2.describe(l.Y2))
	}
	d.WriteString(".")
	if skipped > 0 {
		fmt.Fprintf(&d, " %d values could not be drawn on this scale.", skipped)
	}
	return d.String()
}
