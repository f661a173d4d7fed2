package reports

import (
	"bytes"
	"embed"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math"
	"strings"
)

// The chart library lives in assets/ (scripts/report-assets.sh); the folder
// is embedded whole so the package compiles before the library is there.
//
//go:embed assets
var assets embed.FS

//go:embed report.html.tmpl
var reportTemplate string

//go:embed report.js
var reportScript string

// chartLibrary is the path of the library within assets.
const chartLibrary = "assets/chart.umd.min.js"

// ErrNoChartLibrary is the HTML writer's error when the binary was built
// without the chart library: run scripts/report-assets.sh and build again.
var ErrNoChartLibrary = errors.New("reports: the chart library is missing from reports/assets: run scripts/report-assets.sh, then build again")

// ChartLibrary returns the embedded chart library's source.
func ChartLibrary() ([]byte, error) {
	b, err := fs.ReadFile(assets, chartLibrary)
	if err != nil || len(b) == 0 {
		return nil, ErrNoChartLibrary
	}
	return b, nil
}

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"count":   countAny,
	"micros":  FormatMicros,
	"ms":      msOrDash,
	"outcome": outcomeLabel,
	"mix":     mixString,
}).Parse(reportTemplate))

// WriteHTML writes the run as one self-contained HTML page: styles, the
// chart library, the data and the code that draws the charts are all
// inside it, so it opens offline.
func WriteHTML(w io.Writer, run *Run) error {
	lib, err := ChartLibrary()
	if err != nil {
		return err
	}
	if bytes.Contains(bytes.ToLower(lib), []byte("</script")) {
		return errors.New("reports: the chart library contains a script end tag")
	}
	data, err := json.Marshal(chartData(run)) // escapes <, > and & inside strings
	if err != nil {
		return fmt.Errorf("encoding chart data: %w", err)
	}
	v := view{Run: run, Summary: Summarise(run), Library: template.JS(lib), Script: template.JS(reportScript), Data: template.JS(data)}
	if run.MITM != nil {
		v.Matrix = matrixView(run.MITM)
	}
	if run.Sim != nil {
		v.Stages = stageRows(run.Sim)
		v.Failures = failureRows(run.Sim.Failures)
		v.Rates = SimRates(run.Sim)
		v.Hostile = hostileRows(run.Sim.Hostile)
	}
	if run.Boards != nil {
		v.Anchors = anchorRows(run.Boards)
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
	Library  template.JS
	Script   template.JS
	Data     template.JS
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
				ev = append(ev, "expected "+v.Expected+": "+v.Source)
			}
			row.Cells = append(row.Cells, matrixCell{Present: true, Class: strings.ReplaceAll(v.Outcome, "_", "-"), Label: outcomeLabel(v.Outcome),
				Expected: outcomeLabel(v.Expected), Mismatch: !v.AsExpected, Evidence: strings.Join(ev, "\n")})
		}
		mx.Rows = append(mx.Rows, row)
	}
	return mx
}

