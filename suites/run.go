package suites

import (
	"context"
	"errors"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
)

var defineOnce sync.Once

// Run runs the suites against the target of cfg and returns whether every
// spec passed. t is the test (go test) or any value whose Fail records a
// failure (shakedown test). The suite and reporter configurations carry
// ginkgo's own settings: label filter, JUnit and JSON report paths.
//
// Run checks the target first (Preflight) and returns a *SetupError, with
// no spec run, when the flags, the fixture set or the target are wrong; a
// target that fails while it is being opened is a *SetupError too. ctx is
// the run's: when it is done (a signal) the running step stops, the
// remaining specs are skipped, and the results written so far are marked
// interrupted. Run then returns false and no error: the caller, who owns
// ctx, knows why.
//
// A process runs the suites once: ginkgo keeps one spec tree per process.
func Run(ctx context.Context, t GinkgoTestingT, cfg Config, suite types.SuiteConfig, rep types.ReporterConfig) (bool, error) {
	if err := Preflight(cfg); err != nil {
		return false, err
	}
	kind, _ := cfg.Kind()
	ran := false
	defineOnce.Do(func() {
		ran = true
		define(ctx, cfg)
	})
	if !ran {
		return false, errors.New("suites: Run runs once per process")
	}
	if suite.Timeout == 0 || suite.Timeout == time.Hour { // ginkgo's default: leave room for slow chips
		suite.Timeout = 2 * time.Hour
	}
	RegisterFailHandler(Fail)
	ok := RunSpecs(t, "shakedown suites on a "+kind+" target", suite, rep)
	if err := finish(ctx); err != nil {
		return false, err
	}
	setupFailure.Lock()
	defer setupFailure.Unlock()
	if e := setupFailure.err; e != nil && ctx.Err() == nil {
		return false, e
	}
	return ok, nil
}

// define declares the spec tree.
func define(ctx context.Context, cfg Config) {
	BeforeSuite(func() { setUp(ctx, cfg) })
	ReportAfterEach(func(r SpecReport) {
		if r.State.Is(types.SpecStateInterrupted | types.SpecStateAborted) {
			interrupted.Store(true)
		}
	})
	if cfg.Progress != nil {
		ReportAfterEach(func(r SpecReport) { writeSpecLine(cfg.Progress, cfg.Colour, r) })
		ReportAfterSuite("the run in a line", func(r Report) { writeRunLine(cfg.Progress, r) })
	}
	describeInfo()
	describeHandshake()
	describeReplay()
	describeThroughput()
	describeBench()
	describeMITM()
	describeFleet()
}
