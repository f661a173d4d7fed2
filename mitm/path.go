package mitm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"shakedown/handshake"
)

// Listener names one of the server's listeners: one per profile, and the
// tls listeners whose certificate was renewed (same key) or rolled over
// (new key).
type Listener string

const (
	ListenNoise      Listener = "noise"
	ListenSeed       Listener = "seed"
	ListenPSK        Listener = "psk"
	ListenTLS        Listener = "tls"
	ListenTLSRenewed Listener = "tls-renewed"
	ListenTLSRolled  Listener = "tls-rolled"
)

// Listeners lists every listener a lab target serves.
var Listeners = []Listener{ListenNoise, ListenSeed, ListenPSK, ListenTLS, ListenTLSRenewed, ListenTLSRolled}

// ListenerOf returns the listener of profile p.
func ListenerOf(p handshake.Name) Listener { return Listener(p) }

// A Path is one connection of the device under test, cut open by the
// attacker: Device is the attacker's end towards the device; Server opens
// (once) the connection the device meant to make, to the server; Dial opens
// further connections to any listener. Scenarios drive Paths only, so they
// run over a TCP proxy (Proxy) as over any other byte path, such as a board
// harness's relay (TapSource).
type Path interface {
	Device() io.ReadWriteCloser
	Server(ctx context.Context) (io.ReadWriteCloser, error)
	Dial(ctx context.Context, l Listener) (io.ReadWriteCloser, error)
	// Close closes every connection of the path.
	Close() error
}

// PathSource hands out the paths of the device's connections, in order.
type PathSource interface {
	Next(ctx context.Context) (Path, error)
}

// Dialer opens a connection to a listener of the server.
type Dialer func(ctx context.Context, l Listener) (net.Conn, error)

// AddrDialer dials the TCP address addr returns for each listener.
func AddrDialer(addr func(Listener) (string, error)) Dialer {
	return func(ctx context.Context, l Listener) (net.Conn, error) {
		a, err := addr(l)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a)
	}
}

// path is a Path whose device end is given and whose server end is dialled
// on demand (or given, for a relay that dialled it already).
type path struct {
	device net.Conn
	to     Listener
	dial   Dialer

	mu     sync.Mutex
	server net.Conn
	extra  []net.Conn
	closed bool
	done   chan struct{} // closed by Close
}

func newPath(device net.Conn, to Listener, dial Dialer, server net.Conn) *path {
	return &path{device: device, to: to, dial: dial, server: server, done: make(chan struct{})}
}

func (p *path) Device() io.ReadWriteCloser { return p.device }

func (p *path) Server(ctx context.Context) (io.ReadWriteCloser, error) {
	p.mu.Lock()
	if p.server != nil || p.closed {
		defer p.mu.Unlock()
		if p.closed {
			return nil, net.ErrClosed
		}
		return p.server, nil
	}
	p.mu.Unlock()
	c, err := p.dial(ctx, p.to)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	p.server = c
	return c, nil
}

func (p *path) Dial(ctx context.Context, l Listener) (io.ReadWriteCloser, error) {
	c, err := p.dial(ctx, l)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	p.extra = append(p.extra, c)
	return c, nil
}

func (p *path) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.device.Close()
	if p.server != nil {
		p.server.Close()
	}
	for _, c := range p.extra {
		c.Close()
	}
	close(p.done)
	return nil
}

// Proxy is the TCP man in the middle: devices connect to its address
// instead of the server's, and each connection becomes a Path towards
// listener To.
type Proxy struct {
	ln    net.Listener
	to    Listener
	dial  Dialer
	conns chan net.Conn

	wg   sync.WaitGroup
	once sync.Once
	stop chan struct{}
}

// proxyBacklog bounds the accepted connections no scenario took yet.
const proxyBacklog = 16

// NewProxy listens on addr ("127.0.0.1:0" picks a port) for connections to
// intercept on their way to listener to.
func NewProxy(addr string, to Listener, dial Dialer) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mitm: proxy listener: %w", err)
	}
	p := &Proxy{ln: ln, to: to, dial: dial, conns: make(chan net.Conn, proxyBacklog), stop: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address devices dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case p.conns <- c:
		case <-p.stop:
			c.Close()
			return
		}
	}
}

