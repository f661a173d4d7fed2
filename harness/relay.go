package harness

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

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

// relay is the harness side of a relay: the board's side as a net.Conn,
// and the credit the board granted.
type relay struct {
	b    *Board
	conn *bp.RelayConn

	mu        sync.Mutex
	credit    int
	creditCh  chan struct{}
	boardDone bool          // the board ended the relay (CLOSED or BOOT)
	boardEnd  chan struct{} // closed when boardDone becomes true
	ended     chan struct{}
	endErr    error
	endOnce   sync.Once
}

func newRelay(b *Board, server net.Addr) *relay {
	r := &relay{b: b, creditCh: make(chan struct{}, 1), ended: make(chan struct{}), boardEnd: make(chan struct{})}
	r.conn = bp.NewRelayConn(bp.RelayConfig{Send: r.send,
		Local: bp.RelayAddr("harness"), Remote: bp.RelayAddr("board " + b.PortName() + " for " + server.String())})
	return r
}

// The methods below run in the reader goroutine under Board.mu: they must
// not block.

func (r *relay) fromBoard(p []byte) { r.conn.Deliver(p) }

func (r *relay) grant(n int) {
	r.mu.Lock()
	r.credit += n
	r.mu.Unlock()
	select {
	case r.creditCh <- struct{}{}:
	default:
	}
}

func (r *relay) boardClosed(reason handshake.Reason) {
	r.mu.Lock()
	r.setBoardDone()
	r.mu.Unlock()
	var err error
	if reason != "" {
		err = &handshake.Error{Stage: bp.StageRelay, Reason: reason, Err: errors.New("harness: the board closed the relay")}
	}
	r.end(err)
}

func (r *relay) end(err error) {
	r.endOnce.Do(func() {
		r.mu.Lock()
		r.endErr = err
		if handshake.ReasonOf(err) == bp.ReasonBoardReset {
			r.setBoardDone()
		}
		r.mu.Unlock()
		close(r.ended)
		r.conn.CloseRead(err)
	})
}

// setBoardDone marks the relay ended by the board; r.mu is held.
func (r *relay) setBoardDone() {
	if !r.boardDone {
		r.boardDone = true
		close(r.boardEnd)
	}
}

// awaitBoardEnd waits up to d for the board to end the relay: after a
// failed handshake its CLOSED event follows HANDSHAKE_DONE
// (docs/board-protocol.md §5.5), and a CLOSED that arrived only after the
// next handshake began would end that one's relay instead.
func (r *relay) awaitBoardEnd(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.boardEnd:
	case <-t.C:
	case <-ctx.Done():
	}
}

func (r *relay) isBoardDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.boardDone
}

// send carries bytes from the server to the board in RELAY_DATA commands,
// never beyond the credit granted.
func (r *relay) send(ctx context.Context, p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n, err := r.take(ctx, min(len(p), r.b.MaxPayload()))
		if err != nil {
			return written, err
		}
		st, _, err := r.b.do(ctx, bp.CmdRelayData, p[:n], r.b.opts.ResponseTimeout)
		if err != nil {
			return written, err
		}
		if err := st.Err(); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// take waits for credit and reserves up to want bytes of it.
func (r *relay) take(ctx context.Context, want int) (int, error) {
	for {
		r.mu.Lock()
		if r.credit > 0 {
			n := min(want, r.credit)
			r.credit -= n
			r.mu.Unlock()
			return n, nil
		}
		r.mu.Unlock()
		select {
		case <-r.creditCh:
		case <-r.ended:
			r.mu.Lock()
			err := r.endErr
			r.mu.Unlock()
			if err == nil {
				err = net.ErrClosed
			}
			return 0, err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
