package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// Board is an open link to one board. Its methods are safe for concurrent
// use: each is a request to the link goroutine, which owns the port and
// all the link's state (see the package doc), and commands take their turn
// there (the protocol has one in flight at a time).
type Board struct {
	opts Options

	// The link goroutine runs what arrives on inbox (unbuffered: a request
	// that was sent is run). It stops when stopping closes (Close), and
	// closes stopped when it has returned.
	inbox     chan func(*link)
	stopping  chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	// wg counts every goroutine the link starts: itself, the port's reader
	// and writer, the search for a port that went away, relay carriers.
	wg     sync.WaitGroup
	life   context.Context // cancelled when the link stops
	cancel context.CancelFunc

	view    atomic.Pointer[linkView] // published by the link goroutine
	console consoleSink
}

// LinkStats counts what happened on the link.
type LinkStats struct {
	FramesRx, FramesTx uint64
	BadFrames          uint64 // chunks that looked like frames and failed
	ConsoleBytes       uint64
	Retransmits        uint64
	StrayResponses     uint64 // responses matching no outstanding command
	OtherVersion       uint64 // frames of a version this harness does not speak
	LostEvents         uint64 // gaps in the event sequence
	Boots              uint64 // BOOT events seen
	Reconnects         uint64 // times the port was reopened
}

var (
	errBoardGone  = errors.New("harness: the board's port went away and did not come back")
	errClosed     = errors.New("harness: board closed")
	errNoResponse = errors.New("harness: the board did not answer")
	errNoSerial   = errors.New("harness: no serial number to find the board again")
)

// Open opens the port name with opts and, unless opts.SkipHello, greets the
// board with HELLO.
func Open(ctx context.Context, name string, opts Options) (*Board, error) {
	opts = opts.withDefaults()
	if opts.SerialNumber == "" && opts.Enumerator != nil {
		if ports, err := opts.Enumerator.Ports(); err == nil {
			for _, p := range ports {
				if p.Name == name {
					opts.SerialNumber = p.SerialNumber
				}
			}
		}
	}
	port, err := openPort(opts, name)
	if err != nil {
		return nil, err
	}
	b := &Board{opts: opts, inbox: make(chan func(*link)), stopping: make(chan struct{}), stopped: make(chan struct{})}
	b.life, b.cancel = context.WithCancel(context.Background())
	if opts.Console != nil {
		b.console.add(opts.Console)
	}
	l := newLink(b)
	l.up(port, name)
	l.publish(false)
	b.wg.Add(1)
	go l.run()
	if opts.Reset == ResetDTR {
		// Opening the port raised DTR, which resets an auto-reset board:
		// let its bootloader finish before the greeting.
		b.awaitBoot(ctx, opts.BootTimeout)
	}
	if !opts.SkipHello {
		if _, err := b.Hello(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// OpenSerial finds the port of the board with the serial number through
// opts.Enumerator (USBEnumerator when nil) and opens it.
func OpenSerial(ctx context.Context, serialNumber string, opts Options) (*Board, error) {
	if opts.Enumerator == nil {
		opts.Enumerator = USBEnumerator{}
	}
	p, ok, err := FindSerial(opts.Enumerator, serialNumber)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonLinkLost,
			Err: errors.New("harness: no port with that serial number")}
	}
	opts.SerialNumber = serialNumber
	return Open(ctx, p.Name, opts)
}

func openPort(opts Options, name string) (serial.Port, error) {
	mode := opts.mode()
	port, err := opts.Opener(name, mode)
	if err != nil && mode.InitialStatusBits != nil {
		// A port without modem lines (a pseudo-terminal) cannot take the
		// initial levels (go.bug.st/serial reports it as InvalidSerialPort,
		// without the cause to unwrap): open it without them.
		mode.InitialStatusBits = nil
		port, err = opts.Opener(name, mode)
	}
	if err != nil {
		return nil, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonIO,
			Err: fmt.Errorf("harness: opening the port: %w", err)}
	}
	if opts.ReadTimeout > 0 {
		if err := port.SetReadTimeout(opts.ReadTimeout); err != nil {
			port.Close()
			return nil, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonIO,
				Err: fmt.Errorf("harness: setting the read timeout: %w", err)}
		}
	}
	return port, nil
}

// Close stops the link: the port closes, commands and session calls still
// waiting return an error, and Close waits for the link's goroutines. It is
// safe to call more than once; Err then says why the link stopped.
func (b *Board) Close() error {
	b.closeOnce.Do(func() { close(b.stopping) })
	b.wg.Wait()
	return nil
}

