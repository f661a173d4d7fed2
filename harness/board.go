package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.bug.st/serial"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// Board is an open link to one board. Its methods are safe for concurrent
// use; commands are serialised (the protocol has one in flight at a time).
type Board struct {
	opts Options

	// Owned goroutines: the reader (and, through it, reconnection).
	wg        sync.WaitGroup
	closed    chan struct{}
	closeOnce sync.Once
	life      context.Context // cancelled by Close
	cancel    context.CancelFunc

	mu       sync.Mutex
	port     serial.Port   // nil while the link is down
	portName string        // the current port's name
	changed  chan struct{} // closed and replaced when the link goes down, up or dead
	dead     error         // set when the link is gone for good
	hello    bp.Hello
	pending  *pendingCmd
	evNext   int // expected seq of the next event, -1 before the first
	relay    *relay
	hsWait   chan hsOutcome // the waiting handshake, if any
	session  *Session
	bootGen  uint64
	bootCh   chan struct{} // closed and replaced at every BOOT
	lastBoot bp.Boot
	stats    LinkStats
	console  consoleSink

	wmu sync.Mutex // serialises writes to the port

	cmdMu sync.Mutex // one command at a time
	seq   byte
	dec   bp.Decoder // used by the reader goroutine only
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

type pendingCmd struct {
	typ bp.Type
	seq byte
	ch  chan bp.Frame
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
	b := &Board{opts: opts, closed: make(chan struct{}), port: port, portName: name,
		changed: make(chan struct{}), evNext: -1, bootCh: make(chan struct{})}
	b.life, b.cancel = context.WithCancel(context.Background())
	if opts.Console != nil {
		b.console.add(opts.Console)
	}
	b.wg.Add(1)
	go b.readLoop(port)
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

// awaitBoot waits up to d for a first BOOT event; a board that sends none
// (it did not reset) costs d.
func (b *Board) awaitBoot(ctx context.Context, d time.Duration) {
	b.mu.Lock()
	gen, ch := b.bootGen, b.bootCh
	b.mu.Unlock()
	if gen > 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
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
		return nil, &handshake.Error{Stage: bp.StageLink, Reason: bp.ReasonLinkLost,
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

// Close closes the link and waits for its goroutines. It is safe to call
// more than once.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		close(b.closed)
		b.cancel()
		b.mu.Lock()
		port, s := b.port, b.session
		b.mu.Unlock()
		if port != nil {
			port.Close()
		}
		if s != nil {
			s.stop()
		}
	})
	b.wg.Wait()
	return nil
}

// PortName returns the name of the port the board is on now.
func (b *Board) PortName() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.portName
}

// SerialNumber returns the serial number the harness finds the board by.
func (b *Board) SerialNumber() string { return b.opts.SerialNumber }

// Stats returns the link counters.
func (b *Board) Stats() LinkStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// MaxPayload is the largest payload the board accepts (from HELLO).
func (b *Board) MaxPayload() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hello.MaxPayload == 0 {
		return bp.MinPayloadLimit
	}
	return int(b.hello.MaxPayload)
}

// LastBoot returns the most recent BOOT event and how many were seen.
func (b *Board) LastBoot() (bp.Boot, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastBoot, b.bootGen
}

// ---------------------------------------------------------------- reading

func (b *Board) readLoop(port serial.Port) {
	defer b.wg.Done()
	buf := make([]byte, 512)
	for {
		n, err := port.Read(buf)
		if n > 0 {
			b.consume(buf[:n])
		}
		if err == nil {
			continue
		}
		select {
		case <-b.closed:
			return
		default:
		}
		if port = b.reconnect(port); port == nil {
			return
		}
	}
}

func (b *Board) consume(p []byte) {
	items := b.dec.Feed(p)
	for _, it := range items {
		if it.Frame == nil {
			b.console.write(it.Console)
			continue
		}
		b.dispatch(*it.Frame)
	}
	b.mu.Lock()
	b.stats.BadFrames = b.dec.Stats.BadFrames + b.dec.Stats.Oversize
	b.stats.ConsoleBytes = b.dec.Stats.ConsoleBytes
	b.mu.Unlock()
}

