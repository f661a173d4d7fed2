package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MaxInputSize bounds one input document. Results hold a few histograms
// of a few thousand counts each, and a per-second series whose latency
// histograms grow with the fleet and its length: the merged results of
// 100,000 devices over 25 minutes (docs/benchmarks.md) are 73 MB.
const MaxInputSize = 256 << 20

// Errors of the readers, wrapped in *InputError.
var (
	ErrFormat   = errors.New("not the expected format or version")
	ErrTooLarge = errors.New("document larger than MaxInputSize")
	ErrInvalid  = errors.New("invalid value")
)

// InputError is an input document that cannot be read or trusted. It names
// the document and the field, never echoes their content.
type InputError struct {
	Doc   string // "mitm", "sim", "boards", "timeline", "run"
	Field string // dotted JSON path, "" for the document as a whole
	Err   error
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return "reports: " + e.Doc + ": " + e.Err.Error()
	}
	return "reports: " + e.Doc + ": " + e.Field + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// decode reads one JSON document of at most MaxInputSize bytes into v.
func decode(doc string, r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return &InputError{Doc: doc, Err: err}
	}
	if len(data) > MaxInputSize {
		return &InputError{Doc: doc, Err: ErrTooLarge}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &InputError{Doc: doc, Field: te.Field, Err: ErrInvalid}
		}
		// json's syntax errors name an offset, never the content.
		return &InputError{Doc: doc, Err: fmt.Errorf("decoding JSON: %w", errSyntax(err))}
	}
	return nil
}

// errSyntax keeps a syntax error's offset and drops anything quoted from
// the input.
func errSyntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF
	}
	return ErrInvalid
}

func readFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return read(f)
}

// ReadMITM reads the matrix of `shakedown mitm run --out` and checks that
// every cell, run or not applicable, is one of its scenarios and columns.
func ReadMITM(r io.Reader) (*MITM, error) {
	var m MITM
	if err := decode("mitm", r, &m); err != nil {
		return nil, err
	}
	if m.Format != MITMFormat {
		return nil, &InputError{Doc: "mitm", Field: "format", Err: ErrFormat}
	}
	for j, list := range [][]Verdict{m.Verdicts, m.NotApplicable} {
		for i, v := range list {
			if !slices.Contains(m.Scenarios, v.Scenario) || !slices.Contains(m.Columns, v.Column) {
				field := [...]string{"verdicts", "not_applicable"}[j]
				return nil, &InputError{Doc: "mitm", Field: fmt.Sprintf("%s[%d]", field, i), Err: fmt.Errorf("%w: cell outside the matrix", ErrInvalid)}
			}
		}
	}
	return &m, nil
}

// ReadMITMFile reads a MITM matrix from a file.
func ReadMITMFile(path string) (*MITM, error) { return readFile(path, ReadMITM) }