func factLine(f Fact) string {
	var b strings.Builder
	b.WriteString(f.Side + " " + f.Kind)
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

// chartsData is what the page's script draws: one entry per chart, nil
// where the run has no data for it.
type chartsData struct {
	Handshakes []handshakePoint `json:"handshakes,omitempty"`
	Chips      *chipChart       `json:"chips,omitempty"`
	Latency    *latencyChart    `json:"latency,omitempty"`
	Timeline   *timelineChart   `json:"timeline,omitempty"`
}

type handshakePoint struct {
	Label   string  `json:"label"`
	BoardMS float64 `json:"board_ms"`
	WallMS  float64 `json:"wall_ms"`
	LimitMS float64 `json:"limit_ms"`
	OK      bool    `json:"ok"`
}

type chipChart struct {
	Ops    []string     `json:"ops"`
	Series []chipSeries `json:"series"`
}

type chipSeries struct {
	Label  string     `json:"label"`
	Anchor bool       `json:"anchor"`
	Values []*float64 `json:"values"` // per op; null where absent
}

type latencyChart struct {
	Quantiles []string        `json:"quantiles"`
	Series    []latencySeries `json:"series"`
}

type latencySeries struct {
	Stage string    `json:"stage"`
	MS    []float64 `json:"ms"`
}

type timelineChart struct {
	Seconds   []float64 `json:"seconds"`
	Connects  []float64 `json:"connects_per_s"`
	Acked     []float64 `json:"acked_per_s"`
	Received  []float64 `json:"received_per_s"`
	Connected []int64   `json:"connected"`
}

// latencyQuantiles are the percentiles of the latency chart.
var latencyQuantiles = []float64{0, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100}

func chartData(run *Run) chartsData {
	var d chartsData
	if b := run.Boards; b != nil {
		for _, bd := range b.Boards {
			for _, h := range bd.Handshakes {
				if !h.OK {
					continue
				}
				d.Handshakes = append(d.Handshakes, handshakePoint{Label: bd.Name + " · " + h.Profile, BoardMS: h.BoardMS, WallMS: h.WallMS, LimitMS: h.LimitMS, OK: h.WithinLimit()})
			}
		}
		cc := &chipChart{Ops: AnchorOps}
		for _, bd := range b.Boards {
			if bd.Kind == KindVirtual {
				continue // host nanoseconds do not sit on a cycle axis
			}
			s := chipSeries{Label: bd.Chip + " (" + unitOf(bd) + ")", Values: make([]*float64, len(AnchorOps))}
			any := false
			for i, op := range AnchorOps {
				for _, x := range bd.Bench {
					if x.Op == op {
						v := x.Mean
						s.Values[i], any = &v, true
					}
				}
			}
			if any {
				cc.Series = append(cc.Series, s)
			}
		}
		if len(cc.Series) > 0 {
			seen := map[string]bool{}
			for _, a := range Anchors {
				if seen[a.Chip] {
					continue
				}
				seen[a.Chip] = true
				s := chipSeries{Label: "anchor: " + a.Chip, Anchor: true, Values: make([]*float64, len(AnchorOps))}
				for _, b := range Anchors {
					if b.Chip != a.Chip {
						continue
					}
					for i, op := range AnchorOps {
						if b.Op == op {
							v := b.CyclesAt()
							s.Values[i] = &v
						}
					}
				}
				cc.Series = append(cc.Series, s)
			}
			d.Chips = cc
		}
	}
	if s := run.Sim; s != nil {
		lc := &latencyChart{}
		for _, q := range latencyQuantiles {
			lc.Quantiles = append(lc.Quantiles, fmt.Sprintf("p%g", q))
		}
		for _, st := range StageOrder {
			h := s.Histograms[st]
			if h == nil || h.Total == 0 || h.Check() != nil {
				continue
			}
			vals := h.Quantiles(latencyQuantiles...)
			for i := range vals {
				vals[i] = math.Max(vals[i], 1) / 1e3
			}
			lc.Series = append(lc.Series, latencySeries{Stage: st, MS: vals})
		}
		if len(lc.Series) > 0 {
			d.Latency = lc
		}
		if t := s.Timeline; t != nil && len(t.Samples) > 1 {
			tc := &timelineChart{}
			for i := 1; i < len(t.Samples); i++ {
				a, b := t.Samples[i-1], t.Samples[i]
				dt := float64(b.AtMS-a.AtMS) / 1e3
				if dt <= 0 {
					continue
				}
				tc.Seconds = append(tc.Seconds, float64(b.AtMS)/1e3)
				tc.Connects = append(tc.Connects, float64(b.Connects-a.Connects)/dt)
				tc.Acked = append(tc.Acked, float64(b.Acked-a.Acked)/dt)
				tc.Received = append(tc.Received, float64(b.Received-a.Received)/dt)
				tc.Connected = append(tc.Connected, b.Connected)
			}
			d.Timeline = tc
		}
	}
	return d
}

func unitOf(b Board) string {
	for _, x := range b.Bench {
		return x.Unit
	}
	return ""
}

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
