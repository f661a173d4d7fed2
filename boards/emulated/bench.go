package emulated

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"shakedown/reports"
)

// Errors of the benchmark program's output (ParseBench, RunBench), wrapped
// in an *Error.
var (
	// ErrBenchOutput: the output is not what test/avr/bench.c prints.
	ErrBenchOutput = errors.New("emulated: unreadable benchmark output")
	// ErrBenchWrong: the benchmark checked a result against its vector
	// and it was wrong.
	ErrBenchWrong = errors.New("emulated: the benchmark computed a wrong result")
)

// The benchmark program's output (boards/firmware/test/avr/bench.c), one
// line each:
//
//	chip <name words...> unit <cycles|instructions>
//	bench <op> <count> <peak stack bytes> ok|WRONG
//
// and, from simavr-run, "mark <id> <cycles>" lines, which ParseBench
// passes over like any other line.
const (
	benchChipWord = "chip"
	benchUnitWord = "unit"
	benchLineWord = "bench"
	benchOK       = "ok"
	benchWrong    = "WRONG"
	benchFields   = 5 // bench, op, count, stack, verdict
	maxChipName   = 64
)

// benchName is what an operation's name and a unit may be: the words
// bench.c prints.
var benchName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// benchTimeout bounds one run of the benchmark (emu/board.sh's own
// deadline): P-256 on the ATmega328P is 300 M simulated cycles.
const benchTimeout = 300 * time.Second

// BenchImage returns the benchmark program's image of chip, relative to
// the firmware folder (make -C boards/firmware chips builds it).
func BenchImage(chip string) (string, error) {
	c, err := lookupChip(chip)
	if err != nil {
		return "", err
	}
	return c.bench, nil
}

// RunBench runs the firmware's benchmark program on chip with
// emu/board.sh in the firmware folder fw, and returns its figures: exact
// counts, as the emulator makes them. The images must be built (make -C
// boards/firmware chips).
func RunBench(ctx context.Context, fw, chip string) (reports.Board, error) {
	c, err := lookupChip(chip)
	if err != nil {
		return reports.Board{}, err
	}
	secs := strconv.Itoa(int(benchTimeout / time.Second))
	cmd := exec.CommandContext(ctx, filepath.Join("emu", "board.sh"), "run", c.name, c.bench, secs)
	cmd.Dir = fw
	cmd.Env = append(os.Environ(), "SIMAVR_RUN="+filepath.Join("build", "simavr-run"))
	out, err := cmd.Output()
	if err != nil {
		return reports.Board{}, &Error{Chip: c.name, Err: err, What: "running the benchmark " + c.bench}
	}
	return ParseBench(c.name, out)
}

// ParseBench reads the output of the firmware's benchmark program on
// chip: the chip's name and counter unit, then one figure an operation.
// The board it returns is emulated and exact, with the chip's clock when
// its counter counts cycles. Output that is not the program's, or a
// result the program found wrong, is an *Error wrapping ErrBenchOutput or
// ErrBenchWrong; it never quotes the output.
func ParseBench(chip string, out []byte) (reports.Board, error) {
	c, err := lookupChip(chip)
	if err != nil {
		return reports.Board{}, err
	}
	rb := reports.Board{Name: c.name, Board: c.board, Kind: reports.KindEmulated, Exact: true, ClockHz: c.clockHz}
	if c.clockHz > 0 {
		rb.Board = fmt.Sprintf("%s (%d MHz)", c.board, c.clockHz/1e6)
	}
	unit := ""
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == benchChipWord && f[len(f)-2] == benchUnitWord:
			rb.Chip, unit = strings.Join(f[1:len(f)-2], " "), f[len(f)-1]
			if len(rb.Chip) > maxChipName || !benchName.MatchString(unit) {
				return rb, benchError(c, ErrBenchOutput, i, "an unreadable chip line")
			}
		case len(f) > 0 && f[0] == benchLineWord:
			b, err := parseBenchLine(c, f, i, unit)
			if err != nil {
				return rb, err
			}
			rb.Bench = append(rb.Bench, b)
		}
	}
	if rb.Chip == "" || len(rb.Bench) == 0 {
		return rb, &Error{Chip: c.name, Err: ErrBenchOutput, What: "no chip line or no figures"}
	}
	return rb, nil
}

// parseBenchLine reads the fields f of line i, a bench line.
func parseBenchLine(c chip, f []string, i int, unit string) (reports.Bench, error) {
	if unit == "" {
		return reports.Bench{}, benchError(c, ErrBenchOutput, i, "a figure before the chip line")
	}
	if len(f) != benchFields || !benchName.MatchString(f[1]) {
		return reports.Bench{}, benchError(c, ErrBenchOutput, i, "an unreadable figure")
	}
	n, err1 := strconv.ParseUint(f[2], 10, 64)
	st, err2 := strconv.ParseUint(f[3], 10, 31)
	switch {
	case err1 != nil || err2 != nil:
		return reports.Bench{}, benchError(c, ErrBenchOutput, i, "a count that is not a number")
	case f[4] == benchWrong:
		return reports.Bench{}, benchError(c, ErrBenchWrong, i, f[1])
	case f[4] != benchOK:
		return reports.Bench{}, benchError(c, ErrBenchOutput, i, "a figure neither ok nor WRONG")
	}
	return reports.Bench{Op: f[1], Mean: float64(n), Unit: unit, StackBytes: int(st)}, nil
}

func benchError(c chip, err error, i int, what string) error {
	return &Error{Chip: c.name, Err: err, What: fmt.Sprintf("line %d: %s", i+1, what)}
}
