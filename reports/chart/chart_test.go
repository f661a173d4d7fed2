package chart_test

import (
	"math"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports/chart"
)

var nan = math.NaN()

func chips() chart.Bars {
	return chart.Bars{
		ID:         "chips",
		Title:      "Cycles per chip",
		Desc:       "Our counts beside published anchors",
		Categories: []string{"x25519", "ecdh_p256", "ecdh_secp160r1"},
		Series: []chart.Series{
			{Name: "ATmega328P", Values: []float64{22_921_626, 292_967_041, 82_457_012}},
			{Name: "Cortex-M3", Values: []float64{3_966_480, 20_889_760, nan}},
			{Name: "anchor: Cortex-M0", Values: []float64{3_589_850, nan, nan}, Reference: true},
		},
		Value: chart.Axis{Label: "cycles (log scale)", Log: true},
	}
}

func handshakes() chart.Bars {
	return chart.Bars{
		ID:         "hs",
		Title:      "Handshake time",
		Categories: []string{"virtual · noise", "uno · noise", "uno · psk"},
		Series: []chart.Series{
			{Name: "board time", Values: []float64{1.7, 4353, 0.08}, Lo: []float64{1.2, 4353, 0.05}, Hi: []float64{2.9, 4353, 0.2},
				Alert: []bool{false, true, false}, Tips: []string{"3 handshakes", "1 handshake", "3 handshakes"}},
			{Name: "wall time", Values: []float64{2.1, 4354, 0.4}},
		},
		Marks:      &chart.Marks{Name: "limit", Values: []float64{1000, 4000, nan}},
		Value:      chart.Axis{Label: "time (log scale)", Log: true},
		Horizontal: true,
		AlertName:  "over the limit",
		RangeName:  "fastest to slowest",
	}
}

func latency() chart.Lines {
	return chart.Lines{
		ID:         "lat",
		Title:      "Latency by percentile",
		Categories: []string{"p50", "p90", "p99", "p100"},
		XAxis:      chart.Axis{Label: "percentile"},
		Y:          chart.Axis{Label: "ms (log scale)", Log: true},
		Series: []chart.Series{
			{Name: "connect", Values: []float64{2.3, 3.1, 4.6, 9}},
			{Name: "handshake", Values: []float64{0.4, nan, 1.1, 2}},
		},
		Points: true,
	}
}

func timeline() chart.Lines {
	return chart.Lines{
		ID:     "tl",
		Title:  "Throughput over time",
		X:      []float64{0.5, 1, 1.5, 2, 2.5},
		XAxis:  chart.Axis{Label: "seconds", Zero: true},
		Y:      chart.Axis{Label: "per second", Zero: true},
		Y2:     chart.Axis{Label: "devices connected", Zero: true},
		Series: []chart.Series{{Name: "connects/s", Values: []float64{100, 400, 380, 20, 0}}, {Name: "connected", Values: []float64{50, 250, 440, 450, 450}, Area: true, Right: true}},
	}
}

func draw(c interface{ SVG() (string, error) }) (string, *node) {
	svg, err := c.SVG()
	Expect(err).NotTo(HaveOccurred())
	return svg, parse(svg)
}

