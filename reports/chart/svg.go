package chart

import (
	"errors"
	"fmt"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrNoData is the error of a chart with nothing to draw: no category or
// no drawable value.
var ErrNoData = errors.New("chart: no data to draw")

// Palette gives the series their colours in order: distinct in hue and in
// lightness, readable on white.
var Palette = []string{"#0969da", "#e16f24", "#1a7f37", "#8250df", "#bf3989", "#1b7c83", "#9a6700", "#57606a", "#cf222e"}

// Colours of the frame.
const (
	colourText  = "#1f2328"
	colourMuted = "#57606a"
	colourGrid  = "#eaeef2"
	colourAxis  = "#8c959f"
	colourAlert = "#cf222e"
)

// Geometry of every chart, in view-box units (about pixels at the width
// the report gives a chart).
const (
	width       = 640.0
	titleSize   = 14.0
	textSize    = 12.0
	tickSize    = 11.0
	legendRow   = 18.0
	legendSwat  = 14.0 // legend swatch width
	padOuter    = 12.0
	charWidthEm = 0.58 // average advance of a sans-serif character, in ems
	maxLabelW   = 0.34 * width
)

// textWidth estimates the width of s at size: the page's font is not known
// here, so this is an average advance, generous for digits.
func textWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * charWidthEm
}

