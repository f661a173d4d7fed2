package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/mitm"
	"shakedown/reports"
	"shakedown/server"
	"shakedown/simulator"
	"shakedown/version"
)

// ErrInterrupted is wrapped by Run's error when its context ended the run.
// The results so far are written, marked interrupted, when the story had
// begun (Run's Result is not nil).
var ErrInterrupted = errors.New("demo: interrupted")

// fixtureSeed is the seed of the demo's fixture set: the same keys on
// every run.
const fixtureSeed = "demo"

// VirtualBoard is a virtual board the demo drives.
type VirtualBoard struct {
	Profile  string           // the board profile it presents (boards.Lookup)
	About    string           // how the boards' header names it
	Slow     bool             // it takes the profile's time per operation
	Profiles []handshake.Name // the handshakes it runs against the server
	Bench    bool             // time its operations first
}

// Options are what a run does and where it writes. Run uses them as given:
// start from DefaultOptions.
type Options struct {
	Dir      string    // the folder the demo writes into; emptied first
	Out      io.Writer // the story as it happens; nil: discarded
	Devices  int       // simulated devices in the fleet
	Boards   []VirtualBoard
	Chips    bool   // run the emulated chips: the benchmark, the agent firmware
	Firmware string // the firmware folder, for the emulated chips
	// MITM is the part of the matrix to run; the zero Selection is all
	// of it.
	MITM mitm.Selection
}

// DefaultOptions is the demo of `shakedown demo`: 1,000 devices, the
// virtual board and a virtual Uno as slow as an ATmega328P, the emulated
// chips, the whole matrix.
func DefaultOptions() Options {
	return Options{Dir: "out/demo", Devices: 1000, Chips: true, Firmware: "boards/firmware",
		Boards: []VirtualBoard{
			{Profile: "virtual", About: "the virtual board", Profiles: handshake.Profiles, Bench: true},
			{Profile: "uno", About: "a virtual Uno as slow as an ATmega328P", Slow: true,
				Profiles: []handshake.Name{handshake.Noise, handshake.PSK}},
		}}
}

// Result is how a run went and what it wrote.
type Result struct {
	Run      *reports.Run    // every section that ran, as written to run.json
	Summary  reports.Summary // the verdict of Run, as printed
	Failures int             // the parts that failed: devices, boards, the fleet, the matrix
	HTML     string          // the report's absolute path; empty when interrupted
	Markdown string          // the summary's path; empty when interrupted
}

// story is one run: what it has made so far.
type story struct {
	o       Options
	out     io.Writer
	started time.Time
	fxDir   string
	set     *fixtures.Set
	cfg     server.Config // the server of the devices and boards, and of the fleet
	fleet   simulator.Scenario

	run      *reports.Run
	boards   *reports.Boards
	sim      *reports.Sim
	matrix   *reports.MITM
	failures int
}

// Run tells the story of o (see the package doc). It returns an error when
// the demo could not set up (a nil Result: nothing ran) or when ctx ended
// it (wrapping ErrInterrupted). A part that failed is no error: it is
// counted in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	s := &story{o: o, out: o.Out, started: time.Now(), fxDir: filepath.Join(o.Dir, "fixtures")}
	if s.out == nil {
		s.out = io.Discard
	}
	if err := s.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w before the story began: %w", ErrInterrupted, err)
		}
		return nil, err
	}
	s.run = &reports.Run{Title: "shakedown demo", Generated: s.started, ShakedownVersion: version.String()}
	s.boards = &reports.Boards{Format: reports.BoardsFormat, ShakedownVersion: version.String()}
	for _, part := range []func(context.Context) error{s.live, s.fleetPart, s.matrixPart} {
		err := part(ctx)
		if ctx.Err() != nil {
			return s.interrupted()
		}
		if err != nil {
			return nil, err
		}
	}
	return s.finish()
}