func (b *Board) dispatch(f bp.Frame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.FramesRx++
	if f.Version != bp.Version {
		b.stats.OtherVersion++
		return
	}
	switch {
	case f.Type.IsResponse():
		if p := b.pending; p != nil && p.typ == f.Type && p.seq == f.Seq {
			select {
			case p.ch <- f:
			default:
			}
			return
		}
		b.stats.StrayResponses++
	case f.Type.IsEvent():
		b.event(f)
	}
}

// event handles an event frame; the caller holds mu.
func (b *Board) event(f bp.Frame) {
	if f.Type == bp.EvtBoot {
		b.boot(f)
		return
	}
	if b.evNext >= 0 && int(f.Seq) != b.evNext {
		b.stats.LostEvents += uint64(byte(int(f.Seq) - b.evNext))
		if b.relay != nil {
			b.relay.end(&handshake.Error{Stage: bp.StageRelay, Reason: bp.ReasonLinkLost,
				Err: errors.New("harness: board events were lost")})
		}
	}
	b.evNext = int(f.Seq+1) & 0xFF
	switch f.Type {
	case bp.EvtRelayData:
		if b.relay != nil {
			b.relay.fromBoard(f.Payload)
		}
	case bp.EvtRelayCredit:
		if c, err := bp.ParseCredit(f.Payload); err == nil && b.relay != nil {
			b.relay.grant(int(c))
		}
	case bp.EvtClosed:
		r, err := bp.ParseReason(f.Payload)
		if err != nil {
			r = handshake.ReasonMalformed
		}
		if b.relay != nil {
			b.relay.boardClosed(r)
		}
		if b.session != nil {
			b.session.boardClosed(r)
		}
	case bp.EvtHandshakeDone:
		out := hsOutcome{}
		out.done, out.err = bp.ParseHandshakeDone(f.Payload)
		if b.hsWait != nil {
			select {
			case b.hsWait <- out:
			default:
			}
		}
	case bp.EvtMessage:
		if b.session != nil {
			b.session.deliver(f.Payload)
		}
	}
}

// boot handles a BOOT event; the caller holds mu.
func (b *Board) boot(f bp.Frame) {
	b.evNext = 1
	b.stats.Boots++
	boot, err := bp.ParseBoot(f.Payload)
	if err == nil {
		b.lastBoot = boot
		b.hello.MaxPayload = boot.MaxPayload
	}
	b.bootGen++
	close(b.bootCh)
	b.bootCh = make(chan struct{})
	resetErr := &handshake.Error{Stage: bp.StageLink, Reason: bp.ReasonBoardReset,
		Err: errors.New("harness: the board rebooted")}
	if b.relay != nil {
		b.relay.end(resetErr)
	}
	if b.hsWait != nil {
		select {
		case b.hsWait <- hsOutcome{err: resetErr}:
		default:
		}
	}
	if b.session != nil {
		b.session.boardClosed(bp.ReasonBoardReset)
	}
}

// reconnect runs when a read failed: the port is closed, and the harness
// waits for a port with the board's serial number. It returns the new port,
// or nil when the board is closed or gone for good.
func (b *Board) reconnect(old serial.Port) serial.Port {
	old.Close()
	b.dec.Reset()
	b.mu.Lock()
	b.port = nil
	b.signalLocked()
	if b.relay != nil {
		b.relay.end(&handshake.Error{Stage: bp.StageRelay, Reason: bp.ReasonLinkLost,
			Err: errors.New("harness: the port went away during the relay")})
	}
	b.mu.Unlock()

	fail := func(err error) serial.Port {
		b.mu.Lock()
		b.dead = &handshake.Error{Stage: bp.StageLink, Reason: bp.ReasonLinkLost, Err: err}
		b.signalLocked()
		b.mu.Unlock()
		return nil
	}
	if b.opts.Enumerator == nil || b.opts.SerialNumber == "" {
		return fail(errNoSerial)
	}
	ctx, cancel := context.WithTimeout(b.life, b.opts.ReconnectTimeout)
	defer cancel()
	for {
		p, err := WaitSerial(ctx, b.opts.Enumerator, b.opts.SerialNumber, b.opts.PollInterval)
		if err != nil {
			return fail(errBoardGone)
		}
		port, err := openPort(b.opts, p.Name)
		if err != nil {
			// The node may exist before it can be opened: look again.
			select {
			case <-ctx.Done():
				return fail(errBoardGone)
			case <-time.After(b.opts.PollInterval):
			}
			continue
		}
		b.mu.Lock()
		select {
		case <-b.closed:
			b.mu.Unlock()
			port.Close()
			return nil
		default:
		}
		b.port, b.portName = port, p.Name
		b.stats.Reconnects++
		b.signalLocked()
		b.mu.Unlock()
		return port
	}
}

