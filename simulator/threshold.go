package simulator

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"shakedown/reports"
)

// Threshold is a pass/fail criterion on a run's results, written as one
// expression in the manner of k6's thresholds: a metric, a comparison and
// a bound.
//
//	connect.p99<2s            a stage's latency quantile (p50, p90, p95, p99, p99.9, p(99), mean, min, max)
//	missing==0                a count of the results file (counts.*)
//	devices_lost_ratio<0.01   a failure ratio
//	publishes_per_s>=1000     a rate
//
// Operators: < <= > >= == !=. Latencies take a duration with its unit
// (2s, 150ms, 500us); counts, ratios and rates take a number.
type Threshold struct {
	Metric string  // canonical name: "connect.p99", "sessions_lost"
	Op     string  // one of Ops
	Bound  float64 // for latencies, nanoseconds
	kind   metricKind
	expr   string // as written, spaces removed
}

// Ops are the comparisons a threshold may use, longest first (the parser
// tries them in this order).
var Ops = []string{"<=", ">=", "==", "!=", "<", ">"}

type metricKind int

const (
	kindCount metricKind = iota
	kindRatio
	kindRate
	kindLatency
)

// Limits of a threshold list.
const (
	MaxThresholds   = 64
	maxThresholdLen = 128
)

// DefaultThresholds hold for every run unless the scenario sets a
// threshold on the same family of metrics (ThresholdFamily): no
// acknowledged message missing, no publish left unacknowledged, and no
// legitimate device lost.
var DefaultThresholds = []string{"missing==0", "publish_failed==0", "devices_lost==0"}

// ErrThreshold is a threshold expression that cannot be read.
var ErrThreshold = errors.New("simulator: bad threshold")

// ThresholdError is an expression that cannot be read: which one, and why.
// The expression is quoted only when it is short printable ASCII.
type ThresholdError struct {
	Expr   string
	Reason string
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("simulator: threshold %s: %s", quoteExpr(e.Expr), e.Reason)
}
func (e *ThresholdError) Unwrap() error { return ErrThreshold }

// quoteExpr quotes s when it is printable; anything else is not shown.
func quoteExpr(s string) string {
	if !printable(s) {
		return "(not shown: empty, too long or not printable)"
	}
	return strconv.Quote(s)
}

