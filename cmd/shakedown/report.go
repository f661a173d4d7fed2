package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"shakedown/reports"
)

// Exit codes of report, as every command keeps them (README, "Exit
// codes"): a regression is a failed check, anything that kept an input or
// an output from being read or written is a set-up error.
const (
	reportExitRegressed = 1
	reportExitSetup     = 2
)

// reportOptions are the flags of shakedown report.
type reportOptions struct {
	mitm, sim, timeline, boards, baseline string
	html, markdown, json, title           string
	wallTolerance, exactTolerance         float64
}

// newReportCmd is `shakedown report`.
func newReportCmd() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write an HTML report and a Markdown summary from a run's results",
		Long: `Read the results of a run (the MITM matrix of "mitm run --out", the fleet's
results of "sim --out", the board measurements "demo" and "test" write) and write:

  --html      one self-contained HTML page (styles, data and SVG charts
              inside, no script, so it opens offline): the verdict, the MITM
              matrix, handshake time per board and profile against its
              limits, cycles per chip beside the published anchors, latency
              by percentile and throughput over time;
  --markdown  a summary for a CI job summary;
  --json      the run as one document, the baseline of a later comparison.

With --baseline (a run's --json) the figures are compared like with like. A
figure keeps every sample of the run (a board's handshake measured --runs
times has that many). Counts made by an emulator are exact: their best and
worst samples may not grow at all (--exact-tolerance 0). Wall-clock figures
compare their medians, which may move --tolerance percent the wrong way. A
run compared with itself always passes.

Every output that can be written is written, even when another fails or an
input cannot be read (the summary then says which). The exit status is 0
when all went as expected, 1 when a figure regressed against the baseline,
and 2 on a set-up error: a bad flag, an input or the baseline that cannot be
read, an output that cannot be written.`,
		Example: `  shakedown report --mitm mitm.json --sim sim.json --boards boards.json --html report.html --markdown summary.md
  shakedown report --boards boards.json --json baseline.json
  shakedown report --boards boards.json --baseline baseline.json --markdown "$GITHUB_STEP_SUMMARY"
  shakedown report --sim sim.json --timeline timeline.json --json run.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReport(cmd.OutOrStdout(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.mitm, "mitm", "", "MITM matrix results (shakedown mitm run --out)")
	f.StringVar(&o.sim, "sim", "", "fleet results (shakedown sim --out)")
	f.StringVar(&o.timeline, "timeline", "", "throughput over time: a timeline (format shakedown-timeline/1) or results of sim --out, whose seconds it draws (--sim's own are drawn without it)")
	f.StringVar(&o.boards, "boards", "", "board measurements (format shakedown-boards/1, as shakedown demo and test write them)")
	f.StringVar(&o.baseline, "baseline", "", "a run's JSON (--json of an earlier run) to compare against; exit 1 on a regression")
	f.Float64Var(&o.wallTolerance, "tolerance", reports.DefaultWallPercent, "how far the median of a wall-clock figure may move the wrong way, percent")
	f.Float64Var(&o.exactTolerance, "exact-tolerance", 0, "how far exact figures (emulated cycle counts, MITM verdicts, failed handshakes) may move the wrong way, percent")
	f.StringVar(&o.html, "html", "", "write the HTML report here")
	f.StringVar(&o.markdown, "markdown", "", "write the Markdown summary here (- for stdout)")
	f.StringVar(&o.json, "json", "", "write the run's JSON here (a baseline for later runs)")
	f.StringVar(&o.title, "title", "shakedown run", "the report's title")
	return cmd
}

// runReport reads the inputs, writes every output it can and compares with
// the baseline; its error carries the exit code.
func runReport(stdout io.Writer, o reportOptions) error {
	if o.html == "" && o.markdown == "" && o.json == "" && o.baseline == "" {
		return &exitError{code: reportExitSetup, err: errors.New("nothing to write: give --html, --markdown, --json or --baseline")}
	}
	if o.timeline != "" && o.sim == "" {
		return &exitError{code: reportExitSetup, err: errors.New("--timeline goes with --sim")}
	}
	if o.wallTolerance < 0 || o.exactTolerance < 0 {
		return &exitError{code: reportExitSetup, err: errors.New("--tolerance and --exact-tolerance are percentages of 0 or more")}
	}
	run := &reports.Run{Format: reports.RunFormat, Title: o.title, Generated: time.Now().UTC()}
	var setup []error
	// An input that cannot be read leaves its section out, says so in the
	// run's notes, and makes the exit status 2.
	read := func(flag, path string, read func(string) error) {
		if path == "" {
			return
		}
		if err := read(path); err != nil {
			setup = append(setup, fmt.Errorf("--%s: %w", flag, err))
			run.Notes = append(run.Notes, fmt.Sprintf("--%s could not be read, so its section is missing: %v", flag, err))
		}
	}
	read("mitm", o.mitm, func(p string) (err error) { run.MITM, err = reports.ReadMITMFile(p); return })
	read("sim", o.sim, func(p string) (err error) { run.Sim, err = reports.ReadSimFile(p); return })
	read("timeline", o.timeline, func(p string) error {
		t, secs, err := reports.ReadThroughputFile(p)
		if err == nil && run.Sim != nil {
			run.Sim.Timeline, run.Sim.Seconds = t, secs
		}
		return err
	})
	read("boards", o.boards, func(p string) (err error) { run.Boards, err = reports.ReadBoardsFile(p); return })
	if run.MITM == nil && run.Sim == nil && run.Boards == nil {
		if len(setup) == 0 {
			setup = append(setup, errors.New("no results: give --mitm, --sim or --boards"))
		}
		return &exitError{code: reportExitSetup, err: errors.Join(setup...)}
	}

	var cmp *reports.Comparison
	if o.baseline != "" {
		if base, err := reports.ReadRunFile(o.baseline); err != nil {
			setup = append(setup, fmt.Errorf("--baseline: %w", err))
			run.Notes = append(run.Notes, fmt.Sprintf("--baseline could not be read, so nothing was compared: %v", err))
		} else {
			cmp = reports.Compare(base, run, reports.Tolerances{Exact: o.exactTolerance, WallPercent: o.wallTolerance})
		}
	}

	outputs := []struct {
		flag, path string
		write      func(io.Writer) error
	}{
		{"html", o.html, func(w io.Writer) error { return reports.WriteHTML(w, run) }},
		{"markdown", o.markdown, func(w io.Writer) error {
			if err := reports.WriteMarkdown(w, run); err != nil {
				return err
			}
			if cmp != nil {
				return reports.WriteComparisonMarkdown(w, cmp)
			}
			return nil
		}},
		{"json", o.json, func(w io.Writer) error { return reports.WriteJSON(w, run) }},
	}
	for _, out := range outputs {
		if out.path == "" {
			continue
		}
		if err := writeOutput(out.path, stdout, out.write); err != nil {
			setup = append(setup, fmt.Errorf("--%s: %w", out.flag, err))
		}
	}
	if cmp != nil && o.markdown == "" {
		if err := reports.WriteComparisonMarkdown(stdout, cmp); err != nil {
			setup = append(setup, fmt.Errorf("writing the comparison: %w", err))
		}
	}

	var regressed error
	if cmp != nil && cmp.Regressed() {
		regressed = fmt.Errorf("%d of %d figures regressed against the baseline", len(cmp.Regressions()), len(cmp.Deltas))
	}
	switch {
	case len(setup) > 0:
		// A set-up error outranks a regression: an output a CI job reads
		// is missing, or an input was left out.
		return &exitError{code: reportExitSetup, err: errors.Join(append(setup, regressed)...)}
	case regressed != nil:
		return &exitError{code: reportExitRegressed, err: regressed}
	}
	return nil
}

// writeOutput writes a document to path, "-" being stdout; a file is
// written whole or not at all.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if path == "-" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
