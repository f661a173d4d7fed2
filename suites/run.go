package suites

import (
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
// A process runs the suites once: ginkgo keeps one spec tree per process.
func Run(t GinkgoTestingT, cfg Config, suite types.SuiteConfig, rep types.ReporterConfig) (bool, error) {
	if err := cfg.Check(); err != nil {
		return false, err
	}
	kind, _ := cfg.Kind()
	ran := false
	defineOnce.Do(func() {
		ran = true
		define(cfg)
	})
	if !ran {
		return false, errors.New("suites: Run runs once per process")
	}
	if suite.Timeout == 0 || suite.Timeout == time.Hour { // ginkgo's default: leave room for slow chips
		suite.Timeout = 2 * time.Hour
	}
	RegisterFailHandler(Fail)
	return RunSpecs(t, "shakedown suites on a "+kind+" target", suite, rep), nil
}

// define declares the spec tree.
func define(cfg Config) {
	BeforeSuite(func() { setUp(cfg) })
	AfterSuite(tearDown)
	describeInfo()
	describeHandshake()
	describeReplay()
	describeThroughput()
	describeBench()
	describeMITM()
	describeFleet()
}
