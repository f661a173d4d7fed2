package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// HandshakeOptions configure Board.Handshake.
type HandshakeOptions struct {
	Profile handshake.Name
	// Mode is boardproto.ModeRelay (the default) or ModeNetwork.
	Mode bp.Mode
	// Server is host:port of the server. Relay mode: the harness connects
	// to it; network mode: the board does.
	Server string
	// Timeout is the board's handshake deadline; Options.HandshakeTimeout
	// when zero.
	Timeout time.Duration
	// Tap sits on the relay's byte path; Pipe when nil. Relay mode only.
	Tap Tap
	// Dial connects to the server in relay mode; a net.Dialer when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Attempts is how many times the handshake runs when the board reboots
	// in the middle of it (reason handshake.ReasonBoardReset): 1 when zero.
	Attempts int
}

// Session is a handshake that succeeded and the session after it: Send and
// Receive carry application messages through the board.
type Session struct {
	b        *Board
	Profile  handshake.Name
	Mode     bp.Mode
	Result   bp.HandshakeDone // the board's own report, costs included
	Attempts int              // handshakes run to get this one

	state *sessionState // the link goroutine's side: only it touches it

	// Relay mode: the board's side of the relay, the server's (counted),
	// and the carrier between them (relay.go).
	relay   *bp.RelayConn
	server  *tracedConn
	cancel  context.CancelFunc // stops the carrier
	carried chan struct{}      // closed when the carrier returned; nil if it never ran

	// The mailbox the link goroutine fills: MESSAGE payloads, and the end.
	mu       sync.Mutex
	msgs     [][]byte
	msgCh    chan struct{}
	done     chan struct{} // closed when the session is over
	doneOnce sync.Once
	reason   handshake.Reason

	stopOnce  sync.Once
	closeOnce sync.Once

	addr     string // the server's host:port, as given
	connOnce sync.Once
	conn     *sessionConn // see Conn
}

// phase is where a session stands on the link (the package doc's table).
type phase int

const (
	phaseHandshake phase = iota // the board runs the handshake
	phaseFailing                // it failed in relay mode; the board's CLOSED is awaited
	phaseOpen                   // the session is open
	phaseOver                   // the handshake has its outcome; Session.stop detaches it
)

// sessionState is the link goroutine's side of a Session: its phase, and
// in relay mode the relay's credit, the server's bytes on their way to the
// board, and how the relay ended (relay.go).
type sessionState struct {
	s       *Session
	phase   phase
	outcome chan hsOutcome // the handshake's end, reported once
	held    hsOutcome      // phaseFailing: the failure, until CLOSED

	conn       *bp.RelayConn // relay mode
	credit     int
	writes     []*relayWrite
	chunk      *command    // the RELAY_DATA in flight
	chunkFor   *relayWrite // the write it carries
	boardDone  bool        // the board ended the relay (CLOSED or BOOT)
	relayEnded bool
	endErr     error
}

type hsOutcome struct {
	done bp.HandshakeDone
	err  error
}

func (st *sessionState) report(out hsOutcome) { replier(st.outcome)(out) }

// attach makes st the board's activity, or says why not.
func (l *link) attach(st *sessionState) error {
	switch {
	case l.err != nil:
		return l.err
	case l.sess != nil:
		return &handshake.Error{Stage: bp.StageCommand, Reason: bp.StatusBusy.Reason(),
			Err: errors.New("harness: a session is already open on this board")}
	}
	l.sess = st
	return nil
}

// detach forgets st: the harness is done with it.
func (l *link) detach(st *sessionState) {
	if l.sess != st {
		return
	}
	l.endRelay(st, nil)
	if st.phase == phaseFailing {
		l.overdue.Stop()
	}
	l.sess = nil
}

