package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/cobra"

	"shakedown/reports"
	"shakedown/suites"
)

// ginkgoT is ginkgo's testing.T stand-in. RunSpecs calls its Fail exactly
// when it returns false, so the result alone says whether a spec failed.
type ginkgoT struct{}

func (ginkgoT) Fail() {}

func init() {
	var cfg suites.Config
	var o struct {
		junit, json, labels, focus string
		verbose, noReport          bool
	}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the suites against a board, an emulated chip or a fleet, with JUnit output",
		Long: `Run the suites (info, handshake, replay, throughput, ecdh-bench, mitm, fleet)
against one target, and write their results for CI and for people:

  DIR/junit.xml     JUnit XML, one test case per spec (for the CI's test view)
  DIR/ginkgo.json   ginkgo's JSON report, measurements included
  DIR/boards.json   the board's measurements: handshakes against its limits, benchmarks
  DIR/mitm.json     the MITM matrix on the board's relay path
  DIR/report.html   the HTML report of all of it; DIR/summary.md for a CI job summary

The target is one of:
  --virtual                      a virtual board (the default; --board picks the profile it presents)
  --emulated avr|cortex-m3|rv32  the agent firmware under simavr or QEMU (make -C boards/firmware agents)
  --port PATH --board PROFILE    a real board running the agent firmware (or --serial SN)
  --fleet FILE                   a simulated fleet (a scenario as shakedown sim takes it)

The board talks to the reference server, run in this process. Choose specs with
--label-filter (labels: info, handshake, replay, throughput, ecdh-bench, bench,
mitm, fleet). The exit status is 1 when a spec failed.`,
		Example: `  shakedown test --virtual
  shakedown test --emulated avr --label-filter 'handshake || ecdh-bench'
  shakedown test --port /dev/ttyACM0 --board uno --results results/
  shakedown test --fleet fleet.yaml --label-filter fleet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Out == "" {
				return errors.New("--results: give a folder for the results")
			}
			if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
				return err
			}
			suite := types.NewDefaultSuiteConfig()
			suite.LabelFilter, suite.FocusStrings = o.labels, nil
			if o.focus != "" {
				suite.FocusStrings = []string{o.focus}
			}
			rep := types.NewDefaultReporterConfig()
			rep.JUnitReport, rep.JSONReport = o.junit, o.json
			if rep.JUnitReport == "" {
				rep.JUnitReport = filepath.Join(cfg.Out, "junit.xml")
			}
			if rep.JSONReport == "" {
				rep.JSONReport = filepath.Join(cfg.Out, "ginkgo.json")
			}
			rep.Verbose = o.verbose
			if f, ok := cmd.OutOrStdout().(*os.File); !ok || !isTerminal(f) {
				rep.NoColor = true
			}
			if o.verbose {
				cfg.Console = cmd.ErrOrStderr()
			}
			ok, err := suites.Run(ginkgoT{}, cfg, suite, rep)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "\nJUnit: %s\nginkgo JSON: %s\n", rep.JUnitReport, rep.JSONReport)
			if !o.noReport {
				if err := testReport(cfg.Out, out); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: no HTML report: %v\n", err)
				}
			}
			if !ok {
				return &exitError{code: 1, err: errors.New("some specs failed")}
			}
			return nil
		},
	}
	gofs := flag.NewFlagSet("suites", flag.ContinueOnError)
	cfg.Bind(gofs)
	cmd.Flags().AddGoFlagSet(gofs)
	cmd.Flags().Lookup("results").DefValue = "shakedown-results"
	cmd.Flags().Set("results", "shakedown-results")
	cmd.Flags().StringVar(&o.junit, "junit", "", "write the JUnit XML here (default RESULTS/junit.xml)")
	cmd.Flags().StringVar(&o.json, "json", "", "write ginkgo's JSON report here (default RESULTS/ginkgo.json)")
	cmd.Flags().StringVar(&o.labels, "label-filter", "", "run the specs whose labels match, e.g. 'handshake || replay' (ginkgo's syntax)")
	cmd.Flags().StringVar(&o.focus, "focus", "", "run the specs whose text matches this regular expression")
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "print every spec and the board's console")
	cmd.Flags().BoolVar(&o.noReport, "no-report", false, "skip the HTML report and the Markdown summary")
	root.AddCommand(cmd)
}

// testReport writes DIR/report.html and DIR/summary.md from the results the
// suites wrote there.
func testReport(dir string, out io.Writer) error {
	run := &reports.Run{Format: reports.RunFormat, Title: "shakedown test", Generated: time.Now().UTC()}
	var err error
	if p := filepath.Join(dir, "boards.json"); exists(p) {
		if run.Boards, err = reports.ReadBoardsFile(p); err != nil {
			return err
		}
	}
	if p := filepath.Join(dir, "mitm.json"); exists(p) {
		if run.MITM, err = reports.ReadMITMFile(p); err != nil {
			return err
		}
	}
	if p := filepath.Join(dir, "sim.json"); exists(p) {
		if run.Sim, err = reports.ReadSimFile(p); err != nil {
			return err
		}
	}
	if run.Boards == nil && run.MITM == nil && run.Sim == nil {
		return errors.New("the suites wrote no results")
	}
	md := filepath.Join(dir, "summary.md")
	if err := writeOutput(md, out, func(w io.Writer) error { return reports.WriteMarkdown(w, run) }); err != nil {
		return err
	}
	html := filepath.Join(dir, "report.html")
	if err := writeOutput(html, out, func(w io.Writer) error { return reports.WriteHTML(w, run) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "summary: %s\nreport: %s\n", md, html)
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
