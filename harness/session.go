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
	// in the middle of it (reason boardproto.ReasonBoardReset): 1 when zero.
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

	server net.Conn    // relay mode
	trace  *tracedConn // relay mode: server, counted
	relay  *relay      // relay mode
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	msgs     [][]byte
	msgCh    chan struct{}
	done     chan struct{} // closed when the board ended the session
	doneOnce sync.Once
	reason   handshake.Reason
	carryErr error

	stopOnce  sync.Once
	closeOnce sync.Once

	addr     string // the server's host:port, as given
	connOnce sync.Once
	conn     *sessionConn // see Conn
}

type hsOutcome struct {
	done bp.HandshakeDone
	err  error
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
		if handshake.ReasonOf(err) != bp.ReasonBoardReset || attempt >= opts.Attempts {
			return nil, err
		}
		if _, err := b.Hello(ctx); err != nil {
			return nil, err
		}
	}
}

func (b *Board) handshakeOnce(ctx context.Context, o HandshakeOptions) (*Session, error) {
	s := &Session{b: b, Profile: o.Profile, Mode: o.Mode, msgCh: make(chan struct{}, 1), done: make(chan struct{}),
		addr: o.Server}
	profileErr := func(err error) error {
		var he *handshake.Error
		if errors.As(err, &he) && he.Profile == "" {
			he.Profile = o.Profile
		}
		return err
	}
	hsWait := make(chan hsOutcome, 1)
	b.mu.Lock()
	if old := b.session; old != nil {
		select {
		case <-old.done: // the board ended it; the caller did not Close it
			b.mu.Unlock()
			old.stop()
			b.mu.Lock()
		default:
		}
	}
	if b.session != nil {
		b.mu.Unlock()
		return nil, &handshake.Error{Profile: o.Profile, Stage: bp.StageCommand, Reason: bp.StatusBusy.Reason(),
			Err: errors.New("harness: a session is already open on this board")}
	}
	b.session, b.hsWait = s, hsWait
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.hsWait = nil
		b.mu.Unlock()
	}()
	fail := func(err error) (*Session, error) {
		s.stop()
		if s.trace != nil {
			err = withTrace(err, s.trace.trace())
		}
		return nil, profileErr(err)
	}

	req := bp.HandshakeRequest{Mode: o.Mode, Profile: o.Profile, Timeout: o.Timeout}
	switch o.Mode {
	case bp.ModeRelay:
		if err := s.startRelay(ctx, o); err != nil {
			return fail(err)
		}
	case bp.ModeNetwork:
		host, port, err := net.SplitHostPort(o.Server)
		n, perr := strconv.ParseUint(port, 10, 16)
		if err != nil || perr != nil || host == "" || len(host) > bp.HostMax || n == 0 {
			return fail(&handshake.Error{Stage: handshake.StageDial, Reason: handshake.ReasonMalformed,
				Err: errors.New("harness: server must be host:port with a host of 1-64 characters")})
		}
		req.Host, req.Port = host, uint16(n)
	default:
		return fail(&handshake.Error{Stage: bp.StageCommand, Reason: handshake.ReasonMalformed,
			Err: errors.New("harness: unknown handshake mode")})
	}
	if _, err := b.query(ctx, bp.CmdHandshake, req.Append(nil), b.opts.ResponseTimeout); err != nil {
		return fail(err)
	}
	if o.Mode == bp.ModeRelay {
		s.beginCarry(o.Tap)
	}
	// The board enforces o.Timeout; the harness allows for the link on top.
	timer := time.NewTimer(o.Timeout + b.opts.ResponseTimeout*time.Duration(b.opts.Retries+1))
	defer timer.Stop()
	select {
	case out := <-hsWait:
		if out.err != nil {
			return fail(out.err)
		}
		if err := out.done.Err(); err != nil {
			if s.relay != nil {
				s.relay.awaitBoardEnd(ctx, b.opts.ResponseTimeout*time.Duration(b.opts.Retries+1))
			}
			return fail(err)
		}
		s.Result = out.done
		return s, nil
	case <-ctx.Done():
		return fail(ctxErr(ctx, bp.StageRelay))
	case <-timer.C:
		return fail(&handshake.Error{Stage: bp.StageRelay, Reason: handshake.ReasonTimeout,
			Err: errors.New("harness: no HANDSHAKE_DONE from the board")})
	case <-b.closed:
		return fail(closedErr())
	}
}

// startRelay connects to the server and starts carrying bytes through the tap.
func (s *Session) startRelay(ctx context.Context, o HandshakeOptions) error {
	dial := o.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	server, err := dial(ctx, "tcp", o.Server)
	if err != nil {
		return &handshake.Error{Stage: handshake.StageDial, Reason: handshake.ReasonIO,
			Err: fmt.Errorf("harness: connecting to the server: %w", err)}
	}
	r := newRelay(s.b, server.RemoteAddr())
	s.trace = &tracedConn{Conn: server}
	s.server, s.relay = s.trace, r
	s.b.mu.Lock()
	s.b.relay = r
	s.b.mu.Unlock()
	return nil
}

