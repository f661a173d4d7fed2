package reports

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteMarkdown writes the run's summary in GitHub-flavoured Markdown, for a
// CI job summary: the verdict, the MITM matrix, the simulator's quantiles,
// the board figures with their limits and anchors.
func WriteMarkdown(w io.Writer, run *Run) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	title := run.Title
	if title == "" {
		title = "shakedown run"
	}
	sum := Summarise(run)
	p("# %s\n\n", mdEscape(title))
	p("**Verdict: %s**\n\n", map[bool]string{true: "✅ as expected", false: "❌ needs attention"}[sum.OK])
	for _, l := range sum.Lines {
		p("- %s **%s**: %s\n", mark(l.OK), l.Section, mdEscape(l.Text))
	}
	for _, n := range run.Notes {
		p("- note: %s\n", mdEscape(n))
	}
	p("\n")
	if m := run.MITM; m != nil {
		p("## MITM matrix\n\n")
		p("| scenario |")
		for _, c := range m.Columns {
			p(" %s |", mdEscape(c))
		}
		p("\n| --- |%s\n", strings.Repeat(" :---: |", len(m.Columns)))
		cells := matrixCells(m)
		for _, s := range m.Scenarios {
			p("| %s |", mdEscape(s))
			for _, c := range m.Columns {
				v, ok := cells[[2]string{s, c}]
				switch {
				case !ok:
					p(" |")
				case v.AsExpected:
					p(" %s |", v.Outcome.Label())
				default:
					p(" **%s** (expected %s) |", v.Outcome.Label(), v.Expected.Label())
				}
			}
			p("\n")
		}
		p("\n")
	}
	if s := run.Sim; s != nil {
		p("## Simulated fleet\n\n")
		r := s.Rates()
		p("%d devices, mix %s; %.0f connects/s, %.0f publishes/s.\n\n", s.Scenario.Devices, mixString(s.Scenario.Mix), r.ConnectsPerSecond, r.PublishesPerSecond)
		p("| stage | samples | p50 | p90 | p99 | p99.9 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, st := range StageOrder {
			h := s.Histograms[st]
			if h == nil || h.Total == 0 {
				continue
			}
			q := h.Quantiles(50, 90, 99, 99.9, 100)
			p("| %s | %s | %s | %s | %s | %s | %s |\n", st, FormatCount(float64(h.Total)), FormatMicros(q[0]), FormatMicros(q[1]), FormatMicros(q[2]), FormatMicros(q[3]), FormatMicros(q[4]))
		}
		if rows := failureRows(s.Failures); len(rows) > 0 {
			p("\n| failed stage | reason | count |\n| --- | --- | ---: |\n")
			for _, r := range rows {
				p("| %s | %s | %s |\n", mdEscape(r[0]), mdEscape(r[1]), r[2])
			}
		}
		p("\n")
	}
	if b := run.Boards; b != nil {
		p("## Boards\n\n")
		p("| board | profile | result | board cost | board time | limit | wall time |\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n")
		for _, bd := range b.Boards {
			for _, h := range bd.Handshakes {
				res := "ok"
				if !h.OK {
					res = "failed: " + h.Reason
				} else if !h.WithinLimit() {
					res = "OVER LIMIT"
				}
				p("| %s | %s | %s | %s %s | %s | %s | %s |\n", mdEscape(bd.Name), mdEscape(h.Profile), mdEscape(res), FormatCount(float64(h.Total)), mdEscape(h.Unit),
					msOrDash(h.BoardMS), msOrDash(h.LimitMS), msOrDash(h.WallMS))
			}
		}
		p("\n")
		if rows := anchorRows(b); len(rows) > 0 {
			p("| operation | chip | count | unit | published anchor |\n| --- | --- | ---: | --- | --- |\n")
			for _, r := range rows {
				p("| %s | %s | %s | %s | %s |\n", r.Op, mdEscape(r.Chip), FormatCount(r.Value), r.Unit, mdEscape(r.Anchor))
			}
			p("\n")
		}
	}
	return bw.Flush()
}

