package suites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/lab/labserver"
	"shakedown/reports"
	"shakedown/simulator"
	"shakedown/version"
)

// env is what every spec shares: the configuration, the fixture set, the
// reference server in process, the board (nil for a fleet) and the
// results the specs collect.
type env struct {
	ctx  context.Context // the run's: done when it is interrupted
	cfg  Config
	kind string
	set  *fixtures.Set
	srv  *labserver.Server
	b    *board

	mu      sync.Mutex
	results reports.Board
	matrix  *reports.MITM
	sim     *simulator.Results
}

// the env of the running suite; set up in BeforeSuite, read by Run
// after the specs under curMu.
var (
	cur   *env
	curMu sync.Mutex
)

// interrupted is set when a spec was interrupted (a signal to ginkgo or
// to the run's context): the results are then marked interrupted.
var interrupted atomic.Bool

// inflight counts the specs whose results land in env only when they
// return (the MITM matrix, the fleet): Run waits for them, up to
// inflightGrace, before it writes the results. Interrupted twice in quick
// succession (as timeout(1) does, signalling the process and then its
// group), ginkgo stops waiting for a spec at once and skips AfterSuite;
// writing in Run keeps what ran anyway.
var inflight atomic.Int32

// inflightGrace is ginkgo's own default grace period.
const inflightGrace = 30 * time.Second

// fixtureDevices is how many devices per profile a generated set holds:
// the suites take identities from its end, a fleet from its start.
const fixtureDevices = 200

// setUp loads the fixture set, starts the reference server and opens the
// target. What fails here is a set-up failure (SetupError), not a failed
// check, unless ctx was done: then the run was interrupted.
func setUp(ctx context.Context, cfg Config) {
	kind, err := cfg.Kind()
	must(err, "choosing the target")
	fail := func(step string, err error) {
		GinkgoHelper()
		if ctx.Err() != nil {
			Fail("interrupted while setting up " + step)
		}
		failSetUp(step, err)
	}
	e := &env{ctx: ctx, cfg: cfg, kind: kind}
	AddReportEntry("shakedown version", version.String()) // in the JSON and JUnit reports too
	if cfg.Fixtures != "" {
		e.set, err = fixtures.Load(cfg.Fixtures)
	} else {
		e.set, err = fixtures.Build(fixtures.Options{Seed: FixtureSeed, DevicesPerProfile: fixtureDevices})
	}
	if err != nil {
		fail("the fixture set", err)
	}

	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	// A board computes its first handshake message after the harness has
	// connected to the server: the server's deadline takes the board's
	// slack (its profile's longest handshake limit) on top of the lab's.
	lab := labserver.Options{Log: slog.New(slog.NewTextHandler(logw, nil))}
	if kind != KindFleet {
		octx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		e.b, err = openBoard(octx, &e.cfg, kind, e.set)
		if err != nil {
			fail("the "+kind+" target", err)
		}
		DeferCleanup(e.b.Close)
		lab.HandshakeTimeout = labserver.HandshakeTimeout + e.b.Profile.LongestLimit()
	}
	e.srv, err = labserver.StartOptions(e.set, lab)
	if err != nil {
		fail("the reference server", err)
	}
	DeferCleanup(e.srv.Close)

	if kind != KindFleet {
		in := e.b.Info
		e.results = reports.Board{Name: e.b.Label, Board: in.Board, Chip: in.Chip, Kind: e.b.Kind,
			ClockHz: in.ClockHz, Exact: e.b.Exact()}
		AddReportEntry("board", fmt.Sprintf("%s: %s, %s at %d Hz, firmware %s, profiles %v, curves %v",
			e.b.Label, in.Board, in.Chip, in.ClockHz, in.Firmware, in.Profiles, in.Curves))
	}
	curMu.Lock()
	cur = e
	curMu.Unlock()
}

// finish runs after the specs, whatever ginkgo skipped: it waits for the
// specs still bringing results, writes the results, marked interrupted
// when the run was, and closes the board and the server (both may be
// closed already by their DeferCleanup).
func finish(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(inflightGrace); inflight.Load() > 0 && time.Now().Before(deadline); {
		<-tick.C
	}
	curMu.Lock()
	e := cur
	curMu.Unlock()
	if e == nil {
		return nil
	}
	var errs []error
	if e.cfg.Out != "" {
		errs = append(errs, e.write(ctx.Err() != nil || interrupted.Load()))
	}
	if e.b != nil {
		errs = append(errs, e.b.Close())
	}
	errs = append(errs, e.srv.Close())
	return errors.Join(errs...)
}

// write writes the results the specs collected into cfg.Out.
func (e *env) write(interrupted bool) error {
	if err := os.MkdirAll(e.cfg.Out, 0o755); err != nil {
		return fmt.Errorf("suites: making the results folder: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.b != nil {
		err := writeJSON(filepath.Join(e.cfg.Out, "boards.json"), reports.Boards{Format: reports.BoardsFormat,
			Boards: []reports.Board{e.results}, Interrupted: interrupted, ShakedownVersion: version.String()})
		if err != nil {
			return err
		}
	}
	if e.matrix != nil {
		if err := e.matrix.WriteFile(filepath.Join(e.cfg.Out, "mitm.json")); err != nil {
			return fmt.Errorf("suites: writing mitm.json: %w", err)
		}
	}
	if e.sim != nil {
		e.sim.ShakedownVersion = version.String()
		f, err := os.Create(filepath.Join(e.cfg.Out, "sim.json"))
		if err != nil {
			return fmt.Errorf("suites: writing sim.json: %w", err)
		}
		defer f.Close()
		if err := e.sim.Encode(f); err != nil {
			return fmt.Errorf("suites: writing sim.json: %w", err)
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(data, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("suites: writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// specContext is the context of a spec that takes ginkgo's SpecContext
// (so that, interrupted, ginkgo waits for it to stop): done when ginkgo
// interrupts the spec, when the run's context is done, or after d.
func specContext(sctx SpecContext, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(sctx, d)
	stop := context.AfterFunc(cur.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// record adds to the board's results.
func record(f func(r *reports.Board)) {
	cur.mu.Lock()
	defer cur.mu.Unlock()
	f(&cur.results)
}

// step is a context for one step of a spec.
func step() context.Context {
	ctx, cancel := context.WithTimeout(cur.ctx, cur.cfg.Timeout)
	DeferCleanup(cancel)
	return ctx
}

// needBoard skips a spec on a fleet target.
func needBoard() {
	if cur.b == nil {
		Skip("a board spec; the target is a fleet")
	}
}

// eventually is Eventually with the step timeout.
func eventually(actual any) AsyncAssertion {
	return Eventually(actual).WithTimeout(cur.cfg.Timeout).WithPolling(20 * time.Millisecond)
}