// Err returns why the link stopped: nil while it runs, a *handshake.Error
// of reason handshake.ReasonLinkLost when the board went away for good, or
// one saying the board was closed.
func (b *Board) Err() error { return b.view.Load().err }

// PortName returns the name of the port the board is on now.
func (b *Board) PortName() string { return b.view.Load().portName }

// SerialNumber returns the serial number the harness finds the board by.
func (b *Board) SerialNumber() string { return b.opts.SerialNumber }

// Stats returns the link counters.
func (b *Board) Stats() LinkStats {
	var s LinkStats
	if b.exec(func(l *link) error { s = l.counters(); return nil }) != nil {
		return b.view.Load().stats // the link stopped: its last counts
	}
	return s
}

// MaxPayload is the largest payload the board accepts (from HELLO or BOOT).
func (b *Board) MaxPayload() int {
	if n := b.view.Load().maxPayload; n > 0 {
		return n
	}
	return bp.MinPayloadLimit
}

// LastBoot returns the most recent BOOT event and how many were seen.
func (b *Board) LastBoot() (bp.Boot, uint64) {
	v := b.view.Load()
	return v.lastBoot, v.bootGen
}

// post runs f on the link goroutine, or fails when the link has stopped.
func (b *Board) post(f func(*link)) error {
	select {
	case b.inbox <- f:
		return nil
	case <-b.stopped:
		return closedErr()
	}
}

// call starts a request on the link goroutine and waits for its reply,
// which the link sends exactly once. When ctx ends first, call asks the link
// to end the request early with ctx's error (cancel) and still takes the
// reply: the link knows how far the request got.
func call[T any](b *Board, ctx context.Context, stage handshake.Stage, start func(*link), cancel func(*link, error), reply <-chan T) (T, error) {
	var zero T
	if err := b.post(start); err != nil {
		return zero, err
	}
	select {
	case r := <-reply:
		return r, nil
	case <-b.stopped:
		return zero, closedErr()
	case <-ctx.Done():
	}
	err := ctxErr(ctx, stage)
	if b.post(func(l *link) { cancel(l, err) }) != nil {
		return zero, closedErr()
	}
	select {
	case r := <-reply:
		return r, nil
	case <-b.stopped:
		return zero, closedErr()
	}
}

// exec runs f on the link goroutine and returns its error. The inbox is
// unbuffered: once posted, f runs at once.
func (b *Board) exec(f func(*link) error) error {
	errc := make(chan error, 1)
	if err := b.post(func(l *link) { errc <- f(l) }); err != nil {
		return err
	}
	return <-errc
}

// allowance is how long the link itself may take to carry one command:
// every attempt's response timeout.
func (b *Board) allowance() time.Duration {
	return b.opts.ResponseTimeout * time.Duration(b.opts.Retries+1)
}

// do sends a command and returns the response's status and body. The link
// retransmits it with the same seq when no response arrives in time, and
// holds it while the port is down.
func (b *Board) do(ctx context.Context, t bp.Type, payload []byte, timeout time.Duration) (bp.Status, []byte, error) {
	reply := make(chan cmdResult, 1)
	c := &command{frame: bp.Frame{Type: t, Payload: payload}, timeout: timeout,
		done: func(r cmdResult) { reply <- r }}
	r, err := call(b, ctx, bp.StageCommand, func(l *link) { l.submit(c) }, func(l *link, err error) { l.cancel(c, err) }, reply)
	if err != nil {
		return 0, nil, err
	}
	return r.status, r.body, r.err
}

// query runs a command that must succeed and returns the response body.
func (b *Board) query(ctx context.Context, t bp.Type, payload []byte, timeout time.Duration) ([]byte, error) {
	st, body, err := b.do(ctx, t, payload, timeout)
	if err != nil {
		return nil, err
	}
	if err := st.Err(); err != nil {
		return nil, err
	}
	return body, nil
}

func ctxErr(ctx context.Context, st handshake.Stage) error {
	r := handshake.ReasonTimeout
	if errors.Is(ctx.Err(), context.Canceled) {
		r = handshake.ReasonIO
	}
	return &handshake.Error{Stage: st, Reason: r, Err: ctx.Err()}
}

func closedErr() error {
	return &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonIO, Err: errClosed}
}

// CaptureConsole copies console output (bytes on the line that are not
// frames) to w until the returned function is called. Use one per test:
//
//	DeferCleanup(board.CaptureConsole(GinkgoWriter))
func (b *Board) CaptureConsole(w io.Writer) (stop func()) {
	id := b.console.add(w)
	return func() { b.console.remove(id) }
}

// Console returns the most recent console output (up to 64 KiB).
func (b *Board) Console() []byte { return b.console.history() }
