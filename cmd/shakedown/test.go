package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/cobra"

	"shakedown/reports"
	"shakedown/suites"
	"shakedown/version"
)

// ginkgoT is ginkgo's testing.T stand-in. RunSpecs calls its Fail exactly
// when it returns false, so the result alone says whether a spec failed.
type ginkgoT struct{}

func (ginkgoT) Fail() {}

// ginkgoOutput is the file in the results folder that takes ginkgo's own
// console report: every spec, failures in full, and the progress report of
// an interrupted spec with its goroutines. The console gets one line per
// spec instead.
const ginkgoOutput = "ginkgo-output.txt"

// testOptions are the flags of `shakedown test`: the suites' own
// (suites.Config) and ginkgo's.
type testOptions struct {
	cfg                        suites.Config
	junit, json, labels, focus string
	verbose, noReport          bool
}

// newTestCmd is `shakedown test`.
func newTestCmd() *cobra.Command {
	o := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the suites against a board, an emulated chip or a fleet, with JUnit output",
		Long: `Run the suites (info, handshake, replay, throughput, ecdh-bench, mitm, fleet)
against one target, and write their results for CI and for people:

  DIR/junit.xml          JUnit XML, one test case per spec (for the CI's test view)
  DIR/ginkgo.json        ginkgo's JSON report, measurements included
  DIR/ginkgo-output.txt  ginkgo's console report, failures in full
  DIR/boards.json        the board's measurements: handshakes against its limits, benchmarks
  DIR/mitm.json          the MITM matrix on the board's relay path
  DIR/report.html        the HTML report of all of it; DIR/summary.md for a CI job summary

The target is one of:
  --virtual                                    a virtual board (the default; --board picks the profile it presents)
  --emulated avr|cortex-m3|nrf51|rv32|stm32f4  the agent firmware under simavr or QEMU (make -C boards/firmware agents)
  --port PATH --board PROFILE                  a real board running the agent firmware (or --serial SN)
  --fleet FILE                                 a simulated fleet (a scenario file of shakedown sim --scenario)

The board talks to the reference server, run in this process. Choose specs with
--label-filter (labels: info, handshake, replay, throughput, ecdh-bench, bench,
mitm, fleet). The target is checked before any spec runs.

Exit status: 0 when every spec passed; 1 when a spec failed; 2 when the
target, the flags or the fixture set are wrong, or the target cannot be
opened (no spec ran; summary.md says why); 3 when interrupted (Ctrl-C,
SIGTERM: the results so far are written, marked "interrupted": true).`,
		Example: `  shakedown test --virtual
  shakedown test --emulated avr --label-filter 'handshake || ecdh-bench'
  shakedown test --port /dev/ttyACM0 --board uno --out results/
  shakedown test --fleet fleet.yaml --label-filter fleet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTest(cmd, o) },
	}
	gofs := flag.NewFlagSet("suites", flag.ContinueOnError)
	o.cfg.Bind(gofs)
	cmd.Flags().AddGoFlagSet(gofs)
	cmd.Flags().Lookup("out").DefValue = "shakedown-results"
	cmd.Flags().Set("out", "shakedown-results")
	cmd.Flags().Lookup("results").DefValue = "shakedown-results"
	cmd.Flags().MarkDeprecated("results", "use --out")
	cmd.Flags().MarkDeprecated("profile-file", "use --board-file")
	cmd.Flags().StringVar(&o.junit, "junit", "", "write the JUnit XML here (default OUT/junit.xml)")
	cmd.Flags().StringVar(&o.json, "json", "", "write ginkgo's JSON report here (default OUT/ginkgo.json)")
	cmd.Flags().StringVar(&o.labels, "label-filter", "", "run the specs whose labels match, e.g. 'handshake || replay' (ginkgo's syntax)")
	cmd.Flags().StringVar(&o.focus, "focus", "", "run the specs whose text matches this regular expression")
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "also print what the specs log and the board's console")
	cmd.Flags().BoolVar(&o.noReport, "no-report", false, "skip the HTML report and the Markdown summary")
	return cmd
}

// ginkgoConfig is the suite and reporter configuration of the flags.
func (o *testOptions) ginkgoConfig() (types.SuiteConfig, types.ReporterConfig) {
	suite := types.NewDefaultSuiteConfig()
	suite.LabelFilter, suite.FocusStrings = o.labels, nil
	if o.focus != "" {
		suite.FocusStrings = []string{o.focus}
	}
	rep := types.NewDefaultReporterConfig()
	rep.JUnitReport, rep.JSONReport = o.junit, o.json
	if rep.JUnitReport == "" {
		rep.JUnitReport = filepath.Join(o.cfg.Out, "junit.xml")
	}
	if rep.JSONReport == "" {
		rep.JSONReport = filepath.Join(o.cfg.Out, "ginkgo.json")
	}
	rep.NoColor, rep.Verbose = true, o.verbose
	return suite, rep
}

// runTest runs the suites, writes the results and the report, and says
// how it went in the exit code.
func runTest(cmd *cobra.Command, o *testOptions) error {
	cfg := o.cfg
	if cfg.Out == "" {
		return usageErrorf("--out: give a folder for the results")
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return setupError(err)
	}
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	suite, rep := o.ginkgoConfig()
	// ginkgo's console report goes to a file: it prints Go values
	// and, on an interrupt, every goroutine's stack.
	logPath := filepath.Join(cfg.Out, ginkgoOutput)
	os.Remove(logPath) // a set-up error leaves none behind
	logFile, err := os.Create(logPath)
	if err != nil {
		return setupError(err)
	}
	defer logFile.Close()
	formatter.ColorableStdOut = logFile
	cfg.Progress, cfg.Colour = out, colour(out)
	if o.verbose {
		cfg.Console = cmd.ErrOrStderr()
	}
	ok, err := suites.Run(ctx, ginkgoT{}, cfg, suite, rep)
	if !exists(filepath.Join(cfg.Out, "junit.xml")) {
		logFile.Close()
		os.Remove(logPath) // no spec ran: ginkgo wrote nothing
	}
	run := &reports.Run{Format: reports.RunFormat, Title: "shakedown test", Generated: time.Now().UTC(),
		ShakedownVersion: version.String(), Interrupted: ctx.Err() != nil}
	var se *suites.SetupError
	switch {
	case run.Interrupted:
	case errors.As(err, &se):
		run.SetupError = se.Error()
		if !o.noReport {
			if werr := testSummary(cfg.Out, out, run); werr != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: no summary: %v\n", werr)
			}
		}
		return setupError(se)
	case err != nil:
		return internalError(err)
	}
	fmt.Fprintf(out, "\nJUnit: %s\nginkgo JSON: %s\nginkgo output: %s\n", rep.JUnitReport, rep.JSONReport, logFile.Name())
	if !o.noReport {
		if err := testReport(cfg.Out, out, run); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: no HTML report: %v\n", err)
		}
	}
	switch {
	case run.Interrupted:
		return interruptedError(errors.New("interrupted: the results so far are written, marked interrupted"))
	case !ok:
		return checkFailed(errors.New("some specs failed"))
	}
	return nil
}

// testReport writes DIR/summary.md and, when the suites wrote results,
// DIR/report.html from them.
func testReport(dir string, out io.Writer, run *reports.Run) error {
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
	if err := testSummary(dir, out, run); err != nil {
		return err
	}
	if run.Boards == nil && run.MITM == nil && run.Sim == nil {
		return errors.New("the suites wrote no results")
	}
	html := filepath.Join(dir, "report.html")
	if err := writeOutput(html, out, func(w io.Writer) error { return reports.WriteHTML(w, run) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "report: %s\n", html)
	return nil
}

// testSummary writes DIR/summary.md: the verdict, or what stopped the run.
func testSummary(dir string, out io.Writer, run *reports.Run) error {
	md := filepath.Join(dir, "summary.md")
	if err := writeOutput(md, out, func(w io.Writer) error { return reports.WriteMarkdown(w, run) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "summary: %s\n", md)
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
