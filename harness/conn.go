package harness

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Conn returns the session as a net.Conn, so that a protocol such as MQTT
// runs over the board's session unchanged (for paho, return it from
// SetCustomOpenConnectionFn). Write has the board send the bytes (SEND
// commands of at most the board's payload limit each); Read returns the
// bytes of the MESSAGE events in order, a message split across Reads when
// the buffer is short. Read and Write honour deadlines as net.Conn requires,
// pending calls included; Close closes the session.
//
// Every call returns the same conn. Do not mix its Read with Receive: both
// take the session's messages.
func (s *Session) Conn() net.Conn {
	s.connOnce.Do(func() {
		s.conn = &sessionConn{s: s,
			local: sessionAddr("board on " + s.b.PortName()), remote: sessionAddr(s.addr)}
	})
	return s.conn
}

// sessionConn is the net.Conn of Session.Conn.
type sessionConn struct {
	s             *Session
	local, remote sessionAddr

	rmu  sync.Mutex // one Read at a time; guards rest
	rest []byte     // the part of the last message not yet read
	wmu  sync.Mutex // one Write at a time, so writes do not interleave

	rd, wd    deadline
	closed    atomic.Bool
	closeOnce sync.Once
}

func (c *sessionConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	for len(c.rest) == 0 {
		if c.closed.Load() {
			return 0, net.ErrClosed
		}
		ctx := c.rd.context()
		if ctx.Err() != nil {
			return 0, os.ErrDeadlineExceeded
		}
		m, err := c.s.Receive(ctx)
		if err != nil {
			return 0, c.ioErr(ctx, err)
		}
		c.rest = m
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

func (c *sessionConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	written := 0
	for written < len(p) {
		if c.closed.Load() {
			return written, net.ErrClosed
		}
		ctx := c.wd.context()
		if ctx.Err() != nil {
			return written, os.ErrDeadlineExceeded
		}
		n := min(len(p)-written, c.s.b.MaxPayload())
		if err := c.s.Send(ctx, p[written:written+n]); err != nil {
			return written, c.ioErr(ctx, err)
		}
		written += n
	}
	return written, nil
}

// ioErr maps a failed Send or Receive under ctx to net.Conn's errors:
// net.ErrClosed after Close, os.ErrDeadlineExceeded when the deadline
// passed, io.EOF after an orderly end; else the session's typed error.
func (c *sessionConn) ioErr(ctx context.Context, err error) error {
	switch {
	case c.closed.Load():
		return net.ErrClosed
	case errors.Is(err, io.EOF):
		return io.EOF
	case ctx.Err() != nil:
		select {
		case <-c.s.done:
			return err
		default:
			return os.ErrDeadlineExceeded
		}
	}
	return err
}

// Close closes the session; pending Reads and Writes return net.ErrClosed.
func (c *sessionConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.rd.close()
		c.wd.close()
		err = c.s.Close()
	})
	return err
}

func (c *sessionConn) LocalAddr() net.Addr  { return c.local }
func (c *sessionConn) RemoteAddr() net.Addr { return c.remote }

func (c *sessionConn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

func (c *sessionConn) SetReadDeadline(t time.Time) error  { c.rd.set(t); return nil }
func (c *sessionConn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// sessionAddr is either end of a session seen through Conn: the board's
// port, or the server's host:port.
type sessionAddr string

func (a sessionAddr) Network() string { return "board-session" }
func (a sessionAddr) String() string  { return string(a) }

// deadline is one direction's deadline as a context, done when the
// deadline passes or the conn closes. A new deadline keeps the context
// unless it is already done (or about to be), so pending calls follow it.
type deadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	closed bool
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	fired := false
	if d.timer != nil {
		fired = !d.timer.Stop() // its cancel has run or is about to
		d.timer = nil
	}
	if d.ctx == nil || fired || d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	switch {
	case t.IsZero():
	case !time.Now().Before(t):
		d.cancel()
	default:
		d.timer = time.AfterFunc(time.Until(t), d.cancel)
	}
}

func (d *deadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
		if d.closed {
			d.cancel()
		}
	}
	return d.ctx
}

func (d *deadline) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.cancel != nil {
		d.cancel()
	}
}