// clean makes caller text safe and tidy for the page: invalid UTF-8 and
// control characters become spaces (escaping happens when written).
func clean(s string) string {
	s = strings.ToValidUTF8(s, " ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// shorten cuts s to fit w at size, with an ellipsis.
func shorten(s string, w, size float64) string {
	if textWidth(s, size) <= w {
		return s
	}
	r := []rune(s)
	n := int(w/(size*charWidthEm)) - 1
	if n < 1 {
		n = 1
	}
	if n > len(r) {
		n = len(r)
	}
	return string(r[:n]) + "…"
}

// esc escapes text for an element's content or a quoted attribute.
func esc(s string) string { return html.EscapeString(clean(s)) }

// canvas accumulates one SVG document.
type canvas struct {
	id string
	b  strings.Builder
}

// f formats a coordinate with one decimal, without a trailing ".0".
func f(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}

func (c *canvas) raw(format string, a ...any) { fmt.Fprintf(&c.b, format, a...) }

// open starts the document: its role, its accessible name and description.
func (c *canvas) open(kind, title, desc string, height float64) {
	c.raw(`<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" data-chart="%s" data-kind="%s" viewBox="0 0 %s %s" width="100%%" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">`,
		esc(c.id), kind, f(width), f(height), esc(c.id), esc(c.id))
	c.raw(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.id), esc(title), esc(c.id), esc(desc))
	c.raw(`<rect class="bg" x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`, f(width), f(height))
	c.raw(`<text x="%s" y="%s" font-size="%s" font-weight="600" fill="%s">%s</text>`, f(padOuter), f(padOuter+titleSize), f(titleSize), colourText,
		esc(shorten(title, width-2*padOuter, titleSize)))
}

func (c *canvas) close() string {
	c.b.WriteString(`</svg>`)
	return c.b.String()
}

// text writes a label; anchor is start, middle or end.
func (c *canvas) text(x, y float64, size float64, colour, anchor, s string) {
	c.raw(`<text x="%s" y="%s" font-size="%s" fill="%s" text-anchor="%s">%s</text>`, f(x), f(y), f(size), colour, anchor, esc(s))
}

// vtext writes a label turned a quarter left, centred on (x, y).
func (c *canvas) vtext(x, y float64, s string) {
	c.raw(`<text transform="translate(%s %s) rotate(-90)" font-size="%s" fill="%s" text-anchor="middle">%s</text>`, f(x), f(y), f(textSize), colourMuted, esc(s))
}

func (c *canvas) line(x1, y1, x2, y2 float64, colour string, w float64, extra string) {
	c.raw(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`, f(x1), f(y1), f(x2), f(y2), colour, f(w), extra)
}

// hatch defines the pattern reference series fill with, in colour.
func (c *canvas) hatch(n int, colour string) string {
	id := fmt.Sprintf("%s-hatch-%d", c.id, n)
	c.raw(`<defs><pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="%s" fill-opacity="0.12"/><line x1="0" y1="0" x2="0" y2="6" stroke="%s" stroke-width="2" stroke-opacity="0.55"/></pattern></defs>`,
		esc(id), colour, colour)
	return "url(#" + esc(id) + ")"
}

// legendItem is one entry of a legend.
type legendItem struct {
	name   string
	colour string
	kind   string // "bar", "hatch", "line", "dash", "area", "mark", "range"
}

// legendHeight is the height the items take when wrapped into width w.
func legendHeight(items []legendItem, w float64) float64 {
	rows, _ := legendRows(items, w)
	return float64(rows) * legendRow
}

// legendRows places the items in rows: the number of rows and each item's
// row and x offset.
func legendRows(items []legendItem, w float64) (int, [][2]float64) {
	if len(items) == 0 {
		return 0, nil
	}
	pos := make([][2]float64, len(items))
	row, x := 0, 0.0
	for i, it := range items {
		iw := legendSwat + 6 + textWidth(it.name, textSize) + 16
		if x > 0 && x+iw > w {
			row, x = row+1, 0
		}
		pos[i] = [2]float64{float64(row), x}
		x += iw
	}
	return row + 1, pos
}

// legend draws the items from (x, y), wrapped into width w.
func (c *canvas) legend(items []legendItem, x, y, w float64, fills map[string]string) {
	_, pos := legendRows(items, w)
	c.raw(`<g class="legend">`)
	for i, it := range items {
		lx, ly := x+pos[i][1], y+pos[i][0]*legendRow
		mid := ly + legendRow/2
		c.raw(`<g class="legend-item">`)
		switch it.kind {
		case "bar":
			c.raw(`<rect x="%s" y="%s" width="%s" height="10" rx="2" fill="%s"/>`, f(lx), f(mid-5), f(legendSwat), it.colour)
		case "hatch":
			c.raw(`<rect x="%s" y="%s" width="%s" height="10" rx="2" fill="%s" stroke="%s" stroke-dasharray="3 2"/>`, f(lx), f(mid-5), f(legendSwat), fills[it.name], it.colour)
		case "area":
			c.raw(`<rect x="%s" y="%s" width="%s" height="10" fill="%s" fill-opacity="0.18"/>`, f(lx), f(mid-5), f(legendSwat), it.colour)
			c.line(lx, mid-5, lx+legendSwat, mid-5, it.colour, 2, "")
		case "dash":
			c.line(lx, mid, lx+legendSwat, mid, it.colour, 2.5, ` stroke-dasharray="4 3"`)
		case "range":
			c.raw(`<path d="M%s %sV%sM%s %sH%sM%s %sV%s" stroke="%s" stroke-width="1.2" fill="none"/>`,
				f(lx), f(mid-4), f(mid+4), f(lx), f(mid), f(lx+legendSwat), f(lx+legendSwat), f(mid-4), f(mid+4), it.colour)
		case "mark":
			c.line(lx+legendSwat/2, mid-7, lx+legendSwat/2, mid+7, it.colour, 2.5, "")
		default:
			c.line(lx, mid, lx+legendSwat, mid, it.colour, 2.5, ` stroke-linecap="round"`)
		}
		c.text(lx+legendSwat+6, mid+4, textSize, colourText, "start", it.name)
		c.raw(`</g>`)
	}
	c.raw(`</g>`)
}

// colour is the series' own colour or the palette's i-th.
func colour(s Series, i int) string {
	if s.Color != "" && validColour(s.Color) {
		return s.Color
	}
	return Palette[i%len(Palette)]
}

// validColour accepts #rgb and #rrggbb: colours go into attributes
// unescaped by the browser's CSS parser.
func validColour(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
