package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"shakedown/reports"
)

// paths are where the demo wrote its report and its summary.
type paths struct{ html, markdown string }

// writeResults writes each section's results that ran (bds, sim, m), the
// run's JSON (a baseline for later runs), the Markdown summary and the
// HTML report, into dir.
func writeResults(dir string, run *reports.Run, bds *reports.Boards, sim *reports.Sim, m *reports.MITM) (paths, error) {
	p := paths{html: filepath.Join(dir, "report.html"), markdown: filepath.Join(dir, "report.md")}
	write := func(name string, f func(io.Writer) error) error {
		var buf bytes.Buffer
		if err := f(&buf); err != nil {
			return fmt.Errorf("demo: writing %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("demo: writing %s: %w", name, err)
		}
		return nil
	}
	js := func(v any) func(io.Writer) error {
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	var errs []error
	if bds != nil {
		errs = append(errs, write("boards.json", js(bds)))
	}
	if sim != nil {
		errs = append(errs, write("sim.json", js(sim)))
	}
	if m != nil {
		errs = append(errs, write("mitm.json", js(m)))
	}
	if err := errors.Join(append(errs,
		write("run.json", func(w io.Writer) error { return reports.WriteJSON(w, run) }),
		write("report.md", func(w io.Writer) error { return reports.WriteMarkdown(w, run) }),
		write("report.html", func(w io.Writer) error { return reports.WriteHTML(w, run) }),
	)...); err != nil {
		return p, err
	}
	if abs, err := filepath.Abs(p.html); err == nil {
		p.html = abs
	}
	return p, nil
}