// Next returns the path of the next connection a device made.
func (p *Proxy) Next(ctx context.Context) (Path, error) {
	select {
	case c := <-p.conns:
		return newPath(c, p.to, p.dial, nil), nil
	case <-p.stop:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the proxy and closes the connections no scenario took.
// Paths already handed out belong to their takers. Safe to call twice.
func (p *Proxy) Close() error {
	p.once.Do(func() {
		close(p.stop)
		p.ln.Close()
		p.wg.Wait()
		for {
			select {
			case c := <-p.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

// TapSource hands out the paths of relays that call its Carry method. A
// board harness carries a board's handshake bytes to the server in relay
// mode through a tap with exactly this method (Carry(ctx, board, server)),
// so a TapSource puts the same scenarios on a board's byte path: Device is
// the board's side, Server the connection the harness opened.
type TapSource struct {
	to    Listener
	dial  Dialer
	paths chan *path

	once   sync.Once
	closed chan struct{}
}

// NewTapSource returns a source of the paths of relays towards to.
func NewTapSource(to Listener, dial Dialer) *TapSource {
	return &TapSource{to: to, dial: dial, paths: make(chan *path), closed: make(chan struct{})}
}

// Carry hands the relay's two conns to the scenario waiting in Next. It
// returns when the scenario closes the path or the device's end of it (the
// relay is over for the device: the harness then tells the board) or when
// ctx ends, and closes both conns then; the connections the scenario
// dialled on the path stay the scenario's. A relay no scenario took ends
// with ctx or when the source closes.
func (t *TapSource) Carry(ctx context.Context, board, server net.Conn) error {
	_, err := t.carry(ctx, board, server)
	return err
}

// carry is Carry, reporting whether a scenario took the path.
func (t *TapSource) carry(ctx context.Context, board, server net.Conn) (taken bool, err error) {
	end := &tapEnd{Conn: board, ended: make(chan struct{})}
	p := newPath(end, t.to, t.dial, server)
	select {
	case t.paths <- p:
	case <-t.closed:
		p.Close()
		return false, net.ErrClosed
	case <-ctx.Done():
		p.Close()
		return false, ctx.Err()
	}
	select {
	case <-p.done:
	case <-end.ended:
	case <-ctx.Done():
	}
	board.Close()
	server.Close()
	return true, nil
}

// Next returns the path of the next relay.
func (t *TapSource) Next(ctx context.Context) (Path, error) {
	select {
	case p := <-t.paths:
		return p, nil
	case <-t.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close ends the relays no scenario took. Paths already handed out belong to
// their takers. Safe to call twice.
func (t *TapSource) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}

// tapEnd is the device's end of a tapped relay: closing it ends the relay
// for the device, as closing a proxied TCP connection does.
type tapEnd struct {
	net.Conn
	once  sync.Once
	ended chan struct{}
}

func (e *tapEnd) Close() error {
	err := e.Conn.Close()
	e.once.Do(func() { close(e.ended) })
	return err
}

// PipeByway is a byway with no TCP on the device's side: every device
// connection is an in-memory pipe whose other end, with a connection to the
// server dialled the way a board harness dials it in relay mode, goes to a
// TapSource's Carry. It runs scenarios on the byte path a board takes.
type PipeByway struct {
	*TapSource
	to   Listener
	dial Dialer
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// NewPipeByway returns a PipeByway towards listener to.
func NewPipeByway(to Listener, dial Dialer) (Byway, error) {
	ctx, stop := context.WithCancel(context.Background())
	return &PipeByway{TapSource: NewTapSource(to, dial), to: to, dial: dial, ctx: ctx, stop: stop}, nil
}

// DialDevice returns the device's end of a new pipe and hands the other end
// to the tap, with a new connection to the server.
func (b *PipeByway) DialDevice(ctx context.Context) (net.Conn, error) {
	server, err := b.dial(ctx, b.to)
	if err != nil {
		return nil, err
	}
	device, board := net.Pipe()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.Carry(b.ctx, newQueuedConn(board), server)
	}()
	return device, nil
}

// queuedConn buffers what is written towards the device, as a harness's
// relay does: a write never waits for the device to read (net.Pipe alone
// would, and two TLS peers writing at once would wait on each other).
type queuedConn struct {
	net.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	queue  [][]byte
	closed bool
	err    error
	done   chan struct{}
}

func newQueuedConn(c net.Conn) *queuedConn {
	q := &queuedConn{Conn: c, done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.drain()
	return q
}

func (q *queuedConn) drain() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for len(q.queue) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.queue) == 0 {
			q.mu.Unlock()
			return
		}
		b := q.queue[0]
		q.queue = q.queue[1:]
		q.mu.Unlock()
		if _, err := q.Conn.Write(b); err != nil {
			q.mu.Lock()
			q.err, q.queue = err, nil
			q.mu.Unlock()
			return
		}
	}
}

func (q *queuedConn) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, net.ErrClosed
	}
	if q.err != nil {
		return 0, q.err
	}
	q.queue = append(q.queue, append([]byte(nil), p...))
	q.cond.Signal()
	return len(p), nil
}

// Close drops what the device has not read and closes the pipe.
func (q *queuedConn) Close() error {
	q.mu.Lock()
	q.closed, q.queue = true, nil
	q.cond.Signal()
	q.mu.Unlock()
	err := q.Conn.Close()
	<-q.done
	return err
}

// Close ends every relay and waits for them.
func (b *PipeByway) Close() error {
	b.stop()
	b.wg.Wait()
	return b.TapSource.Close()
}

// asConn returns rwc as a net.Conn (for crypto/tls and the profiles'
// sessions), wrapping a plain io.ReadWriteCloser in one without deadlines.
func asConn(rwc io.ReadWriteCloser) net.Conn {
	if c, ok := rwc.(net.Conn); ok {
		return c
	}
	return rwcConn{rwc}
}

type rwcConn struct{ io.ReadWriteCloser }

type labAddr struct{}

func (labAddr) Network() string { return "mitm" }
func (labAddr) String() string  { return "mitm-path" }

func (rwcConn) LocalAddr() net.Addr              { return labAddr{} }
func (rwcConn) RemoteAddr() net.Addr             { return labAddr{} }
func (rwcConn) SetDeadline(time.Time) error      { return errors.ErrUnsupported }
func (rwcConn) SetReadDeadline(time.Time) error  { return errors.ErrUnsupported }
func (rwcConn) SetWriteDeadline(time.Time) error { return errors.ErrUnsupported }