// printable reports whether s is 1 to maxThresholdLen bytes of printable ASCII.
func printable(s string) bool {
	if len(s) == 0 || len(s) > maxThresholdLen {
		return false
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ParseThreshold reads one threshold expression.
func ParseThreshold(expr string) (Threshold, error) {
	fail := func(format string, a ...any) (Threshold, error) {
		return Threshold{}, &ThresholdError{Expr: expr, Reason: fmt.Sprintf(format, a...)}
	}
	if !printable(expr) {
		return fail("want at most %d printable characters", maxThresholdLen)
	}
	s := strings.ReplaceAll(expr, " ", "")
	at := strings.IndexAny(s, "<>=!")
	if at <= 0 {
		return fail("want METRIC OP VALUE, for example connect.p99<2s or missing==0")
	}
	op := ""
	for _, o := range Ops {
		if strings.HasPrefix(s[at:], o) {
			op = o
			break
		}
	}
	if op == "" {
		return fail("want one of the operators %s", strings.Join(Ops, " "))
	}
	name, value := s[:at], s[at+len(op):]
	if strings.ContainsAny(value, "<>=!") {
		return fail("one comparison per threshold")
	}
	m, ok := lookupMetric(name)
	if !ok {
		return fail("unknown metric (the metrics are listed in 'shakedown sim --help')")
	}
	t := Threshold{Metric: m.name, Op: op, kind: m.kind, expr: m.name + op + value}
	if m.kind == kindLatency {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fail("a latency wants a duration with its unit, for example 2s or 150ms")
		}
		t.Bound = float64(d)
		return t, nil
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || !finite(f) {
		return fail("want a number after %s", op)
	}
	t.Bound = f
	return t, nil
}

// ParseThresholds reads a list of expressions.
func ParseThresholds(exprs []string) ([]Threshold, error) {
	if len(exprs) > MaxThresholds {
		return nil, fmt.Errorf("%w: more than %d thresholds", ErrThreshold, MaxThresholds)
	}
	out := make([]Threshold, 0, len(exprs))
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (t Threshold) String() string { return t.expr }

// ThresholdFamily is the group of metrics a default threshold stands for:
// a threshold of the scenario's on any metric of a family replaces the
// default of that family. Setting one is how a scenario says how much
// loss it expects.
func ThresholdFamily(metric string) string {
	base := strings.TrimSuffix(metric, "_ratio")
	switch base {
	case "devices_lost", "connect_failed", "sessions_lost":
		return "devices_lost"
	case "missing", "publish_failed":
		return base
	}
	return metric
}

// metric is a name thresholds may use.
type metric struct {
	name string
	kind metricKind
}

// countAliases are other names of counts: the issue tracker's and the
// k6-like spelling users type.
var countAliases = map[string]string{"lost_sessions": "sessions_lost", "lost_devices": "devices_lost"}

// ratios are failure counts over what they fail out of: the legitimate
// devices, the sessions (every CONNACK, reconnects included), the
// publishes, the acknowledged messages.
var ratios = map[string]struct {
	num string
	den func(reports.SimCounts) int64
}{
	"connect_failed_ratio": {"connect_failed", func(c reports.SimCounts) int64 { return c.Legit }},
	"devices_lost_ratio":   {"devices_lost", func(c reports.SimCounts) int64 { return c.Legit }},
	"sessions_lost_ratio":  {"sessions_lost", func(c reports.SimCounts) int64 { return c.Connected + c.Reconnects }},
	"publish_failed_ratio": {"publish_failed", func(c reports.SimCounts) int64 { return c.Published }},
	"missing_ratio":        {"missing", func(c reports.SimCounts) int64 { return c.Acked }},
}

// rates are the throughput figures of Results.Rates.
var rates = []string{"connects_per_s", "handshakes_per_s", "publishes_per_s"}

// endToEndCounts mean something only when a subscriber received.
var endToEndCounts = []string{"received", "missing", "duplicates", "malformed"}

// Latency aggregates: the summary's quantiles and k6's spellings.
var latencyAggs = []string{"p50", "p90", "p95", "p99", "p99.9", "mean", "min", "max"}

// countNames are the JSON names of the counts, in field order.
var countNames = func() []string {
	t := reflect.TypeFor[reports.SimCounts]()
	out := make([]string, t.NumField())
	for i := range t.NumField() {
		out[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return out
}()

func lookupMetric(name string) (metric, bool) {
	if a, ok := countAliases[name]; ok {
		name = a
	}
	switch {
	case slices.Contains(countNames, name):
		return metric{name, kindCount}, true
	case slices.Contains(rates, name):
		return metric{name, kindRate}, true
	}
	if _, ok := ratios[name]; ok {
		return metric{name, kindRatio}, true
	}
	stage, agg, ok := strings.Cut(name, ".")
	if !ok || !slices.Contains(Stages, Stage(stage)) {
		return metric{}, false
	}
	if _, ok := quantileOf(agg); ok {
		if strings.HasPrefix(agg, "p(") { // k6's p(99): one canonical name
			agg = "p" + strings.TrimSuffix(strings.TrimPrefix(agg, "p("), ")")
		}
		return metric{stage + "." + agg, kindLatency}, true
	}
	if slices.Contains(latencyAggs, agg) {
		return metric{name, kindLatency}, true
	}
	return metric{}, false
}

// quantileOf reads pNN, pNN.N or k6's p(NN) as a quantile in 0..1.
func quantileOf(agg string) (float64, bool) {
	s, ok := strings.CutPrefix(agg, "p")
	if !ok {
		return 0, false
	}
	if inner, ok := strings.CutPrefix(s, "("); ok {
		if s, ok = strings.CutSuffix(inner, ")"); !ok {
			return 0, false
		}
	}
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }) >= 0 {
		return 0, false
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || p <= 0 || p > 100 {
		return 0, false
	}
	return p / 100, true
}

// Verdict is one threshold judged against a run's results.
type Verdict struct {
	Threshold Threshold
	Default   bool    // a default threshold the scenario did not replace
	Measured  bool    // the run measured the metric (samples, a subscriber, a denominator)
	Value     float64 // the run's value; for latencies, nanoseconds
	OK        bool    // the threshold held; a default on an unmeasured metric holds
}

// Evaluate judges the scenario's thresholds, and the default thresholds it
// did not replace, against r, in that order.
func Evaluate(r *Results) ([]Verdict, error) {
	own, err := ParseThresholds(r.Scenario.Thresholds)
	if err != nil {
		return nil, err
	}
	families := map[string]bool{}
	for _, t := range own {
		families[ThresholdFamily(t.Metric)] = true
	}
	var out []Verdict
	for _, t := range own {
		out = append(out, judge(r, t, false))
	}
	for _, e := range DefaultThresholds {
		t, err := ParseThreshold(e)
		if err != nil {
			return nil, err // the defaults parse: a spec holds them to it
		}
		if !families[ThresholdFamily(t.Metric)] {
			out = append(out, judge(r, t, true))
		}
	}
	return out, nil
}

// Failed returns the verdicts that did not hold.
func Failed(vs []Verdict) []Verdict {
	var out []Verdict
	for _, v := range vs {
		if !v.OK {
			out = append(out, v)
		}
	}
	return out
}

func judge(r *Results, t Threshold, def bool) Verdict {
	v := Verdict{Threshold: t, Default: def}
	v.Value, v.Measured = value(r, t)
	switch {
	case !v.Measured:
		v.OK = def
	default:
		v.OK = compare(v.Value, t.Op, t.Bound)
	}
	return v
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}

// value is the run's figure of t's metric, and whether the run measured it.
func value(r *Results, t Threshold) (float64, bool) {
	switch t.kind {
	case kindCount:
		return countOf(r, t.Metric)
	case kindRatio:
		q := ratios[t.Metric]
		num, ok := countOf(r, q.num)
		den := q.den(r.Counts)
		if !ok || den == 0 {
			return 0, false
		}
		return num / float64(den), true
	case kindRate:
		rt := r.Rates()
		f := map[string]float64{"connects_per_s": rt.ConnectsPerSecond, "handshakes_per_s": rt.HandshakesPerSecond,
			"publishes_per_s": rt.PublishesPerSecond}[t.Metric]
		return f, f > 0
	}
	stage, agg, _ := strings.Cut(t.Metric, ".")
	s, ok := r.Histograms[stage]
	if !ok || s.Total == 0 {
		return 0, false
	}
	h := s.HDR()
	us := func(v int64) float64 { return float64(time.Duration(v) * time.Microsecond) }
	switch agg {
	case "mean":
		return h.Mean() * float64(time.Microsecond), true
	case "min":
		return us(h.Min()), true
	case "max":
		return us(h.Max()), true
	}
	q, _ := quantileOf(agg)
	return float64(s.Quantile(q)), true
}

// countOf reads a count by its JSON name; the subscriber's counts are
// measured only when a subscriber ran.
func countOf(r *Results, name string) (float64, bool) {
	i := slices.Index(countNames, name)
	if i < 0 {
		return 0, false
	}
	if slices.Contains(endToEndCounts, name) && !r.endToEnd() {
		return 0, false
	}
	return float64(reflect.ValueOf(r.Counts).Field(i).Int()), true
}

// endToEnd reports whether a subscriber received for some shard.
func (r *Results) endToEnd() bool {
	for _, s := range r.Shards {
		if s.EndToEnd {
			return true
		}
	}
	return false
}

// formatValue prints a metric's value in its unit.
func (v Verdict) formatValue() string {
	if !v.Measured {
		return "not measured"
	}
	switch v.Threshold.kind {
	case kindLatency:
		return FormatLatency(time.Duration(v.Value))
	case kindCount:
		return strconv.FormatFloat(v.Value, 'f', 0, 64)
	case kindRate:
		return fmt.Sprintf("%.1f/s", v.Value)
	}
	return strconv.FormatFloat(v.Value, 'g', 4, 64)
}

// String is the threshold and the run's value: "connect.p99<2s (was 3.2s)".
func (v Verdict) String() string {
	return fmt.Sprintf("%s (was %s)", v.Threshold, v.formatValue())
}

// WriteVerdicts prints one line per threshold: whether it held, the
// expression, the run's value, and whether it is a default.
func WriteVerdicts(w io.Writer, vs []Verdict) error {
	if len(vs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nthresholds:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range vs {
		mark := "ok"
		switch {
		case !v.Measured && v.OK:
			mark = "n/a"
		case !v.OK:
			mark = "FAILED"
		}
		note := ""
		if v.Default {
			note = "default"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mark, v.Threshold, v.formatValue(), note)
	}
	return tw.Flush()
}