// prepare empties the folder, makes the fixture set and the server's
// configuration, and fills the first registry.
func (s *story) prepare(ctx context.Context) error {
	if err := os.RemoveAll(s.o.Dir); err != nil {
		return fmt.Errorf("demo: emptying the folder: %w", err)
	}
	fmt.Fprintf(s.out, "== fixtures: %s (seed %q)\n", s.fxDir, fixtureSeed)
	s.fleet = fleetScenario(s.o.Devices)
	perKind := 2
	for _, n := range simulator.KindCounts(s.fleet.Plan()) {
		perKind = max(perKind, n+2) // the boards take the last two of each kind
	}
	if _, err := fixtures.Generate(s.fxDir, fixtures.Options{Seed: fixtureSeed, DevicesPerProfile: perKind}); err != nil {
		return fmt.Errorf("demo: generating the fixtures: %w", err)
	}
	set, err := fixtures.Load(s.fxDir)
	if err != nil {
		return fmt.Errorf("demo: loading the fixtures: %w", err)
	}
	s.set = set
	s.cfg = serverConfig(s.o.Dir, s.fxDir)
	return enrol(ctx, s.cfg.Registry, set, s.out)
}

// fail counts a part that failed, prints it and notes it in the report.
func (s *story) fail(line, note string) {
	s.failures++
	fmt.Fprintln(s.out, line)
	s.run.Notes = append(s.run.Notes, note)
}

// fleetPart runs the fleet against a server of its own: one without the
// earlier sessions, whose registry of its own holds every identity with
// fresh counters.
func (s *story) fleetPart(ctx context.Context) error {
	fmt.Fprintf(s.out, "== fleet: %d simulated devices (%s)\n", s.fleet.Devices, describeMix(s.fleet.Mix))
	cfg := s.cfg
	cfg.Registry = "sqlite:" + filepath.Join(s.o.Dir, "fleet.db")
	if err := enrol(ctx, cfg.Registry, s.set, io.Discard); err != nil {
		return err
	}
	sc := s.fleet
	sc.Fixtures.Dir = s.fxDir
	sim, err := runFleet(ctx, cfg, sc, s.set, s.out)
	s.sim = sim
	s.run.Sim = sim
	if err != nil && ctx.Err() == nil {
		s.fail(fmt.Sprintf("   fleet FAILED: %v", err), fmt.Sprintf("the fleet failed: %v", err))
	}
	return nil
}

// matrixPart runs the MITM matrix.
func (s *story) matrixPart(ctx context.Context) error {
	fmt.Fprintln(s.out, "== MITM matrix: every scenario on every profile, against the server in process")
	m, err := runMatrix(ctx, s.set, s.o.MITM, s.out)
	s.matrix = m
	s.run.MITM = m
	if err != nil && ctx.Err() == nil {
		s.fail(fmt.Sprintf("   MITM matrix FAILED: %v", err), fmt.Sprintf("the MITM matrix failed: %v", err))
	}
	return nil
}

// interrupted writes what the story has so far, marked interrupted.
func (s *story) interrupted() (*Result, error) {
	s.run.Interrupted, s.boards.Interrupted = true, true
	s.run.Boards = s.boards
	if _, err := writeResults(s.o.Dir, s.run, s.boards, s.sim, s.matrix); err != nil {
		fmt.Fprintf(s.out, "   writing the results so far: %v\n", err)
	}
	res := &Result{Run: s.run, Summary: reports.Summarise(s.run), Failures: s.failures}
	return res, fmt.Errorf("%w: the results so far are in %s, marked interrupted", ErrInterrupted, s.o.Dir)
}

// finish writes the results and prints the verdict, the folder and, last,
// the report's path.
func (s *story) finish() (*Result, error) {
	s.run.Boards = s.boards
	paths, err := writeResults(s.o.Dir, s.run, s.boards, s.sim, s.matrix)
	if err != nil {
		return nil, err
	}
	sum := reports.Summarise(s.run)
	for _, l := range sum.Lines {
		fmt.Fprintf(s.out, "   %-16s %s\n", l.Section+":", l.Text)
	}
	fmt.Fprintf(s.out, "== results in %s; Markdown summary %s (%s)\n", s.o.Dir, paths.markdown, time.Since(s.started).Round(time.Second))
	fmt.Fprintln(s.out, paths.html)
	return &Result{Run: s.run, Summary: sum, Failures: s.failures, HTML: paths.html, Markdown: paths.markdown}, nil
}