// Handshake runs the device side of a profile on the board, in relay mode
// through this harness (and opts.Tap) or in network mode by the board's own
// network, and returns the session. When the board reboots during the
// handshake the harness greets it again and starts over, up to
// opts.Attempts times.
func (b *Board) Handshake(ctx context.Context, opts HandshakeOptions) (*Session, error) {
	if opts.Mode == 0 {
		opts.Mode = bp.ModeRelay
	}
	if opts.Timeout == 0 {
		opts.Timeout = b.opts.HandshakeTimeout
	}
	if opts.Tap == nil {
		opts.Tap = Pipe
	}
	if opts.Attempts < 1 {
		opts.Attempts = 1
	}
	for attempt := 1; ; attempt++ {
		s, err := b.handshakeOnce(ctx, opts)
		if err == nil {
			s.Attempts = attempt
			return s, nil
		}
		if handshake.ReasonOf(err) != handshake.ReasonBoardReset || attempt >= opts.Attempts {
			return nil, err
		}
		if _, err := b.Hello(ctx); err != nil {
			return nil, err
		}
	}
}

func (b *Board) handshakeOnce(ctx context.Context, o HandshakeOptions) (*Session, error) {
	req, err := handshakeRequest(o)
	if err != nil {
		return nil, withProfile(err, o.Profile)
	}
	s := &Session{b: b, Profile: o.Profile, Mode: o.Mode, msgCh: make(chan struct{}, 1), done: make(chan struct{}),
		addr: o.Server}
	s.state = &sessionState{s: s, outcome: make(chan hsOutcome, 1)}
	if o.Mode == bp.ModeRelay {
		if err := s.connect(ctx, o.Dial); err != nil {
			return nil, withProfile(err, o.Profile)
		}
	}
	if err := b.exec(func(l *link) error { return l.attach(s.state) }); err != nil {
		return s.fail(err)
	}
	if _, err := b.query(ctx, bp.CmdHandshake, req.Append(nil), b.opts.ResponseTimeout); err != nil {
		return s.fail(err)
	}
	if s.relay != nil {
		// Carry only once the board accepted the command: a tap that ends
		// at once then reaches a board that is in the handshake. Until
		// then, relay bytes from the board wait in the relay conn.
		s.beginCarry(o.Tap)
	}
	// The board enforces o.Timeout; the link may take its allowance for
	// HANDSHAKE_DONE and again for a failed relay handshake's CLOSED.
	timer := time.NewTimer(o.Timeout + 2*b.allowance())
	defer timer.Stop()
	select {
	case out := <-s.state.outcome:
		if out.err != nil {
			return s.fail(out.err)
		}
		s.Result = out.done
		return s, nil
	case <-ctx.Done():
		return s.fail(ctxErr(ctx, bp.StageRelay))
	case <-timer.C:
		return s.fail(&handshake.Error{Stage: bp.StageRelay, Reason: handshake.ReasonTimeout,
			Err: errors.New("harness: no HANDSHAKE_DONE from the board")})
	case <-b.stopped:
		return s.fail(closedErr())
	}
}

// handshakeRequest is the HANDSHAKE command o asks for.
func handshakeRequest(o HandshakeOptions) (bp.HandshakeRequest, error) {
	req := bp.HandshakeRequest{Mode: o.Mode, Profile: o.Profile, Timeout: o.Timeout}
	switch o.Mode {
	case bp.ModeRelay:
	case bp.ModeNetwork:
		host, port, err := net.SplitHostPort(o.Server)
		n, perr := strconv.ParseUint(port, 10, 16)
		if err != nil || perr != nil || host == "" || len(host) > bp.HostMax || n == 0 {
			return req, &handshake.Error{Stage: handshake.StageDial, Reason: handshake.ReasonMalformed,
				Err: errors.New("harness: server must be host:port with a host of 1-64 characters")}
		}
		req.Host, req.Port = host, uint16(n)
	default:
		return req, &handshake.Error{Stage: bp.StageCommand, Reason: handshake.ReasonMalformed,
			Err: errors.New("harness: unknown handshake mode")}
	}
	return req, nil
}

// connect opens the server's side of a relay and the board's side.
func (s *Session) connect(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error)) error {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	server, err := dial(ctx, "tcp", s.addr)
	if err != nil {
		return &handshake.Error{Stage: handshake.StageDial, Reason: handshake.ReasonIO,
			Err: fmt.Errorf("harness: connecting to the server: %w", err)}
	}
	s.server = &tracedConn{Conn: server}
	s.relay = bp.NewRelayConn(bp.RelayConfig{Send: s.relaySend, Local: bp.RelayAddr("harness"),
		Remote: bp.RelayAddr("board " + s.b.PortName() + " for " + server.RemoteAddr().String())})
	s.state.conn = s.relay
	return nil
}

