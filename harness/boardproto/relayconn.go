package boardproto

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// RelayConfig configures a RelayConn.
type RelayConfig struct {
	// Send carries p to the other end (RELAY_DATA frames). It returns when
	// the bytes are on their way or ctx is done, which happens when the
	// write deadline passes or the conn is closed.
	Send func(ctx context.Context, p []byte) (int, error)
	// Want, when set, is called each time a Read finds no buffered bytes,
	// before it waits: the board side grants relay credit there.
	Want func()
	// Closed, when set, is called once, by the first Close.
	Closed func()
	// Local and Remote are the addresses the conn reports.
	Local, Remote net.Addr
}

// RelayConn is a net.Conn whose bytes travel inside board-protocol frames.
// Bytes from the other end arrive through Deliver; Write hands bytes to the
// configured Send. Deadlines apply to pending calls as net.Conn requires.
type RelayConn struct {
	cfg RelayConfig

	mu     sync.Mutex
	buf    []byte
	rerr   error // returned once buf is drained (the other end closed)
	notify chan struct{}

	closeOnce sync.Once
	done      chan struct{}
	rdl, wdl  deadline
}

// RelayAddr is the address of either end of a relay.
type RelayAddr string

func (a RelayAddr) Network() string { return "board-relay" }
func (a RelayAddr) String() string  { return string(a) }

// NewRelayConn returns a conn configured by cfg.
func NewRelayConn(cfg RelayConfig) *RelayConn {
	if cfg.Local == nil {
		cfg.Local = RelayAddr("local")
	}
	if cfg.Remote == nil {
		cfg.Remote = RelayAddr("remote")
	}
	return &RelayConn{cfg: cfg, notify: make(chan struct{}, 1), done: make(chan struct{})}
}

// Deliver appends bytes received from the other end.
func (c *RelayConn) Deliver(p []byte) {
	c.mu.Lock()
	c.buf = append(c.buf, p...)
	c.mu.Unlock()
	c.wake()
}

// CloseRead records that the other end will send no more: Read returns err
// (io.EOF when nil) once the buffered bytes are read.
func (c *RelayConn) CloseRead(err error) {
	if err == nil {
		err = io.EOF
	}
	c.mu.Lock()
	if c.rerr == nil {
		c.rerr = err
	}
	c.mu.Unlock()
	c.wake()
}

// Buffered returns the number of received bytes not yet read.
func (c *RelayConn) Buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}

// Done is closed when the conn is closed.
func (c *RelayConn) Done() <-chan struct{} { return c.done }

func (c *RelayConn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Read reads buffered bytes, waiting for some when there are none.
func (c *RelayConn) Read(p []byte) (int, error) {
	for {
		select {
		case <-c.done:
			return 0, net.ErrClosed
		default:
		}
		c.mu.Lock()
		if len(c.buf) > 0 {
			n := copy(p, c.buf)
			c.buf = c.buf[n:]
			if len(c.buf) == 0 {
				c.buf = nil
			}
			c.mu.Unlock()
			return n, nil
		}
		rerr := c.rerr
		c.mu.Unlock()
		if rerr != nil {
			return 0, rerr
		}
		wake, expired := c.rdl.state()
		if expired {
			return 0, os.ErrDeadlineExceeded
		}
		if c.cfg.Want != nil {
			c.cfg.Want()
		}
		select {
		case <-c.notify:
		case <-wake:
		case <-c.done:
		}
	}
}

// Write hands p to Send, bounded by the write deadline.
func (c *RelayConn) Write(p []byte) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	if _, expired := c.wdl.state(); expired {
		return 0, os.ErrDeadlineExceeded
	}
	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		for {
			wake, expired := c.wdl.state()
			if expired {
				cancel()
				return
			}
			select {
			case <-wake:
			case <-c.done:
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	n, err := c.cfg.Send(ctx, p)
	cancel()
	<-watching
	if err != nil && ctx.Err() != nil {
		select {
		case <-c.done:
			err = net.ErrClosed
		default:
			if _, expired := c.wdl.state(); expired {
				err = os.ErrDeadlineExceeded
			}
		}
	}
	return n, err
}

// Close closes the conn; pending Reads and Writes return net.ErrClosed.
func (c *RelayConn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.done)
		c.rdl.set(time.Time{})
		c.wdl.set(time.Time{})
	})
	if first && c.cfg.Closed != nil {
		c.cfg.Closed()
	}
	return nil
}

func (c *RelayConn) LocalAddr() net.Addr  { return c.cfg.Local }
func (c *RelayConn) RemoteAddr() net.Addr { return c.cfg.Remote }

func (c *RelayConn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

func (c *RelayConn) SetReadDeadline(t time.Time) error  { c.rdl.set(t); return nil }
func (c *RelayConn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

// deadline is one direction's deadline. Waiters take the wake channel from
// state, wait on it, and call state again when it closes: it closes when the
// deadline passes and also whenever the deadline changes.
type deadline struct {
	mu    sync.Mutex
	at    time.Time
	timer *time.Timer
	wake  chan struct{}
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.at = t
	d.signal()
	if dur := time.Until(t); !t.IsZero() && dur > 0 {
		d.timer = time.AfterFunc(dur, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.signal()
		})
	}
}

// signal wakes the current waiters; the caller holds mu.
func (d *deadline) signal() {
	if d.wake != nil {
		close(d.wake)
		d.wake = nil
	}
}

func (d *deadline) state() (wake <-chan struct{}, expired bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.at.IsZero() && !time.Now().Before(d.at) {
		return nil, true
	}
	if d.wake == nil {
		d.wake = make(chan struct{})
	}
	return d.wake, false
}