// ---------------------------------------------------------------- writing

// signalLocked wakes everyone waiting for a link change; the caller holds mu.
func (b *Board) signalLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// waitUp waits until the link is up and returns the port.
func (b *Board) waitUp(ctx context.Context) (serial.Port, error) {
	return b.waitPort(ctx, nil)
}

// waitPort waits until the link is up on a port other than not.
func (b *Board) waitPort(ctx context.Context, not serial.Port) (serial.Port, error) {
	for {
		b.mu.Lock()
		port, changed, dead := b.port, b.changed, b.dead
		b.mu.Unlock()
		switch {
		case dead != nil:
			return nil, dead
		case port != nil && port != not:
			return port, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctxErr(ctx, bp.StageLink)
		case <-b.closed:
			return nil, closedErr()
		}
	}
}

// writeFrame writes f to the port. When the write fails the port is
// closed, so the reader reconnects, and f goes out on the next port.
func (b *Board) writeFrame(ctx context.Context, f bp.Frame) error {
	wire, err := bp.AppendFrame(nil, f)
	if err != nil {
		return err
	}
	var failed serial.Port
	for {
		port, err := b.waitPort(ctx, failed)
		if err != nil {
			return err
		}
		b.wmu.Lock()
		_, err = port.Write(wire)
		b.wmu.Unlock()
		if err == nil {
			b.mu.Lock()
			b.stats.FramesTx++
			b.mu.Unlock()
			return nil
		}
		port.Close() // the reader sees the port fail and reconnects
		failed = port
	}
}

// do sends a command and returns the response's status and body. It
// retransmits with the same seq when no response arrives in time, and
// waits for the link when the port is down.
func (b *Board) do(ctx context.Context, t bp.Type, payload []byte, timeout time.Duration) (bp.Status, []byte, error) {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	seq := b.seq
	b.seq++
	p := &pendingCmd{typ: t.Response(), seq: seq, ch: make(chan bp.Frame, 1)}
	b.mu.Lock()
	b.pending = p
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.pending = nil
		b.mu.Unlock()
	}()
	f := bp.Frame{Type: t, Seq: seq, Payload: payload}
	for attempt := 0; attempt <= b.opts.Retries; attempt++ {
		if attempt > 0 {
			b.mu.Lock()
			b.stats.Retransmits++
			b.mu.Unlock()
		}
		if err := b.writeFrame(ctx, f); err != nil {
			return 0, nil, err
		}
		timer := time.NewTimer(timeout)
		select {
		case r := <-p.ch:
			timer.Stop()
			st, body, err := bp.SplitResponse(r.Payload)
			if err != nil {
				return 0, nil, err
			}
			if st == bp.StatusUnsupportedVersion {
				return st, body, &handshake.Error{Stage: bp.StageCommand, Reason: bp.ReasonVersion, Err: st}
			}
			return st, body, nil
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return 0, nil, ctxErr(ctx, bp.StageCommand)
		case <-b.closed:
			timer.Stop()
			return 0, nil, closedErr()
		}
	}
	return 0, nil, &handshake.Error{Stage: bp.StageCommand, Reason: bp.ReasonNoResponse,
		Err: fmt.Errorf("harness: %s: %w", t, errNoResponse)}
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

// ---------------------------------------------------------------- console

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

const consoleHistory = 64 << 10

type consoleSink struct {
	mu      sync.Mutex
	next    int
	writers map[int]io.Writer
	hist    []byte
}

func (c *consoleSink) add(w io.Writer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writers == nil {
		c.writers = map[int]io.Writer{}
	}
	c.next++
	c.writers[c.next] = w
	return c.next
}

func (c *consoleSink) remove(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.writers, id)
}

func (c *consoleSink) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hist = append(c.hist, p...)
	if over := len(c.hist) - consoleHistory; over > 0 {
		c.hist = append(c.hist[:0], c.hist[over:]...)
	}
	for _, w := range c.writers {
		w.Write(p) // a failing capture must not stop the link
	}
}

func (c *consoleSink) history() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.hist...)
}
