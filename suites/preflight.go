package suites

import (
	"fmt"
	"io"
	"os"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"shakedown/boards"
	"shakedown/boards/emulated"
	"shakedown/harness"
	"shakedown/simulator"
)

// SetupError is what stops the suites before a spec runs: flags that name
// no single target, a target that is not there or does not answer, a
// fixture set or a scenario that cannot be read. It is no failed check:
// `shakedown test` exits 2 on it, not 1.
type SetupError struct {
	Step string // what was being set up: the target, the fixtures, ...; empty for the flags
	Err  error
}

func (e *SetupError) Error() string {
	if e.Step == "" {
		return e.Err.Error()
	}
	return "suites: " + e.Step + ": " + e.Err.Error()
}

func (e *SetupError) Unwrap() error { return e.Err }

// Preflight checks the target of cfg before anything starts: the flags,
// the fixture set, and the target itself as far as that can be done
// without opening it (a real board resets when its port opens): the board
// profile, the port or serial number, the emulator and its image, the
// fleet's scenario. Run calls it first.
func Preflight(cfg Config) error {
	if err := cfg.Check(); err != nil {
		return &SetupError{Err: err}
	}
	kind, _ := cfg.Kind()
	if cfg.Fixtures != "" {
		if _, err := os.Stat(cfg.Fixtures); err != nil {
			return &SetupError{Step: "the fixture set", Err: err}
		}
	}
	var err error
	switch kind {
	case KindVirtual:
		name := cfg.Board
		if name == "" && cfg.ProfileFile == "" {
			name = "virtual"
		}
		_, err = profileOf(name, cfg.ProfileFile)
	case KindEmulated:
		if cfg.Image == "" {
			err = emulated.Check(cfg.Emulated)
		} else {
			_, err = os.Stat(cfg.Image)
		}
	case KindBoard:
		w := boards.Where{Port: cfg.Port, Serial: cfg.Serial, Board: cfg.Board, ProfileFile: cfg.ProfileFile, Baud: cfg.Baud}
		_, _, err = w.Resolve(harness.USBEnumerator{}, io.Discard)
	case KindFleet:
		var sc simulator.Scenario
		if sc, err = simulator.ReadScenario(cfg.Fleet); err == nil {
			if sc.Target == simulator.TargetGateway && len(sc.Gateway) == 0 {
				// The fleet spec runs it against the server in process,
				// with the suite's fixture set: check it so.
				sc.Gateway = map[string]string{}
				for _, p := range []string{"noise", "seed", "psk", "tls"} {
					sc.Gateway[p] = "127.0.0.1:1"
				}
				sc.Fixtures = simulator.Fixtures{Seed: FixtureSeed, DevicesPerProfile: fixtureDevices}
				if cfg.Fixtures != "" {
					sc.Fixtures = simulator.Fixtures{Dir: cfg.Fixtures}
				}
			}
			err = sc.Check()
		}
	}
	if err != nil {
		return &SetupError{Step: "the " + kind + " target", Err: err}
	}
	return nil
}

// setupFailure is the SetupError of the BeforeSuite of the running suite:
// what failed while the target was opened, the server started or the
// fixture set loaded.
var setupFailure struct {
	sync.Mutex
	err *SetupError
}

// failSetUp records a set-up failure and fails the BeforeSuite with one
// plain line (no Go value dumps).
func failSetUp(step string, err error) {
	GinkgoHelper()
	e := &SetupError{Step: step, Err: err}
	setupFailure.Lock()
	setupFailure.err = e
	setupFailure.Unlock()
	Fail(e.Error())
}

// must fails the spec with what it was doing and the error, as one plain
// line, when err is not nil: gomega's HaveOccurred prints the error's Go
// value (type, address, fields) as well.
func must(err error, format string, a ...any) {
	GinkgoHelper()
	if err != nil {
		Fail(fmt.Sprintf(format, a...) + ": " + err.Error())
	}
}