// ReadSim reads the results of `shakedown sim --out` and checks them
// (Sim.Check).
func ReadSim(r io.Reader) (*Sim, error) {
	var s Sim
	if err := decode("sim", r, &s); err != nil {
		return nil, err
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ReadSimFile reads simulator results from a file.
func ReadSimFile(path string) (*Sim, error) { return readFile(path, ReadSim) }

// ReadTimeline reads a throughput timeline document.
func ReadTimeline(r io.Reader) (*Timeline, error) {
	var t Timeline
	if err := decode("timeline", r, &t); err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return &t, nil
}

// ReadTimelineFile reads a timeline from a file.
func ReadTimelineFile(path string) (*Timeline, error) { return readFile(path, ReadTimeline) }

// ReadThroughput reads what a report draws throughput over time from: a
// timeline document (samples), or the results of `shakedown sim --out`,
// whose seconds it returns.
func ReadThroughput(r io.Reader) (*Timeline, []SimSecond, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, nil, &InputError{Doc: "timeline", Err: err}
	}
	t, err := ReadTimeline(bytes.NewReader(data))
	var ie *InputError
	if err == nil || !errors.As(err, &ie) || ie.Field != "format" {
		return t, nil, err
	}
	s, serr := ReadSim(bytes.NewReader(data))
	if serr != nil {
		return nil, nil, err // neither: say what a timeline lacks
	}
	return nil, s.Seconds, nil
}

// ReadThroughputFile reads ReadThroughput's input from a file.
func ReadThroughputFile(path string) (*Timeline, []SimSecond, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadThroughput(f)
}

func (t *Timeline) check() error {
	if t.Format != TimelineFormat {
		return &InputError{Doc: "timeline", Field: "format", Err: ErrFormat}
	}
	for i, s := range t.Samples {
		if s.AtMS < 0 || (i > 0 && s.AtMS < t.Samples[i-1].AtMS) {
			return &InputError{Doc: "timeline", Field: fmt.Sprintf("samples[%d].at_ms", i), Err: fmt.Errorf("%w: out of order", ErrInvalid)}
		}
	}
	return nil
}

// ReadBoards reads a board measurements document.
func ReadBoards(r io.Reader) (*Boards, error) {
	var b Boards
	if err := decode("boards", r, &b); err != nil {
		return nil, err
	}
	if b.Format != BoardsFormat {
		return nil, &InputError{Doc: "boards", Field: "format", Err: ErrFormat}
	}
	for i, bd := range b.Boards {
		for j, x := range bd.Bench {
			if math.IsNaN(x.Mean) || x.Mean < 0 {
				return nil, &InputError{Doc: "boards", Field: fmt.Sprintf("boards[%d].bench[%d].mean", i, j), Err: ErrInvalid}
			}
		}
	}
	return &b, nil
}

// ReadBoardsFile reads board measurements from a file.
func ReadBoardsFile(path string) (*Boards, error) { return readFile(path, ReadBoards) }

// ReadRun reads a Run's JSON (a baseline).
func ReadRun(r io.Reader) (*Run, error) {
	var run Run
	if err := decode("run", r, &run); err != nil {
		return nil, err
	}
	if run.Format != RunFormat {
		return nil, &InputError{Doc: "run", Field: "format", Err: ErrFormat}
	}
	if run.Sim != nil {
		for name, h := range run.Sim.Histograms {
			if err := h.Check(); err != nil {
				return nil, &InputError{Doc: "run", Field: "sim.histograms." + safeKey(name), Err: err}
			}
		}
	}
	return &run, nil
}

// ReadRunFile reads a Run from a file.
func ReadRunFile(path string) (*Run, error) { return readFile(path, ReadRun) }

// safeKey returns a map key for an error message when it is a plain name,
// and a placeholder otherwise: input is never echoed beyond names.
func safeKey(k string) string {
	if len(k) == 0 || len(k) > 32 {
		return "?"
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "?"
		}
	}
	return k
}

// Histogram is an HDR histogram as the simulator's results hold it:
// hdrhistogram's Export with its counts' trailing zeros left out
// (HistogramOf). Import restores it exactly, so the histograms of shards
// merge without loss. Values are microseconds.
type Histogram struct {
	Lowest  int64   `json:"lowest"`
	Highest int64   `json:"highest"`
	SigFigs int64   `json:"significant_figures"`
	Total   int64   `json:"total"`
	Counts  []int64 `json:"counts"`
}

// Geometry bounds of the histograms this package accepts.
const (
	maxHistHighest = int64(1) << 40 // about 12.7 days in µs
	maxSigFigs     = 3              // the simulator's; more costs memory per bucket
)

// Check refuses a histogram that hdrhistogram would misread: a geometry out
// of range, more counts than the geometry has buckets, a negative count, or
// a total that differs from the counts.
func (h *Histogram) Check() error {
	if h == nil {
		return fmt.Errorf("%w: missing", ErrInvalid)
	}
	if h.Lowest < 1 || h.Highest < 2*h.Lowest || h.Highest > maxHistHighest || h.SigFigs < 1 || h.SigFigs > maxSigFigs {
		return fmt.Errorf("%w: histogram geometry", ErrInvalid)
	}
	if n := len(hdrhistogram.New(h.Lowest, h.Highest, int(h.SigFigs)).Export().Counts); len(h.Counts) > n {
		return fmt.Errorf("%w: more counts than buckets", ErrInvalid)
	}
	var total int64
	for _, c := range h.Counts {
		if c < 0 || total > math.MaxInt64-c {
			return fmt.Errorf("%w: histogram count", ErrInvalid)
		}
		total += c
	}
	if total != h.Total {
		return fmt.Errorf("%w: histogram total differs from its counts", ErrInvalid)
	}
	return nil
}

// HDR returns the histogram of a checked Histogram.
func (h *Histogram) HDR() *hdrhistogram.Histogram {
	return hdrhistogram.Import(&hdrhistogram.Snapshot{LowestTrackableValue: h.Lowest,
		HighestTrackableValue: h.Highest, SignificantFigures: h.SigFigs, Counts: h.Counts})
}

// Quantile returns the value at quantile q (0..1) of a checked histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	return time.Duration(h.HDR().ValueAtQuantile(q*100)) * time.Microsecond
}

// Quantiles returns the values, in microseconds, at the quantiles qs
// (0..100) of a checked histogram.
func (h *Histogram) Quantiles(qs ...float64) []float64 {
	hd := h.HDR()
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = float64(hd.ValueAtQuantile(q))
	}
	return out
}
