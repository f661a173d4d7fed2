package chart_test

import (
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"shakedown/reports/chart"
)

// FuzzCharts draws bars and lines of arbitrary values and names: each
// chart is well-formed XML with finite coordinates, or ErrNoData.
func FuzzCharts(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, "x25519", true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8}, "<&>", false)
	f.Fuzz(func(t *testing.T, raw []byte, name string, log bool) {
		var vs []float64
		for len(raw) >= 8 && len(vs) < 64 {
			vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(raw)))
			raw = raw[8:]
		}
		cats := make([]string, len(vs))
		xs := make([]float64, len(vs))
		for i := range cats {
			cats[i] = name
			xs[i] = float64(i)
		}
		ax := chart.Axis{Label: name, Log: log}
		s := chart.Series{Name: name, Values: vs, Lo: vs, Hi: vs}
		for _, c := range []interface{ SVG() (string, error) }{
			chart.Bars{Title: name, Categories: cats, Series: []chart.Series{s}, Value: ax, Marks: &chart.Marks{Name: name, Values: vs}},
			chart.Bars{Title: name, Categories: cats, Series: []chart.Series{s}, Value: ax, Horizontal: true},
			chart.Lines{Title: name, Categories: cats, Series: []chart.Series{s}, Y: ax, Points: true},
			chart.Lines{Title: name, X: vs, XAxis: ax, Series: []chart.Series{s, {Values: xs, Right: true, Area: true}}, Y: ax},
		} {
			svg, err := c.SVG()
			if errors.Is(err, chart.ErrNoData) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(svg, "NaN") && !strings.Contains(name, "NaN") || strings.Contains(svg, "Inf") && !strings.Contains(name, "Inf") {
				t.Fatalf("a coordinate is not finite: %s", svg)
			}
			dec := xml.NewDecoder(strings.NewReader(svg))
			for {
				_, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed: %v", err)
				}
			}
		}
	})
}