// WriteComparisonMarkdown writes the regressions and improvements of a
// comparison (figures that stayed within tolerance are counted, not listed).
func WriteComparisonMarkdown(w io.Writer, c *Comparison) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	reg := c.Regressions()
	p("## Against the baseline\n\n")
	p("Tolerances: exact figures %g %%, wall-clock figures %g %%. %s\n\n", c.Tolerances.Exact, c.Tolerances.WallPercent,
		map[bool]string{true: fmt.Sprintf("❌ **%d regressions.**", len(reg)), false: "✅ no regression."}[len(reg) > 0])
	counts := map[string]int{}
	for _, d := range c.Deltas {
		counts[d.Status]++
	}
	p("%d figures: %d ok, %d improved, %d regressed, %d missing, %d new.\n\n", len(c.Deltas), counts[StatusOK], counts[StatusImproved],
		counts[StatusRegressed], counts[StatusMissing], counts[StatusNew])
	var shown []Delta
	for _, d := range c.Deltas {
		if d.Status == StatusRegressed || d.Status == StatusImproved || d.Status == StatusMissing {
			shown = append(shown, d)
		}
	}
	if len(shown) > 0 {
		p("| figure | compared | baseline | run | change | allowed | status |\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n")
		for _, d := range shown {
			run := fmtFigure(d.Value)
			if d.Status == StatusMissing {
				run = "-"
			}
			p("| %s | %s | %s | %s | %s | %g %% | %s |\n", mdEscape(d.Key), compared(d), fmtFigure(d.Baseline), run, fmtChange(d), d.AllowedPercent, d.Status)
		}
		p("\n")
	}
	return bw.Flush()
}

// compared says which statistic of how many samples a delta compares,
// e.g. "median of 3 / 5".
func compared(d Delta) string {
	n := len(d.Samples)
	if d.Status == StatusMissing {
		n = 0
	}
	return fmt.Sprintf("%s of %d / %d", d.Statistic, len(d.BaselineSamples), n)
}

// fmtChange prints a change in percent with enough digits to show one
// cycle in millions.
func fmtChange(d Delta) string {
	c := d.ChangePercent
	switch {
	case d.Status == StatusMissing || c == 0:
		return "0 %"
	case math.IsInf(c, 0):
		return map[bool]string{true: "+∞ %", false: "-∞ %"}[c > 0]
	case math.Abs(c) < 0.01:
		return fmt.Sprintf("%+.2g %%", c)
	}
	return fmt.Sprintf("%+.2f %%", c)
}

func fmtFigure(v float64) string {
	if v == float64(int64(v)) {
		return FormatCount(v)
	}
	return fmt.Sprintf("%.4g", v)
}

func msOrDash(ms float64) string {
	if ms <= 0 {
		return "-"
	}
	return FormatMicros(ms * 1e3)
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

// mdEscape keeps table cells in their cells.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mixString(m map[string]float64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %g", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func matrixCells(m *MITM) map[[2]string]Verdict {
	cells := make(map[[2]string]Verdict, len(m.Verdicts))
	for _, v := range m.Verdicts {
		cells[[2]string{v.Scenario, v.Column}] = v
	}
	return cells
}

// anchorRow is one chip's count of an anchored operation, with the anchors.
type anchorRow struct {
	Op, Chip, Unit, Anchor string
	Value                  float64
}

func anchorRows(b *Boards) []anchorRow {
	var rows []anchorRow
	for _, op := range AnchorOps {
		var anchors []string
		for _, a := range Anchors {
			if a.Op == op {
				anchors = append(anchors, fmt.Sprintf("%s: %s cycles (%s)", a.Chip, FormatCount(a.CyclesAt()), a.Source))
			}
		}
		for _, bd := range b.Boards {
			if bd.Kind == KindVirtual {
				continue // host nanoseconds do not compare with cycles
			}
			for _, x := range bd.Bench {
				if x.Op == op {
					rows = append(rows, anchorRow{Op: op, Chip: bd.Chip, Unit: x.Unit, Value: x.Mean, Anchor: strings.Join(anchors, "; ")})
				}
			}
		}
	}
	return rows
}
