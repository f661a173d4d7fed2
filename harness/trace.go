package harness

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"shakedown/handshake"
)

// RelayTrace is what the harness saw of the server during a relay-mode
// handshake: the bytes it carried each way and whether the server closed
// its side. The reference server answers a refused handshake with nothing
// (it never tells an attacker why); a board that then reports "io" at
// message 2 was refused by the server, and the trace says so.
type RelayTrace struct {
	ToServer     int64 // bytes carried from the board to the server
	FromServer   int64 // bytes carried from the server to the board
	ServerClosed bool  // the server closed the connection (EOF or reset)
}

// String describes the trace for a person, e.g. "the board sent 106 bytes;
// the server closed the connection without answering".
func (t RelayTrace) String() string {
	s := fmt.Sprintf("the board sent %d bytes", t.ToServer)
	switch {
	case t.FromServer == 0 && t.ServerClosed:
		s += "; the server closed the connection without answering"
	case t.FromServer == 0:
		s += "; the server sent nothing"
	case t.ServerClosed:
		s += fmt.Sprintf("; the server answered %d bytes, then closed the connection", t.FromServer)
	default:
		s += fmt.Sprintf("; the server answered %d bytes", t.FromServer)
	}
	return s
}

// TraceError adds the relay's trace to the board's report of a failed
// relay-mode handshake. It is the Err of the *handshake.Error that
// Board.Handshake returns, so the board's reason code stays on top.
type TraceError struct {
	Err   error // the board's report
	Trace RelayTrace
}

func (e *TraceError) Error() string {
	if e.Err == nil {
		return e.Trace.String()
	}
	return e.Err.Error() + "; " + e.Trace.String()
}
func (e *TraceError) Unwrap() error { return e.Err }

// RelayTraceOf returns the relay trace err carries, if any.
func RelayTraceOf(err error) (RelayTrace, bool) {
	var te *TraceError
	if errors.As(err, &te) {
		return te.Trace, true
	}
	return RelayTrace{}, false
}

// tracedConn is the server side of a relay as a tap sees it, counting the
// bytes each way and noting the server's close.
type tracedConn struct {
	net.Conn
	toServer, fromServer atomic.Int64
	closedByServer       atomic.Bool
	closedHere           atomic.Bool
}

func (c *tracedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.fromServer.Add(int64(n))
	if err != nil && !c.closedHere.Load() && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
		c.closedByServer.Store(true) // EOF or a reset: the server ended the connection
	}
	return n, err
}

func (c *tracedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.toServer.Add(int64(n))
	return n, err
}

func (c *tracedConn) Close() error {
	c.closedHere.Store(true)
	return c.Conn.Close()
}

func (c *tracedConn) trace() RelayTrace {
	return RelayTrace{ToServer: c.toServer.Load(), FromServer: c.fromServer.Load(), ServerClosed: c.closedByServer.Load()}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// withTrace puts the relay's trace under the board's report in err,
// leaving err itself unchanged (it may be the board's lasting error).
func withTrace(err error, t RelayTrace) error {
	if he, ok := err.(*handshake.Error); ok {
		cp := *he
		cp.Err = &TraceError{Err: he.Err, Trace: t}
		return &cp
	}
	return &TraceError{Err: err, Trace: t}
}
