package harness

import (
	"context"
	"errors"
	"io"
	"net"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// Direction is the way bytes travel through a relay.
type Direction int

const (
	BoardToServer Direction = iota
	ServerToBoard
)

func (d Direction) String() string {
	if d == BoardToServer {
		return "board->server"
	}
	return "server->board"
}

// A Tap sits on the byte path of a relay-mode handshake and the session
// after it. Carry moves bytes between the board's side (a net.Conn whose
// bytes travel in RELAY_DATA frames) and the server's side (the TCP
// connection the harness opened) until either ends or ctx is done; it may
// drop, alter, delay or inject bytes. Carry owns both conns and closes them
// when it returns. A MITM proxy is a Tap.
type Tap interface {
	Carry(ctx context.Context, board, server net.Conn) error
}

// TapFunc adapts a function to a Tap.
type TapFunc func(ctx context.Context, board, server net.Conn) error

func (f TapFunc) Carry(ctx context.Context, board, server net.Conn) error {
	return f(ctx, board, server)
}

// ChunkTap is a Tap that copies both ways and passes every chunk read
// through the function first: it returns what to forward, which may be the
// chunk unchanged, altered, empty (dropped) or longer (injected bytes).
// A nil ChunkTap copies unchanged.
type ChunkTap func(dir Direction, chunk []byte) []byte

// Carry copies both ways until one direction ends, then closes both conns.
func (f ChunkTap) Carry(ctx context.Context, board, server net.Conn) error {
	errc := make(chan error, 2)
	copyDir := func(dir Direction, dst, src net.Conn) {
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				out := buf[:n]
				if f != nil {
					out = f(dir, out)
				}
				if len(out) > 0 {
					if _, werr := dst.Write(out); werr != nil {
						errc <- werr
						return
					}
				}
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}
	go copyDir(BoardToServer, server, board)
	go copyDir(ServerToBoard, board, server)
	var first error
	pending := 2
	select {
	case first = <-errc:
		pending--
	case <-ctx.Done():
		first = ctx.Err()
	}
	board.Close()
	server.Close()
	for ; pending > 0; pending-- {
		<-errc
	}
	if errors.Is(first, io.EOF) || errors.Is(first, net.ErrClosed) {
		return nil
	}
	return first
}

// Pipe is the Tap that copies both ways unchanged.
var Pipe Tap = ChunkTap(nil)

// relayWrite is bytes from the server on their way to the board: the link
// goroutine sends them in RELAY_DATA commands of at most the board's
// payload limit, never beyond the credit the board granted
// (docs/board-protocol.md §5.6), and calls done once.
type relayWrite struct {
	p    []byte
	n    int // bytes the board has stored
	done func(relayResult)
}

type relayResult struct {
	n   int
	err error
}

// relaySend is the RelayConn's Send: it hands p to the link goroutine and
// waits until the board has stored it, the relay ended, or ctx is done.
func (s *Session) relaySend(ctx context.Context, p []byte) (int, error) {
	reply := make(chan relayResult, 1)
	w := &relayWrite{p: p, done: replier(reply)}
	r, err := call(s.b, ctx, bp.StageRelay, func(l *link) { l.relayWrite(s.state, w) },
		func(l *link, err error) { l.cancelRelayWrite(s.state, w, err) }, reply)
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}

// beginCarry has the link goroutine start the carrier: the tap between
// the relay's two sides, for the life of the relay.
func (s *Session) beginCarry(tap Tap) {
	ctx, cancel := context.WithCancel(s.b.life)
	carried := make(chan struct{})
	start := func(l *link) {
		l.carriers[s.state] = true
		l.b.wg.Add(1)
		go s.carry(ctx, tap, carried)
	}
	if s.b.post(start) != nil {
		cancel()
		return
	}
	s.cancel, s.carried = cancel, carried
}

// carry runs the tap, then reports to the link goroutine how it ended.
func (s *Session) carry(ctx context.Context, tap Tap, carried chan<- struct{}) {
	defer s.b.wg.Done()
	defer close(carried)
	err := tap.Carry(ctx, s.relay, s.server)
	s.closeRelay()
	s.b.post(func(l *link) { l.carryEnded(s.state, err) })
}

// carryEnded runs when the tap returned: unless the board ended the relay,
// the host tells it with RELAY_CLOSE (docs/board-protocol.md §5.6).
func (l *link) carryEnded(st *sessionState, err error) {
	delete(l.carriers, st)
	if !st.boardDone && l.err == nil {
		reason := handshake.ReasonNone
		if err != nil {
			reason = handshake.ReasonIO
		}
		l.submit(&command{frame: bp.Frame{Type: bp.CmdRelayClose, Payload: bp.AppendReason(nil, reason)},
			timeout: l.b.opts.ResponseTimeout, done: func(cmdResult) {}})
	}
	l.endRelay(st, err)
}

// grant adds credit the board granted (RELAY_CREDIT).
func (l *link) grant(st *sessionState, n int) {
	if st.conn == nil || st.relayEnded {
		return
	}
	st.credit += n
	l.feedRelay(st)
}

func (l *link) relayWrite(st *sessionState, w *relayWrite) {
	if st.relayEnded {
		w.done(relayResult{err: orClosed(st.endErr)})
		return
	}
	st.writes = append(st.writes, w)
	l.feedRelay(st)
}

// feedRelay sends the next RELAY_DATA when none is on its way and the
// board has credit for it.
func (l *link) feedRelay(st *sessionState) {
	if st.relayEnded || st.chunk != nil || len(st.writes) == 0 || st.credit == 0 {
		return
	}
	w := st.writes[0]
	n := min(len(w.p)-w.n, st.credit, l.payloadLimit())
	st.credit -= n
	c := &command{frame: bp.Frame{Type: bp.CmdRelayData, Payload: w.p[w.n : w.n+n]}, timeout: l.b.opts.ResponseTimeout}
	c.done = func(r cmdResult) { l.chunkDone(st, w, n, r) }
	st.chunk, st.chunkFor = c, w
	l.submit(c)
}

// chunkDone takes the outcome of a RELAY_DATA command.
func (l *link) chunkDone(st *sessionState, w *relayWrite, n int, r cmdResult) {
	st.chunk, st.chunkFor = nil, nil
	err := r.err
	if err == nil {
		err = r.status.Err()
	}
	if err == nil {
		w.n += n
	}
	if err != nil || w.n == len(w.p) {
		st.dropWrite(w)
		w.done(relayResult{n: w.n, err: err})
	}
	l.feedRelay(st)
}

// cancelRelayWrite ends w early with err: the RELAY_DATA carrying it is
// abandoned, the bytes the board stored before it count.
func (l *link) cancelRelayWrite(st *sessionState, w *relayWrite, err error) {
	if st.chunkFor == w {
		l.cancel(st.chunk, err)
		return
	}
	if st.dropWrite(w) {
		w.done(relayResult{n: w.n, err: err})
	}
}

// endRelay ends st's relay with err (nil: an orderly end): the board's
// side reads err after what it holds, and the server's bytes still on
// their way fail.
func (l *link) endRelay(st *sessionState, err error) {
	if st.conn == nil || st.relayEnded {
		return
	}
	st.relayEnded, st.endErr, st.credit = true, err, 0
	st.conn.CloseRead(err)
	if st.chunk != nil {
		l.cancel(st.chunk, orClosed(err))
	}
	for _, w := range st.writes {
		w.done(relayResult{n: w.n, err: orClosed(err)})
	}
	st.writes = nil
}

func (st *sessionState) dropWrite(w *relayWrite) bool {
	for i, q := range st.writes {
		if q == w {
			st.writes = append(st.writes[:i], st.writes[i+1:]...)
			return true
		}
	}
	return false
}

func orClosed(err error) error {
	if err == nil {
		return net.ErrClosed
	}
	return err
}
