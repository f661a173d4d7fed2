package suites

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Target kinds: what the suites run against.
const (
	KindVirtual  = "virtual"  // the Go board on a pseudo-terminal
	KindEmulated = "emulated" // the agent firmware under simavr or QEMU
	KindBoard    = "board"    // a real board on a serial port
	KindFleet    = "fleet"    // a simulated fleet from a scenario file
)

// Config chooses the target and what the suites measure. Exactly one of
// Virtual, Emulated, Port/Serial and Fleet names the target; none means
// Virtual.
type Config struct {
	Virtual     bool   // a virtual board presenting profile Board ("virtual" when empty)
	Slow        bool   // the virtual board takes its profile's time per operation
	Emulated    string // chip: avr (atmega328p), cortex-m3, nrf51, rv32, stm32f4
	Image       string // the emulated chip's firmware image; the build's when empty
	Port        string // a real board's serial port
	Serial      string // a real board's USB serial number, instead of Port
	Board       string // board profile name
	ProfileFile string // a board profile YAML file, instead of Board
	Baud        int    // overrides the profile's baud rate
	Fleet       string // a simulator scenario file (shakedown sim's format)

	Fixtures   string        // a fixture folder; a set generated from FixtureSeed when empty
	Runs       int           // handshakes measured per profile
	Messages   int           // messages of the throughput suite
	Iterations int           // iterations per benchmark
	Out        string        // folder for boards.json, mitm.json, sim.json; none when empty
	Timeout    time.Duration // bounds one step of a spec (a handshake, a benchmark)

	// Console receives the board's console output; Log the server's log.
	Console, Log io.Writer
	// Progress receives one line per spec as it ends (ok, FAILED with its
	// message, skip with the reason, STOPPED) and the counts at the end;
	// none when nil. Colour paints the marks (a terminal that allows it).
	Progress io.Writer
	Colour   bool
}

// FixtureSeed makes the fixture set when Config.Fixtures is empty: the
// same identities in every run, so a board provisioned once stays valid.
const FixtureSeed = "shakedown-suites"

// Defaults of the measuring flags.
const (
	DefaultRuns       = 3
	DefaultMessages   = 20
	DefaultIterations = 2
	DefaultTimeout    = 2 * time.Minute
)

// ErrTarget reports flags that name no target or more than one.
var ErrTarget = errors.New("suites: give one target: --virtual, --emulated CHIP, --port PATH (or --serial SN), or --fleet FILE")

// Kind returns the target kind the flags name.
func (c *Config) Kind() (string, error) {
	var kinds []string
	if c.Virtual {
		kinds = append(kinds, KindVirtual)
	}
	if c.Emulated != "" {
		kinds = append(kinds, KindEmulated)
	}
	if c.Port != "" || c.Serial != "" {
		kinds = append(kinds, KindBoard)
	}
	if c.Fleet != "" {
		kinds = append(kinds, KindFleet)
	}
	switch len(kinds) {
	case 0:
		return KindVirtual, nil
	case 1:
		return kinds[0], nil
	}
	return "", fmt.Errorf("%w (got %s)", ErrTarget, strings.Join(kinds, " and "))
}

// Check rejects a configuration the suites cannot run.
func (c *Config) Check() error {
	k, err := c.Kind()
	if err != nil {
		return err
	}
	switch {
	case c.Runs < 1:
		return errors.New("suites: --runs must be 1 or more")
	case c.Messages < 1:
		return errors.New("suites: --messages must be 1 or more")
	case c.Iterations < 1 || c.Iterations > 255:
		return errors.New("suites: --iterations must be 1-255")
	case c.Timeout <= 0:
		return errors.New("suites: --step-timeout must be positive")
	case c.Slow && k != KindVirtual:
		return errors.New("suites: --slow is for the virtual board")
	case c.Image != "" && k != KindEmulated:
		return errors.New("suites: --image is for an emulated board")
	case k == KindEmulated && (c.Board != "" || c.ProfileFile != ""):
		return errors.New("suites: an emulated board has its own profile; drop --board")
	}
	return nil
}

// Bind defines the flags of c on fs, with the defaults above. A cobra
// command adds them with AddGoFlagSet; a go test binary with flag.CommandLine.
func (c *Config) Bind(fs *flag.FlagSet) {
	fs.BoolVar(&c.Virtual, "virtual", false, "target a virtual board on a pseudo-terminal (the default target)")
	fs.BoolVar(&c.Slow, "slow", false, "the virtual board takes its profile's time per operation, like the chip")
	fs.StringVar(&c.Emulated, "emulated", "", "target the agent firmware on an emulated chip: avr, cortex-m3, nrf51, rv32 or stm32f4")
	fs.StringVar(&c.Image, "image", "", "the emulated chip's firmware image (default: the one make -C boards/firmware agents builds)")
	fs.StringVar(&c.Port, "port", "", "target a real board on this serial port, e.g. /dev/ttyACM0")
	fs.StringVar(&c.Serial, "serial", "", "target the real board with this USB serial number, instead of --port")
	fs.StringVar(&c.Board, "board", "", "board profile (shakedown board profiles lists them); recognised from the USB ids when omitted")
	fs.StringVar(&c.ProfileFile, "board-file", "", "a board profile YAML file of your own, instead of --board")
	fs.StringVar(&c.ProfileFile, "profile-file", "", "deprecated: use --board-file")
	fs.IntVar(&c.Baud, "baud", 0, "override the profile's baud rate")
	fs.StringVar(&c.Fleet, "fleet", "", "target a simulated fleet: a scenario file, as shakedown sim --scenario reads")
	fs.StringVar(&c.Fixtures, "fixtures", "", "fixture folder (shakedown fixtures gen); default: a set generated from a fixed seed")
	fs.IntVar(&c.Runs, "runs", DefaultRuns, "handshakes measured per profile")
	fs.IntVar(&c.Messages, "messages", DefaultMessages, "MQTT messages of the throughput suite")
	fs.IntVar(&c.Iterations, "iterations", DefaultIterations, "iterations per benchmark, 1-255")
	fs.StringVar(&c.Out, "out", "", "folder for the results (boards.json, mitm.json, sim.json)")
	fs.StringVar(&c.Out, "results", "", "deprecated: use --out")
	fs.DurationVar(&c.Timeout, "step-timeout", DefaultTimeout, "bounds one step of a spec: a handshake, a benchmark, an MQTT exchange")
}
