package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"shakedown/boards/emulated"
	"shakedown/reports"
)

// chipTools are the programs the emulated chips need: the build, the
// three toolchains and their emulators.
var chipTools = []string{"make", "avr-gcc", "simavr", "arm-none-eabi-gcc", "qemu-system-arm", "riscv64-unknown-elf-gcc", "qemu-system-riscv32"}

// Bounds of the chips' part: building the images, then running them.
const (
	chipBuildTimeout = 5 * time.Minute
	chipRunTimeout   = 3 * time.Minute
)

// benchChips builds the firmware's images and runs its benchmark on the
// emulated chips, in parallel. A missing toolchain or emulator skips them
// with a note; so does a chip whose run failed.
func benchChips(ctx context.Context, fw string, out io.Writer) ([]reports.Board, string) {
	if _, err := os.Stat(filepath.Join(fw, "emu", "board.sh")); err != nil {
		return nil, "no firmware folder at " + fw + " (run from the repository's root, or give --firmware)"
	}
	for _, tool := range chipTools {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, tool + " is not installed (make deps installs the toolchains and emulators)"
		}
	}
	bctx, cancel := context.WithTimeout(ctx, chipBuildTimeout)
	defer cancel()
	if b, err := exec.CommandContext(bctx, "make", "-s", "-C", fw, "chips", "agents").CombinedOutput(); err != nil {
		return nil, "building the chip images failed: " + lastLine(b)
	}
	rctx, cancel := context.WithTimeout(ctx, chipRunTimeout)
	defer cancel()
	chips := emulated.Chips()
	res := make([]reports.Board, len(chips))
	errs := make([]error, len(chips))
	var wg sync.WaitGroup
	for i, c := range chips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = emulated.RunBench(rctx, fw, c)
		}()
	}
	wg.Wait()
	var got []reports.Board
	var notes []string
	for i, c := range chips {
		if errs[i] != nil {
			notes = append(notes, errs[i].Error())
			continue
		}
		got = append(got, res[i])
		for _, x := range res[i].Bench {
			if x.Op == "x25519" {
				fmt.Fprintf(out, "   %-11s X25519 %s %s (exact: the emulator counts them)\n", c, reports.FormatCount(x.Mean), x.Unit)
			}
		}
	}
	return got, strings.Join(notes, "; ")
}

// lastLine is the last line of a program's output: its error, usually.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