var _ = Describe("Bars", func() {
	It("draws one bar per drawable value, hatches the reference series and names each bar", func() {
		_, doc := draw(chips())
		bars := doc.all("rect", "bar")
		Expect(bars).To(HaveLen(6))
		Expect(bars[0].title()).To(Equal("x25519 · ATmega328P: 22.9M"))
		var hatched int
		for _, b := range bars {
			if strings.HasPrefix(b.attrs["fill"], "url(#chips-hatch-") {
				hatched++
			}
		}
		Expect(hatched).To(Equal(1))
		Expect(doc.all("pattern", "")).To(HaveLen(1))
	})

	It("is an accessible image: role, a title and a description that name the axes and series", func() {
		_, doc := draw(chips())
		Expect(doc.attrs["role"]).To(Equal("img"))
		Expect(doc.attrs["aria-labelledby"]).To(Equal("chips-title chips-desc"))
		var title, desc string
		for _, c := range doc.children {
			switch c.attrs["id"] {
			case "chips-title":
				title = c.text
			case "chips-desc":
				desc = c.text
			}
		}
		Expect(title).To(Equal("Cycles per chip"))
		Expect(desc).To(HavePrefix("Our counts beside published anchors. Vertical bar chart of 3 categories (x25519, ecdh_p256, ecdh_secp160r1)"))
		Expect(desc).To(ContainSubstring("cycles (log scale) (logarithmic scale from 1M to 1G)"))
		Expect(doc.texts()).To(ContainElements("Cycles per chip", "cycles (log scale)", "ATmega328P", "anchor: Cortex-M0", "x25519", "1M", "10M", "100M", "1G"))
	})

	It("grows bars with their values on a logarithmic scale", func() {
		_, doc := draw(chips())
		bars := doc.all("rect", "bar")
		h := func(i int) float64 { return bars[i].num("height") }
		// ATmega328P x25519 (22.9M) against Cortex-M3 x25519 (3.97M): about
		// log10(5.78) of a decade apart.
		decade := (h(0) - h(1)) / math.Log10(22_921_626.0/3_966_480)
		Expect(h(3) - h(0)).To(BeNumerically("~", decade*math.Log10(292_967_041.0/22_921_626), 1))
		Expect(bars[0].num("y") + h(0)).To(Equal(bars[1].num("y") + h(1))) // one baseline
	})

	It("draws horizontal bars with whiskers, limit marks, alerts and their legend", func() {
		_, doc := draw(handshakes())
		bars := doc.all("rect", "bar")
		Expect(bars).To(HaveLen(6))
		Expect(doc.all("path", "range")).To(HaveLen(2)) // the uno's single sample has no range
		Expect(doc.all("line", "mark")).To(HaveLen(2))
		Expect(bars[0].title()).To(Equal("virtual · noise · board time: 1.7 (from 1.2 to 2.9); 3 handshakes"))
		Expect(bars[2].attrs["fill"]).To(Equal("#cf222e"), "the uno's noise handshake is over its limit")
		Expect(bars[0].attrs["fill"]).NotTo(Equal("#cf222e"))
		Expect(bars[2].num("width")).To(BeNumerically(">", bars[0].num("width")))
		Expect(doc.texts()).To(ContainElements("board time", "wall time", "limit", "over the limit", "fastest to slowest", "virtual · noise"))
	})

	It("leaves out what a logarithmic axis cannot show and says how much", func() {
		b := chips()
		b.Series[0].Values = []float64{0, -3, math.Inf(1)}
		_, doc := draw(b)
		Expect(doc.all("rect", "bar")).To(HaveLen(3))
		Expect(doc.all("desc", "")[0].text).To(ContainSubstring("3 values could not be drawn on this scale."))
	})

	It("returns ErrNoData when there is nothing to draw", func() {
		b := chips()
		b.Categories = nil
		_, err := b.SVG()
		Expect(err).To(MatchError(chart.ErrNoData))
		b = chips()
		for i := range b.Series {
			b.Series[i].Values = []float64{nan, nan, nan}
		}
		_, err = b.SVG()
		Expect(err).To(MatchError(chart.ErrNoData))
	})

	It("escapes every text it is given and takes only plain colours", func() {
		b := handshakes()
		b.Title = `</svg><script>alert(1)</script>`
		b.Categories[0] = `<img src=x onerror=alert(1)>`
		b.Series[0].Name = "a\x00b\"c'd&e\xff"
		b.Series[1].Color = `red" onload="alert(1)`
		b.Marks.Name = "<b>limit</b>"
		svg, doc := draw(b)
		Expect(svg).NotTo(ContainSubstring("<script"))
		Expect(svg).NotTo(ContainSubstring("<img"))
		Expect(svg).NotTo(ContainSubstring("onload"))
		Expect(svg).NotTo(ContainSubstring("<b>"))
		Expect(doc.texts()).To(ContainElement(`</svg><script>alert(1)</script>`))
		Expect(doc.texts()).To(ContainElement("a b\"c'd&e "))
		Expect(doc.all("rect", "bar")[1].attrs["fill"]).To(Equal(chart.Palette[1]))
	})

	It("writes the same bytes for the same chart, and ids of its own", func() {
		a, _ := draw(chips())
		b, _ := draw(chips())
		Expect(a).To(Equal(b))
		c := chips()
		c.ID = "other"
		o, _ := draw(c)
		Expect(o).NotTo(ContainSubstring(`id="chips-`))
	})
})

var _ = Describe("Lines", func() {
	It("draws a line per series on categories, broken where a value is missing, with a titled point per value", func() {
		_, doc := draw(latency())
		lines := doc.all("path", "line")
		Expect(lines).To(HaveLen(2))
		Expect(strings.Count(lines[0].attrs["d"], "M")).To(Equal(1))
		Expect(strings.Count(lines[1].attrs["d"], "M")).To(Equal(2), "the handshake's p90 is missing")
		points := doc.all("circle", "point")
		Expect(points).To(HaveLen(7))
		Expect(points[2].title()).To(Equal("connect · p99: 4.6"))
		Expect(doc.texts()).To(ContainElements("p50", "p100", "percentile", "ms (log scale)", "connect", "handshake"))
		// Higher percentiles sit higher (smaller y).
		Expect(points[3].num("cy")).To(BeNumerically("<", points[0].num("cy")))
	})

	It("draws numeric x, a second axis and an area below its series", func() {
		_, doc := draw(timeline())
		Expect(doc.all("path", "line")).To(HaveLen(2))
		Expect(doc.all("path", "area")).To(HaveLen(1))
		Expect(doc.all("circle", "point")).To(BeEmpty())
		Expect(doc.texts()).To(ContainElements("seconds", "per second", "devices connected", "connected (right axis)", "0", "2.5", "500"))
		desc := doc.all("desc", "")[0].text
		Expect(desc).To(ContainSubstring("x axis: seconds (linear scale from 0 to 2.5)"))
		Expect(desc).To(ContainSubstring("right y axis: devices connected (linear scale from 0 to 500)"))
	})

	It("returns ErrNoData without a drawable value", func() {
		l := timeline()
		l.X = nil
		_, err := l.SVG()
		Expect(err).To(MatchError(chart.ErrNoData))
	})
})

var _ = DescribeTable("Compact prints three significant figures with an SI suffix",
	func(v float64, want string) { Expect(chart.Compact(v)).To(Equal(want)) },
	Entry("zero", 0.0, "0"),
	Entry("a fraction", 0.25, "0.25"),
	Entry("small", 0.001, "0.001"),
	Entry("hundreds", 950.0, "950"),
	Entry("just under a thousand", 999.7, "1k"),
	Entry("thousands", 1_500.0, "1.5k"),
	Entry("millions", 22_921_626.0, "22.9M"),
	Entry("billions", 4_353_427_872.0, "4.35G"),
	Entry("negative", -2_500.0, "-2.5k"),
	Entry("not a number", math.NaN(), "–"),
)
