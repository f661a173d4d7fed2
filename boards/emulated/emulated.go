package emulated

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Config says which board to start.
type Config struct {
	// Chip is "atmega328p" (alias "avr"), "cortex-m3", "nrf51", "rv32" or "stm32f4".
	Chip string
	// Image is the ELF file to run; DefaultImage(Chip) when empty.
	Image string
	// Log receives what the emulator itself prints (not the UART): QEMU's
	// warnings, simavr-run's lines. Discarded when nil.
	Log io.Writer
}

// How long Close waits for the emulator to end after SIGTERM before it
// sends SIGKILL, and how long Start waits for the pseudo-terminal when ctx
// has no deadline.
const (
	stopGrace    = 3 * time.Second
	startTimeout = 30 * time.Second
)

// Board is one running emulator with the agent on its UART.
type Board struct {
	chip  chip
	image string
	path  string // the pseudo-terminal

	cmd     *exec.Cmd
	wg      sync.WaitGroup // the output readers
	exited  chan struct{}  // closed when the process has been waited for
	waitErr error          // cmd.Wait's result, set before exited closes
	once    sync.Once
	log     *lineLog
}

// Start launches the emulator for cfg, waits until it names the
// pseudo-terminal of the agent's UART and returns the board. The
// emulator runs until Close; it is started in a process group of its own
// and gets SIGKILL when the process that started it dies, so that a test
// that never calls Close leaves no emulator behind.
func Start(ctx context.Context, cfg Config) (*Board, error) {
	c, err := lookupChip(cfg.Chip)
	if err != nil {
		return nil, err
	}
	image := cfg.Image
	if image == "" {
		if image, err = DefaultImage(c.name); err != nil {
			return nil, err
		}
	}
	runner, err := runnerPath(c)
	if err != nil {
		return nil, err
	}
	b := &Board{chip: c, image: image, exited: make(chan struct{}), log: &lineLog{w: cfg.Log}}
	b.cmd = exec.Command(runner, c.args(image)...)
	b.cmd.SysProcAttr = procAttr()
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		return nil, &Error{Chip: c.name, Err: err, What: "starting " + c.runner}
	}
	stderr, err := b.cmd.StderrPipe()
	if err != nil {
		return nil, &Error{Chip: c.name, Err: err, What: "starting " + c.runner}
	}
	if err := b.cmd.Start(); err != nil {
		return nil, &Error{Chip: c.name, Err: err, What: "starting " + c.runner}
	}
	found := make(chan string, 1)
	b.wg.Add(2)
	go b.read(stdout, found)
	go b.read(stderr, found)
	go func() {
		// Wait only once both pipes are drained (os/exec's rule).
		b.wg.Wait()
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case b.path = <-found:
		return b, nil
	case <-b.exited:
		return nil, &Error{Chip: c.name, Err: ErrNoPTY, What: c.runner + " exited: " + errString(b.waitErr)}
	case <-ctx.Done():
		b.Close()
		return nil, &Error{Chip: c.name, Err: ctx.Err(), What: "waiting for the pseudo-terminal"}
	case <-timer.C:
		b.Close()
		return nil, &Error{Chip: c.name, Err: ErrNoPTY, What: "nothing after " + startTimeout.String()}
	}
}

// read copies the runner's lines to the log and reports the first path of
// a pseudo-terminal.
func (b *Board) read(r io.Reader, found chan<- string) {
	defer b.wg.Done()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := b.chip.pty.FindStringSubmatch(line); m != nil {
			select {
			case found <- m[1]:
			default: // a second line naming it: the first one counts
			}
		}
		b.log.line(line)
	}
}

// Path returns the pseudo-terminal of the agent's UART: open it with
// harness.Open like a real board's /dev/ttyACM0.
func (b *Board) Path() string { return b.path }

// ProfileName returns the name of the board profile (boards.Lookup) of
// this chip: simavr-atmega328p, qemu-mps2-an385, qemu-sifive-e or
// qemu-netduinoplus2.
func (b *Board) ProfileName() string { return b.chip.profile }

// Chip returns the canonical chip name.
func (b *Board) Chip() string { return b.chip.name }

// Image returns the ELF file the emulator runs.
func (b *Board) Image() string { return b.image }

// Exited is closed when the emulator process has ended.
func (b *Board) Exited() <-chan struct{} { return b.exited }

// Close stops the emulator: SIGTERM to its process group, SIGKILL if it
// has not ended after a grace period, then waits for it. An emulator keeps
// a core busy, so a test closes its board when done. Safe to call more
// than once; it returns nil once the process is gone, however it ended.
func (b *Board) Close() error {
	b.once.Do(func() {
		pgid := b.cmd.Process.Pid // Setpgid: the group has the runner's pid
		if signalGroup(pgid, syscall.SIGTERM) {
			t := time.NewTimer(stopGrace)
			select {
			case <-b.exited:
			case <-t.C:
				signalGroup(pgid, syscall.SIGKILL)
			}
			t.Stop()
		}
		<-b.exited
	})
	return nil
}

func errString(err error) string {
	if err == nil {
		return "status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	return err.Error()
}

// lineLog writes whole lines to w from several goroutines.
type lineLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineLog) line(s string) {
	if l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, s+"\n")
}
