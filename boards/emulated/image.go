package emulated

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"shakedown/boards/internal/modroot"
)

// FirmwareEnv names a directory that holds the agent images and
// simavr-run, instead of boards/firmware/build of the module.
const FirmwareEnv = "SHAKEDOWN_FIRMWARE"

// BuildHint is the command that builds what DefaultImage and Check look for.
const BuildHint = "make -C boards/firmware agents"

// Errors that Error wraps; callers branch on them with errors.Is.
var (
	// ErrUnknownChip: Config.Chip is none of Chips() nor an alias.
	ErrUnknownChip = errors.New("emulated: unknown chip (atmega328p or avr, cortex-m3, nrf51, rv32, stm32f4)")
	// ErrMissing: an emulator or an image is not there. Tests skip on it,
	// or fail when SHAKEDOWN_REQUIRE_EMULATORS=1.
	ErrMissing = errors.New("emulated: not installed or not built")
	// ErrNoPTY: the emulator started but named no pseudo-terminal.
	ErrNoPTY = errors.New("emulated: the emulator named no pseudo-terminal")
)

// Error is a failure of one chip's emulated board: what was missing or
// went wrong, and how to fix it where that is known.
type Error struct {
	Chip string
	Err  error  // one of the sentinels above, or the underlying error
	What string // the missing file or program, or what failed
	Hint string // what to install or run
}

func (e *Error) Error() string {
	msg := "emulated: " + e.Chip
	if e.What != "" {
		msg += ": " + e.What
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// DefaultImage returns the agent image of chip:
// boards/firmware/build/agent-<chip>.elf of the module (found by walking up
// from the working directory to go.mod), or agent-<chip>.elf in
// $SHAKEDOWN_FIRMWARE. The error says how to build it when it is missing.
func DefaultImage(chip string) (string, error) {
	c, err := lookupChip(chip)
	if err != nil {
		return "", err
	}
	dir, err := firmwareDir()
	if err != nil {
		return "", &Error{Chip: c.name, Err: ErrMissing, What: err.Error()}
	}
	image := filepath.Join(dir, "agent-"+c.name+".elf")
	if _, err := os.Stat(image); err != nil {
		return "", &Error{Chip: c.name, Err: ErrMissing, What: image + " is missing", Hint: "build it: " + BuildHint}
	}
	return image, nil
}

// Check reports whether chip's emulator and its default image are
// present: nil, or an *Error wrapping ErrMissing that names the Debian
// packages to install or the make target to run.
func Check(chip string) error {
	c, err := lookupChip(chip)
	if err != nil {
		return err
	}
	if _, err := runnerPath(c); err != nil {
		return err
	}
	_, err = DefaultImage(c.name)
	return err
}

// runnerPath returns the emulator program of c.
func runnerPath(c chip) (string, error) {
	if !c.inBuild {
		p, err := exec.LookPath(c.runner)
		if err != nil {
			return "", &Error{Chip: c.name, Err: ErrMissing, What: c.runner + " is not on PATH",
				Hint: "install the Debian package " + c.debian}
		}
		return p, nil
	}
	dir, err := firmwareDir()
	if err != nil {
		return "", &Error{Chip: c.name, Err: ErrMissing, What: err.Error()}
	}
	p := filepath.Join(dir, c.runner)
	if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
		return "", &Error{Chip: c.name, Err: ErrMissing, What: p + " is missing",
			Hint: "build it with " + BuildHint + ", which needs the Debian packages " + c.debian}
	}
	return p, nil
}

// firmwareDir is $SHAKEDOWN_FIRMWARE, else boards/firmware/build under the
// module root.
func firmwareDir() (string, error) {
	if d := os.Getenv(FirmwareEnv); d != "" {
		return filepath.Abs(d)
	}
	root, err := modroot.Dir()
	if err != nil {
		return "", fmt.Errorf("finding the module root (or set %s): %w", FirmwareEnv, err)
	}
	return filepath.Join(root, "boards", "firmware", "build"), nil
}