// beginCarry starts carrying relay bytes once the board has accepted the
// handshake command: a tap that ends at once then reaches a board that is in
// the handshake, instead of one that ignores a relay close it did not expect.
// Until then, relay bytes from the board wait in the relay conn.
func (s *Session) beginCarry(tap Tap) {
	carryCtx, cancel := context.WithCancel(s.b.life)
	s.cancel = cancel
	s.wg.Add(1)
	go s.carry(carryCtx, tap)
}

// carry runs the tap for the life of the relay, then tells the board the
// relay is over unless the board ended it.
func (s *Session) carry(ctx context.Context, tap Tap) {
	defer s.wg.Done()
	err := tap.Carry(ctx, s.relay.conn, s.server)
	s.relay.conn.Close()
	s.server.Close()
	s.mu.Lock()
	s.carryErr = err
	s.mu.Unlock()
	if !s.relay.isBoardDone() {
		reason := handshake.Reason("")
		if err != nil {
			reason = handshake.ReasonIO
		}
		rctx, cancel := context.WithTimeout(s.b.life, s.b.opts.ResponseTimeout*time.Duration(s.b.opts.Retries+1))
		s.b.do(rctx, bp.CmdRelayClose, bp.AppendReason(nil, reason), s.b.opts.ResponseTimeout)
		cancel()
	}
	s.relay.end(err)
}

// stop ends the session on the harness side: the relay stops, the server
// connection closes, and the board forgets the session.
func (s *Session) stop() {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		if s.relay != nil {
			s.relay.conn.Close()
			s.server.Close()
		}
		s.wg.Wait()
		s.b.mu.Lock()
		if s.b.session == s {
			s.b.session = nil
		}
		if s.relay != nil && s.b.relay == s.relay {
			s.b.relay = nil
		}
		s.b.mu.Unlock()
		s.finish("")
	})
}

func (s *Session) finish(r handshake.Reason) {
	s.doneOnce.Do(func() {
		s.mu.Lock()
		s.reason = r
		s.mu.Unlock()
		close(s.done)
	})
}

// deliver and boardClosed run under Board.mu in the reader goroutine.
func (s *Session) deliver(p []byte) {
	s.mu.Lock()
	s.msgs = append(s.msgs, append([]byte(nil), p...))
	s.mu.Unlock()
	select {
	case s.msgCh <- struct{}{}:
	default:
	}
}

func (s *Session) boardClosed(r handshake.Reason) { s.finish(r) }

// Send has the board send p through the session (SEND commands of at most
// the board's payload limit each).
func (s *Session) Send(ctx context.Context, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), s.b.MaxPayload())
		st, _, err := s.b.do(ctx, bp.CmdSend, p[:n], s.b.opts.ResponseTimeout)
		if err != nil {
			return s.profileErr(err)
		}
		if err := st.Err(); err != nil {
			return s.profileErr(err)
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
		s.mu.Lock()
		if len(s.msgs) > 0 {
			m := s.msgs[0]
			s.msgs = s.msgs[1:]
			s.mu.Unlock()
			return m, nil
		}
		s.mu.Unlock()
		select {
		case <-s.msgCh:
			continue
		default:
		}
		select {
		case <-s.msgCh:
		case <-s.done:
			s.mu.Lock()
			r, pending := s.reason, len(s.msgs)
			s.mu.Unlock()
			if pending > 0 {
				continue
			}
			if r == "" {
				return nil, io.EOF
			}
			return nil, &handshake.Error{Profile: s.Profile, Stage: handshake.StageTransport, Reason: r,
				Err: errors.New("harness: the session ended")}
		case <-ctx.Done():
			return nil, s.profileErr(ctxErr(ctx, handshake.StageTransport))
		}
	}
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
			ctx, cancel := context.WithTimeout(s.b.life, s.b.opts.ResponseTimeout*time.Duration(s.b.opts.Retries+2))
			st, _, derr := s.b.do(ctx, bp.CmdClose, nil, s.b.opts.ResponseTimeout)
			if derr == nil && st == bp.StatusOK {
				select {
				case <-s.done:
				case <-ctx.Done():
				}
			}
			cancel()
			if derr != nil {
				err = s.profileErr(derr)
			}
		}
		s.stop()
	})
	return err
}

func (s *Session) profileErr(err error) error {
	var he *handshake.Error
	if errors.As(err, &he) && he.Profile == "" {
		he.Profile = s.Profile
	}
	return err
}
