package reports

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var reportTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"count":  countAny,
	"micros": FormatMicros,
	"ms":     msOrDash,
	"mix":    mixString,
}).Parse(reportTemplate))

// WriteHTML writes the run as one self-contained HTML page: styles, data
// and the charts (inline SVG drawn here) are all inside it, with no script,
// so it opens offline and in any browser.
func WriteHTML(w io.Writer, run *Run) error {
	cs, err := drawCharts(run)
	if err != nil {
		return err
	}
	v := view{Run: run, Summary: Summarise(run), Charts: cs}
	if run.MITM != nil {
		v.Matrix = matrixView(run.MITM)
	}
	if run.Sim != nil {
		v.Stages = stageRows(run.Sim)
		v.Failures = failureRows(run.Sim.Failures)
		v.Rates = run.Sim.Rates()
		v.Hostile = hostileRows(run.Sim.Hostile)
	}
	if run.Boards != nil {
		v.Anchors = anchorRows(run.Boards)
		for _, b := range run.Boards.Boards {
			v.BenchCount += len(b.Bench)
		}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("reports: rendering HTML: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

type view struct {
	Run      *Run
	Summary  Summary
	Matrix   *matrix
	Stages   []stageRow
	Failures [][3]string
	Hostile  [][3]string
	Rates    Rates
	Anchors  []anchorRow
	// BenchCount is the number of bench figures over all boards.
	BenchCount int
	Charts     charts
}

type matrix struct {
	Columns []string
	Rows    []matrixRow
}

type matrixRow struct {
	Scenario string
	Cells    []matrixCell
}

type matrixCell struct {
	Present  bool
	Class    string // outcome class for the colour
	Label    string
	Expected string
	Mismatch bool
	Evidence string // one fact per line
}

func matrixView(m *MITM) *matrix {
	cells := matrixCells(m)
	mx := &matrix{Columns: m.Columns}
	for _, s := range m.Scenarios {
		row := matrixRow{Scenario: s}
		for _, c := range m.Columns {
			v, ok := cells[[2]string{s, c}]
			if !ok {
				row.Cells = append(row.Cells, matrixCell{})
				continue
			}
			var ev []string
			for _, f := range v.Evidence {
				ev = append(ev, factLine(f))
			}
			if v.Error != "" {
				ev = append(ev, "error: "+v.Error)
			}
			if v.Source != "" {
				ev = append(ev, "expected "+string(v.Expected)+": "+v.Source)
			}
			row.Cells = append(row.Cells, matrixCell{Present: true, Class: strings.ReplaceAll(string(v.Outcome), "_", "-"), Label: v.Outcome.Label(),
				Expected: v.Expected.Label(), Mismatch: !v.AsExpected, Evidence: strings.Join(ev, "\n")})
		}
		mx.Rows = append(mx.Rows, row)
	}
	return mx
}

func factLine(f Fact) string {
	var b strings.Builder
	b.WriteString(string(f.Side) + " " + string(f.Kind))
	for _, kv := range [][2]string{{"stage", f.Stage}, {"reason", f.Reason}, {"field", f.Field}, {"value", f.Value}, {"note", f.Note}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
		}
	}
	if f.Count != 0 {
		fmt.Fprintf(&b, " count=%d", f.Count)
	}
	return b.String()
}

type stageRow struct {
	Stage               string
	Samples             int64
	P50, P90, P99, P999 string
	Max                 string
}

func stageRows(s *Sim) []stageRow {
	var rows []stageRow
	for _, st := range StageOrder {
		h := s.Histograms[st]
		if h == nil || h.Total == 0 {
			continue
		}
		q := h.Quantiles(50, 90, 99, 99.9, 100)
		rows = append(rows, stageRow{Stage: st, Samples: h.Total, P50: FormatMicros(q[0]), P90: FormatMicros(q[1]),
			P99: FormatMicros(q[2]), P999: FormatMicros(q[3]), Max: FormatMicros(q[4])})
	}
	return rows
}

func hostileRows(m map[string]map[string]int64) [][3]string { return failureRows(m) }

// countAny formats any number with thousands separators.
func countAny(v any) string {
	switch x := v.(type) {
	case float64:
		return FormatCount(x)
	case int:
		return FormatCount(float64(x))
	case int64:
		return FormatCount(float64(x))
	case uint64:
		return FormatCount(float64(x))
	}
	return fmt.Sprint(v)
}