// fail ends a handshake that did not succeed: the session stops, and the
// error carries the relay's trace and the profile.
func (s *Session) fail(err error) (*Session, error) {
	s.stop()
	if s.server != nil {
		err = withTrace(err, s.server.trace())
	}
	return nil, withProfile(err, s.Profile)
}

// stop ends the session on the harness side: the relay's conns close, the
// carrier returns, and the link forgets the session.
func (s *Session) stop() {
	s.stopOnce.Do(func() {
		s.closeRelay()
		if s.cancel != nil {
			s.cancel()
		}
		if s.carried != nil {
			<-s.carried
		}
		s.b.exec(func(l *link) error { l.detach(s.state); return nil })
		s.finish("")
	})
}

// closeRelay closes both sides of the relay, which ends the carrier's tap.
func (s *Session) closeRelay() {
	if s.relay != nil {
		s.relay.Close()
		s.server.Close()
	}
}

// finish ends the session with reason r ("" for an orderly end); the
// first call counts.
func (s *Session) finish(r handshake.Reason) {
	s.doneOnce.Do(func() {
		s.mu.Lock()
		s.reason = r
		s.mu.Unlock()
		close(s.done)
	})
}

// deliver queues a MESSAGE payload for Receive.
func (s *Session) deliver(p []byte) {
	s.mu.Lock()
	s.msgs = append(s.msgs, append([]byte(nil), p...))
	s.mu.Unlock()
	select {
	case s.msgCh <- struct{}{}:
	default:
	}
}

// Send has the board send p through the session (SEND commands of at most
// the board's payload limit each).
func (s *Session) Send(ctx context.Context, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), s.b.MaxPayload())
		st, _, err := s.b.do(ctx, bp.CmdSend, p[:n], s.b.opts.ResponseTimeout)
		if err != nil {
			return withProfile(err, s.Profile)
		}
		if err := st.Err(); err != nil {
			return withProfile(err, s.Profile)
		}
		p = p[n:]
	}
	return nil
}

// Receive returns the next application message the board received (one
// MESSAGE event). It returns io.EOF after an orderly close, and a
// *handshake.Error when the session failed.
func (s *Session) Receive(ctx context.Context) ([]byte, error) {
	for {
		if m, ok := s.next(); ok {
			return m, nil
		}
		select {
		case <-s.msgCh:
		case <-s.done:
			if m, ok := s.next(); ok {
				return m, nil
			}
			s.mu.Lock()
			r := s.reason
			s.mu.Unlock()
			if r == "" {
				return nil, io.EOF
			}
			return nil, &handshake.Error{Profile: s.Profile, Stage: handshake.StageTransport, Reason: r,
				Err: errors.New("harness: the session ended")}
		case <-ctx.Done():
			return nil, withProfile(ctxErr(ctx, handshake.StageTransport), s.Profile)
		}
	}
}

// next takes the oldest message from the mailbox.
func (s *Session) next() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) == 0 {
		return nil, false
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, true
}

// Done is closed when the session is over.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close ends the session: CLOSE to the board, then the relay stops.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		select {
		case <-s.done:
		default:
			ctx, cancel := context.WithTimeout(s.b.life, s.b.allowance()+s.b.opts.ResponseTimeout)
			st, _, derr := s.b.do(ctx, bp.CmdClose, nil, s.b.opts.ResponseTimeout)
			if derr == nil && st == bp.StatusOK {
				select {
				case <-s.done:
				case <-ctx.Done():
				}
			}
			cancel()
			if derr != nil {
				err = withProfile(derr, s.Profile)
			}
		}
		s.stop()
	})
	return err
}

// withProfile names the profile in err when the error does not yet. A
// *handshake.Error on top is copied: the link hands the same error (why it
// stopped) to every caller.
func withProfile(err error, p handshake.Name) error {
	if he, ok := err.(*handshake.Error); ok {
		if he.Profile != "" {
			return err
		}
		cp := *he
		cp.Profile = p
		return &cp
	}
	var he *handshake.Error
	if errors.As(err, &he) && he.Profile == "" {
		he.Profile = p
	}
	return err
}
