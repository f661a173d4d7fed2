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

func init() {
	var o struct {
		mitm, sim, timeline, boards, baseline string
		html, markdown, json, title           string
		wallTolerance, exactTolerance         float64
	}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write an HTML report and a Markdown summary from a run's results",
		Long: `Read the results of a run (the MITM matrix of "mitm run --out", the fleet's
results of "sim --out", the board measurements "demo" writes) and write:

  --html      one self-contained HTML page (styles, data and the chart library
              inside, so it opens offline): the verdict, the MITM matrix,
              handshake time per board and profile against its limits, cycles
              per chip beside the published anchors, latency histograms and
              throughput over time;
  --markdown  a summary for a CI job summary;
  --json      the run as one document, the baseline of a later comparison.

With --baseline (a run's --json) the figures are compared: counts made by an
emulator are exact and may not grow at all (--exact-tolerance 0); wall-clock
figures may move --tolerance percent the wrong way. The exit status is 2 on a
regression.`,
		Example: `  shakedown report --mitm mitm.json --sim sim.json --boards boards.json --html report.html --markdown summary.md
  shakedown report --boards boards.json --baseline baseline.json --markdown "$GITHUB_STEP_SUMMARY"
  shakedown report --sim sim.json --timeline timeline.json --json run.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			run := &reports.Run{Format: reports.RunFormat, Title: o.title, Generated: time.Now().UTC()}
			var err error
			if o.mitm != "" {
				if run.MITM, err = reports.ReadMITMFile(o.mitm); err != nil {
					return fmt.Errorf("--mitm: %w", err)
				}
			}
			if o.sim != "" {
				if run.Sim, err = reports.ReadSimFile(o.sim); err != nil {
					return fmt.Errorf("--sim: %w", err)
				}
			}
			if o.timeline != "" {
				if run.Sim == nil {
					return errors.New("--timeline goes with --sim")
				}
				if run.Sim.Timeline, err = reports.ReadTimelineFile(o.timeline); err != nil {
					return fmt.Errorf("--timeline: %w", err)
				}
			}
			if o.boards != "" {
				if run.Boards, err = reports.ReadBoardsFile(o.boards); err != nil {
					return fmt.Errorf("--boards: %w", err)
				}
			}
			if run.MITM == nil && run.Sim == nil && run.Boards == nil {
				return errors.New("no results: give --mitm, --sim or --boards")
			}
			var cmp *reports.Comparison
			if o.baseline != "" {
				base, err := reports.ReadRunFile(o.baseline)
				if err != nil {
					return fmt.Errorf("--baseline: %w", err)
				}
				cmp = reports.Compare(base, run, reports.Tolerances{Exact: o.exactTolerance, WallPercent: o.wallTolerance})
			}
			outputs := []struct {
				path  string
				write func(io.Writer) error
			}{
				{o.html, func(w io.Writer) error { return reports.WriteHTML(w, run) }},
				{o.markdown, func(w io.Writer) error {
					if err := reports.WriteMarkdown(w, run); err != nil {
						return err
					}
					if cmp != nil {
						return reports.WriteComparisonMarkdown(w, cmp)
					}
					return nil
				}},
				{o.json, func(w io.Writer) error { return reports.WriteJSON(w, run) }},
			}
			wrote := false
			for _, out := range outputs {
				if out.path == "" {
					continue
				}
				wrote = true
				if err := writeOutput(out.path, cmd.OutOrStdout(), out.write); err != nil {
					return err
				}
			}
			if !wrote && cmp == nil {
				return errors.New("nothing to write: give --html, --markdown or --json")
			}
			if cmp != nil {
				if o.markdown == "" {
					if err := reports.WriteComparisonMarkdown(cmd.OutOrStdout(), cmp); err != nil {
						return err
					}
				}
				if cmp.Regressed() {
					return &exitError{code: 2, err: fmt.Errorf("%d figures regressed against the baseline", len(cmp.Regressions()))}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.mitm, "mitm", "", "MITM matrix results (shakedown mitm run --out)")
	f.StringVar(&o.sim, "sim", "", "fleet results (shakedown sim --out)")
	f.StringVar(&o.timeline, "timeline", "", "throughput timeline of the fleet (format shakedown-timeline/1)")
	f.StringVar(&o.boards, "boards", "", "board measurements (format shakedown-boards/1, as shakedown demo writes them)")
	f.StringVar(&o.baseline, "baseline", "", "a run's JSON (--json of an earlier run) to compare against; exit 2 on a regression")
	f.Float64Var(&o.wallTolerance, "tolerance", reports.DefaultWallPercent, "how far wall-clock figures may move the wrong way, percent")
	f.Float64Var(&o.exactTolerance, "exact-tolerance", 0, "how far exact figures (emulated cycle counts, MITM verdicts) may move the wrong way, percent")
	f.StringVar(&o.html, "html", "", "write the HTML report here")
	f.StringVar(&o.markdown, "markdown", "", "write the Markdown summary here (- for stdout)")
	f.StringVar(&o.json, "json", "", "write the run's JSON here (a baseline for later runs)")
	f.StringVar(&o.title, "title", "shakedown run", "the report's title")
	root.AddCommand(cmd)
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
		return err
	}
	return os.Rename(tmp, path)
}
