package harness

import (
	"context"
	"errors"
	"time"

	"go.bug.st/serial"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// readChunk is the most the reader takes from the port at a time (tuning).
const readChunk = 512

// writeQueue is how many frames may wait for the writer (tuning): commands
// are stop-and-wait, so one is in flight, and a retransmission that finds
// the queue full is lost as on a noisy line.
const writeQueue = 4

// portIO is one open port and the two goroutines that move its bytes: the
// reader hands what it reads to the link goroutine; the writer writes the
// frames the link goroutine queues. Both report to the link goroutine,
// which ignores the reports of a port that is no longer its own.
type portIO struct {
	port   serial.Port
	writes chan []byte // closed when the port goes down
}

// close closes the port and ends its goroutines: the reader's Read fails
// and the writer's queue ends.
func (p *portIO) close() {
	p.port.Close()
	close(p.writes)
}

// up puts the link on port: its reader and writer start, modem-line
// changes that waited for it run, and the command in flight goes out.
func (l *link) up(port serial.Port, name string) {
	p := &portIO{port: port, writes: make(chan []byte, writeQueue)}
	l.io, l.portName = p, name
	l.b.wg.Add(2)
	go l.b.readPort(p)
	go l.b.writePort(p)
	for _, op := range l.parked {
		op.done(op.set(port))
	}
	l.parked = nil
	if l.cur != nil {
		l.transmit()
	}
}

// down runs when the port failed (a read or a write): the port closes, a
// relay running over it is over, and the link looks for the board's port
// by its serial number. The command in flight waits for the new port.
func (l *link) down(p *portIO) {
	if l.io != p {
		return
	}
	l.io = nil
	p.close()
	l.dec.Reset()
	l.retx.Stop()
	if st := l.sess; st != nil {
		l.endRelay(st, &handshake.Error{Stage: bp.StageRelay, Reason: handshake.ReasonLinkLost,
			Err: errors.New("harness: the port went away during the relay")})
	}
	if l.b.opts.Enumerator == nil || l.b.opts.SerialNumber == "" {
		l.die(linkLost(errNoSerial))
		return
	}
	l.b.wg.Add(1)
	go l.b.findPort()
}

// received decodes what the reader of p read.
func (l *link) received(p *portIO, chunk []byte) {
	if l.io != p {
		return
	}
	for _, it := range l.dec.Feed(chunk) {
		if it.Frame == nil {
			l.b.console.write(it.Console)
			continue
		}
		l.frame(*it.Frame)
	}
}

// wrote takes the writer's report on a frame.
func (l *link) wrote(p *portIO, err error) {
	if err != nil {
		l.down(p)
		return
	}
	if l.io == p {
		l.stats.FramesTx++
	}
}

func linkLost(err error) error {
	return &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonLinkLost, Err: err}
}

// readPort is p's reader.
func (b *Board) readPort(p *portIO) {
	defer b.wg.Done()
	buf := make([]byte, readChunk)
	for {
		n, err := p.port.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			if b.post(func(l *link) { l.received(p, chunk) }) != nil {
				return
			}
		}
		if err != nil {
			b.post(func(l *link) { l.down(p) })
			return
		}
	}
}

// writePort is p's writer.
func (b *Board) writePort(p *portIO) {
	defer b.wg.Done()
	for wire := range p.writes {
		_, err := p.port.Write(wire)
		if b.post(func(l *link) { l.wrote(p, err) }) != nil {
			return
		}
	}
}

// findPort waits for a port with the board's serial number, opens it and
// hands it to the link goroutine; it gives up after ReconnectTimeout.
func (b *Board) findPort() {
	defer b.wg.Done()
	ctx, cancel := context.WithTimeout(b.life, b.opts.ReconnectTimeout)
	defer cancel()
	port, name, err := b.reopen(ctx)
	if err != nil {
		b.post(func(l *link) { l.die(linkLost(err)) })
		return
	}
	if b.post(func(l *link) { l.stats.Reconnects++; l.up(port, name) }) != nil {
		port.Close()
	}
}

func (b *Board) reopen(ctx context.Context) (serial.Port, string, error) {
	for {
		p, err := WaitSerial(ctx, b.opts.Enumerator, b.opts.SerialNumber, b.opts.PollInterval)
		if err != nil {
			return nil, "", errBoardGone
		}
		port, err := openPort(b.opts, p.Name)
		if err == nil {
			return port, p.Name, nil
		}
		// The node may exist before it can be opened: look again.
		t := time.NewTimer(b.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, "", errBoardGone
		case <-t.C:
		}
	}
}

// portOp is a modem-line change: the link goroutine runs it on the port,
// holding it while the port is down.
type portOp struct {
	set  func(ModemLines) error
	done func(error)
}

func (l *link) portOp(op *portOp) {
	switch {
	case l.err != nil:
		op.done(l.err)
	case l.io == nil:
		l.parked = append(l.parked, op)
	default:
		op.done(op.set(l.io.port))
	}
}

func (l *link) cancelPortOp(op *portOp, err error) {
	for i, p := range l.parked {
		if p == op {
			l.parked = append(l.parked[:i], l.parked[i+1:]...)
			op.done(err)
			return
		}
	}
}

// linkLines are the board's modem lines as a reset drives them: each
// change runs on the link goroutine, on the port of the moment.
type linkLines struct {
	b   *Board
	ctx context.Context
}

func (m linkLines) SetDTR(v bool) error {
	return m.set(func(p ModemLines) error { return p.SetDTR(v) })
}
func (m linkLines) SetRTS(v bool) error {
	return m.set(func(p ModemLines) error { return p.SetRTS(v) })
}

func (m linkLines) set(f func(ModemLines) error) error {
	reply := make(chan error, 1)
	op := &portOp{set: f, done: replier(reply)}
	err, lerr := call(m.b, m.ctx, bp.StageLink, func(l *link) { l.portOp(op) },
		func(l *link, err error) { l.cancelPortOp(op, err) }, reply)
	if lerr != nil {
		return lerr
	}
	return err
}

// replier returns a function that sends the first value it gets on ch (of
// capacity 1) and drops any later one: the link goroutine never blocks on a
// reply.
func replier[T any](ch chan<- T) func(T) {
	return func(v T) {
		select {
		case ch <- v:
		default:
		}
	}
}
