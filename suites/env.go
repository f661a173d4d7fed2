package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/mitm"
	"shakedown/mitm/labserver"
	"shakedown/reports"
	"shakedown/simulator"
)

// env is what every spec shares: the configuration, the fixture set, the
// reference server in process, the board (nil for a fleet) and the
// results the specs collect.
type env struct {
	cfg  Config
	kind string
	set  *fixtures.Set
	srv  *labserver.Server
	b    *board

	mu      sync.Mutex
	results reports.Board
	matrix  *mitm.Results
	sim     *simulator.Results
}

// the env of the running suite; set up in BeforeSuite.
var cur *env

// fixtureDevices is how many devices per profile a generated set holds:
// the suites take identities from its end, a fleet from its start.
const fixtureDevices = 200

func setUp(cfg Config) {
	kind, err := cfg.Kind()
	Expect(err).NotTo(HaveOccurred())
	e := &env{cfg: cfg, kind: kind}
	if cfg.Fixtures != "" {
		e.set, err = fixtures.Load(cfg.Fixtures)
	} else {
		e.set, err = fixtures.Build(fixtures.Options{Seed: FixtureSeed, DevicesPerProfile: fixtureDevices})
	}
	Expect(err).NotTo(HaveOccurred(), "loading the fixture set")

	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	// A board computes its first handshake message after the harness has
	// connected to the server: the server's deadline takes the board's
	// slack (its profile's longest handshake limit) on top of the lab's.
	lab := labserver.Options{Log: slog.New(slog.NewTextHandler(logw, nil))}
	if kind != KindFleet {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer cancel()
		e.b, err = openBoard(ctx, &e.cfg, kind, e.set)
		Expect(err).NotTo(HaveOccurred(), "opening the board")
		DeferCleanup(e.b.Close)
		lab.HandshakeTimeout = labserver.HandshakeTimeout + e.b.Profile.LongestLimit()
	}
	e.srv, err = labserver.StartOptions(e.set, lab)
	Expect(err).NotTo(HaveOccurred(), "starting the reference server")
	DeferCleanup(e.srv.Close)

	if kind != KindFleet {
		in := e.b.Info
		e.results = reports.Board{Name: e.b.Label, Board: in.Board, Chip: in.Chip, Kind: e.b.Kind,
			ClockHz: in.ClockHz, Exact: e.b.Exact()}
		AddReportEntry("board", fmt.Sprintf("%s: %s, %s at %d Hz, firmware %s, profiles %v, curves %v",
			e.b.Label, in.Board, in.Chip, in.ClockHz, in.Firmware, in.Profiles, in.Curves))
	}
	cur = e
}

// tearDown writes the results the specs collected.
func tearDown() {
	if cur == nil || cur.cfg.Out == "" {
		return
	}
	Expect(os.MkdirAll(cur.cfg.Out, 0o755)).To(Succeed())
	cur.mu.Lock()
	defer cur.mu.Unlock()
	if cur.b != nil {
		writeJSON(filepath.Join(cur.cfg.Out, "boards.json"), reports.Boards{Format: reports.BoardsFormat, Boards: []reports.Board{cur.results}})
	}
	if cur.matrix != nil {
		Expect(cur.matrix.WriteFile(filepath.Join(cur.cfg.Out, "mitm.json"))).To(Succeed())
	}
	if cur.sim != nil {
		f, err := os.Create(filepath.Join(cur.cfg.Out, "sim.json"))
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		Expect(cur.sim.Encode(f)).To(Succeed())
	}
}

func writeJSON(path string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, append(data, '\n'), 0o644)).To(Succeed())
}

// record adds to the board's results.
func record(f func(r *reports.Board)) {
	cur.mu.Lock()
	defer cur.mu.Unlock()
	f(&cur.results)
}

// step is a context for one step of a spec.
func step() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), cur.cfg.Timeout)
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
