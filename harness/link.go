package harness

import (
	"time"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// link is the state of one board link. Only the link goroutine (run)
// reads or writes it; every other goroutine reaches it through Board.post.
// The package doc draws its states.
type link struct {
	b *Board

	// The port (port.go).
	io       *portIO // the port while the link is up; nil while it is down
	portName string
	err      error // why the link stopped: gone for good (link_lost) or closed
	dec      bp.Decoder
	parked   []*portOp // modem-line changes waiting for the port
	stats    LinkStats

	// What the board said of itself (events.go).
	maxPayload int
	evNext     int // expected seq of the next event, -1 before the first
	lastBoot   bp.Boot
	bootGen    uint64
	booted     chan struct{} // closed and replaced at every BOOT

	// Commands (inflight.go): one in flight, the others queued.
	seq   byte
	queue []*command
	cur   *command
	retx  *time.Timer // the command in flight is overdue

	// The board's activity (session.go, relay.go): nil when idle.
	sess     *sessionState
	overdue  *time.Timer            // failing: the board's CLOSED is late
	carriers map[*sessionState]bool // sessions whose relay carrier runs

	published linkView
}

// linkView is what the link goroutine publishes for Board's getters and
// for waiting on a BOOT; it is never changed once published.
type linkView struct {
	portName   string
	stats      LinkStats // once the link stopped
	maxPayload int
	lastBoot   bp.Boot
	bootGen    uint64
	booted     <-chan struct{} // closed at the next BOOT
	err        error
}

func newLink(b *Board) *link {
	l := &link{b: b, evNext: -1, booted: make(chan struct{}), carriers: map[*sessionState]bool{},
		retx: stoppedTimer(), overdue: stoppedTimer()}
	return l
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// run is the link goroutine: it runs requests and the reports of the
// port's goroutines one at a time, fires the link's timers, and never
// blocks on I/O.
func (l *link) run() {
	defer l.b.wg.Done()
	defer close(l.b.stopped)
	for {
		select {
		case f := <-l.b.inbox:
			f(l)
		case <-l.retx.C:
			l.retransmit()
		case <-l.overdue.C:
			l.closedOverdue()
		case <-l.b.stopping:
			l.shutdown()
			l.publish(true)
			return
		}
		l.publish(false)
	}
}

// publish stores a new view when anything in it changed. The counters
// change with every frame: they go into the view only when the link stops
// (Board.Stats asks the link goroutine while it runs).
func (l *link) publish(final bool) {
	v := linkView{portName: l.portName, maxPayload: l.maxPayload, lastBoot: l.lastBoot,
		bootGen: l.bootGen, booted: l.booted, err: l.err}
	if final {
		v.stats = l.counters()
	}
	if l.b.view.Load() != nil && v == l.published {
		return
	}
	l.published = v
	stored := v // only a stored view escapes to the heap
	l.b.view.Store(&stored)
}

// counters returns the link's counters, the decoder's included.
func (l *link) counters() LinkStats {
	s := l.stats
	s.BadFrames = l.dec.Stats.BadFrames + l.dec.Stats.Oversize
	s.ConsoleBytes = l.dec.Stats.ConsoleBytes
	return s
}

// payloadLimit is the largest payload the board accepts.
func (l *link) payloadLimit() int {
	if l.maxPayload > 0 {
		return l.maxPayload
	}
	return bp.MinPayloadLimit
}

// die ends the link for good: what waits for it fails with err, and so
// does every later request.
func (l *link) die(err error) {
	if l.err == nil {
		l.err = err
	}
	if st := l.sess; st != nil {
		l.endRelay(st, l.err)
		l.settle(st, l.err)
		st.s.finish(handshake.ReasonOf(l.err))
		l.sess = nil
	}
	l.failCommands(l.err)
	for _, op := range l.parked {
		op.done(l.err)
	}
	l.parked = nil
}

// shutdown runs when Close stops the link: the port closes, every waiter
// fails, and the relay carriers are told to return (Close waits for them).
func (l *link) shutdown() {
	l.b.cancel()
	if p := l.io; p != nil {
		l.io = nil
		p.close()
	}
	if st := l.sess; st != nil {
		st.s.finish("") // as after Session.Close: Receive returns io.EOF
	}
	l.die(closedErr())
	for st := range l.carriers {
		st.s.closeRelay()
	}
}
