package tlsprofile_test

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// bufPipe is net.Pipe with unbounded buffers: a Write never waits for the
// peer's Read, as over TCP, so a side that stops reading mid-flight (a
// device rejecting the certificate) cannot block the other side's flight.
// Reads honour deadlines; Close ends both directions.
func bufPipe() (net.Conn, net.Conn) {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	ab, ba := &half{}, &half{}
	a := &bufConn{mu: &mu, cond: cond, r: ba, w: ab}
	b := &bufConn{mu: &mu, cond: cond, r: ab, w: ba}
	return a, b
}

// half is one direction of a bufPipe.
type half struct {
	buf    []byte
	closed bool // the writer closed: reads drain the buffer, then EOF
}

type bufConn struct {
	mu       *sync.Mutex // shared by both ends
	cond     *sync.Cond
	r, w     *half
	closed   bool
	deadline time.Time
	timer    *time.Timer
}

func (c *bufConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return 0, io.ErrClosedPipe
		case len(c.r.buf) > 0:
			n := copy(p, c.r.buf)
			c.r.buf = c.r.buf[n:]
			return n, nil
		case c.r.closed:
			return 0, io.EOF
		case !c.deadline.IsZero() && !time.Now().Before(c.deadline):
			return 0, os.ErrDeadlineExceeded
		}
		c.cond.Wait()
	}
}

func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.w.closed {
		return 0, io.ErrClosedPipe
	}
	c.w.buf = append(c.w.buf, p...)
	c.cond.Broadcast()
	return len(p), nil
}

func (c *bufConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.w.closed = true, true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.cond.Broadcast()
	return nil
}

func (c *bufConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *bufConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if !t.IsZero() {
		c.timer = time.AfterFunc(time.Until(t), func() {
			c.mu.Lock()
			c.cond.Broadcast()
			c.mu.Unlock()
		})
	}
	c.cond.Broadcast()
	return nil
}

func (c *bufConn) SetWriteDeadline(time.Time) error { return nil } // writes never wait
func (c *bufConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *bufConn) RemoteAddr() net.Addr             { return memAddr{} }
