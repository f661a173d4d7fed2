package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"shakedown/handshake"
	"shakedown/server/accept"
	"shakedown/server/lograte"
)

// Sink receives authenticated device conns and serves them until they end.
type Sink interface {
	AttachDevice(conn net.Conn, id handshake.Identity) error
}

// Limits bound what one client can take from the gateway. A zero
// PerSourceRate turns the rate limit off; a zero HandshakeTimeout or
// MaxHalfOpen takes DefaultLimits' value.
type Limits struct {
	HandshakeTimeout time.Duration // deadline of one handshake
	// MaxHalfOpen is the size of the half-open table: handshakes in
	// progress at once. A newcomer to a full table evicts the oldest
	// handshake waiting for its peer (admission).
	MaxHalfOpen int
	// PerSourceRate is how many handshakes a second one source (an IPv4
	// address, or an IPv6 /64) may start, after a burst of PerSourceBurst;
	// more are refused at accept.
	PerSourceRate  float64
	PerSourceBurst int
}

// DefaultLimits are the limits of `shakedown serve` without flags: on, and
// sized for a fleet that reaches the server through one NAT.
//
// The rate bounds the work one address makes the server do: 200 handshakes
// a second, after a burst of 1,000 (after an outage, the first 1,000
// devices behind one NAT pass at once; 10,000 are back within 45 s,
// retrying as MQTT clients do). That is twice what an Azure IoT Hub S1 unit
// admits for a whole hub (100 new device connections a second; Azure IoT
// Hub quotas and throttling), and about a twentieth of the handshakes this
// server completes a second on two cores (docs/benchmarks.md). It also
// bounds how fast one address can churn the half-open table: at 200
// arrivals a second, a handshake waiting for its peer keeps its slot of
// the 1,024 for at least 5 s, however hard that address floods. A fleet
// that needs more raises the rate, or spreads over addresses; MQTT clients
// retry a refused connection anyway.
//
// There is deliberately no per-source share of the table: a fleet behind
// one NAT holds many slots exactly when the server is slow, and a share
// would turn the server's slowness into the fleet's failures.
var DefaultLimits = Limits{
	HandshakeTimeout: 10 * time.Second,
	MaxHalfOpen:      1024,
	PerSourceRate:    200,
	PerSourceBurst:   1000,
}

// Observer is told about every handshake; metrics implement it.
type Observer interface {
	Handshake(p handshake.Name, reason handshake.Reason, d time.Duration)
	Session(p handshake.Name, delta int)
	Bytes(p handshake.Name, in bool, n int)
}

// Gateway runs the handshake listeners.
type Gateway struct {
	sink   Sink
	limits Limits
	obs    Observer
	log    *slog.Logger
	// refusals logs refused handshakes and failed records at info,
	// rate-limited per reason (transport.go).
	refusals *lograte.Logger

	adm *admission

	mu        sync.Mutex
	listeners map[handshake.Name]net.Listener
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
	closed    bool
}

// NewGateway returns a gateway handing conns to sink.
func NewGateway(sink Sink, limits Limits, obs Observer, log *slog.Logger) *Gateway {
	if limits.HandshakeTimeout <= 0 {
		limits.HandshakeTimeout = DefaultLimits.HandshakeTimeout
	}
	if limits.MaxHalfOpen <= 0 {
		limits.MaxHalfOpen = DefaultLimits.MaxHalfOpen
	}
	limits.PerSourceRate = max(limits.PerSourceRate, 0)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = nopObserver{}
	}
	return &Gateway{
		sink: sink, limits: limits, obs: obs, log: log,
		adm:       newAdmission(limits),
		listeners: map[handshake.Name]net.Listener{},
		conns:     map[net.Conn]struct{}{},
		refusals:  lograte.New(log, lograte.DefaultInterval, lograte.DefaultBurst),
	}
}

// Listen starts a listener for srv's profile on addr and returns its address.
func (g *Gateway) Listen(addr string, srv handshake.Server) (net.Addr, error) {
	raw, err := ListenTCP(addr)
	if err != nil {
		return nil, fmt.Errorf("server: %s listener: %w", srv.Profile(), err)
	}
	p := srv.Profile()
	ln := accept.Wrap(raw, func(err error, wait time.Duration) {
		g.log.Warn("accept failed; retrying", "profile", p, "err", err, "retry_in", wait.String())
		if ao, ok := g.obs.(AcceptObserver); ok {
			ao.AcceptFailed(string(p))
		}
	})
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		ln.Close()
		return nil, errors.New("server: gateway closed")
	}
	g.listeners[srv.Profile()] = ln
	g.wg.Add(1)
	g.mu.Unlock()
	go g.accept(ln, srv)
	g.log.Info("listening", "profile", srv.Profile(), "addr", ln.Addr().String(), "insecure", srv.Profile().Insecure())
	return ln.Addr(), nil
}

func (g *Gateway) accept(ln net.Listener, srv handshake.Server) {
	defer g.wg.Done()
	p := srv.Profile()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return // a patient listener fails only once closed
		}
		s, victim, refused := g.adm.admit(conn, time.Now())
		if refused != "" {
			g.obs.Handshake(p, refused, 0)
			reset(conn)
			continue
		}
		if victim != nil {
			reset(victim.conn) // its handshake counts the eviction
		}
		if !g.track(conn) {
			g.adm.release(s)
			conn.Close()
			return
		}
		go g.serve(conn, s, srv)
	}
}

// reset closes a conn the gateway refuses or evicts with a TCP reset
// (SO_LINGER 0): the server keeps no TIME_WAIT state for it, however many
// a flood makes.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// AcceptObserver is an Observer that also counts failed accepts (EMFILE
// and the like), by listener; the Gateway uses it when its Observer has it.
type AcceptObserver interface {
	AcceptFailed(listener string)
}

// serve runs the handshake of an accepted conn holding slot s of the
// half-open table, and starts its session.
func (g *Gateway) serve(conn net.Conn, s *slot, srv handshake.Server) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), g.limits.HandshakeTimeout)
	sess, id, err := srv.Handshake(ctx, slotConn{Conn: conn, s: s})
	cancel()
	reason := handshake.ReasonOf(err)
	if g.adm.release(s) {
		reason = handshake.ReasonEvicted // whatever the handshake made of its closed conn
	}
	if reason != "" {
		g.obs.Handshake(srv.Profile(), reason, time.Since(start))
		g.handshakeRefused(srv.Profile(), reason, conn)
		conn.Close()
		g.untrack(conn)
		g.wg.Done()
		return
	}
	g.obs.Handshake(srv.Profile(), "", time.Since(start))
	// The session runs in a goroutine of its own. This one's stack grew
	// during the handshake (curve arithmetic, the registry's SQL) and is
	// freed when it returns; kept, it would stay with the session for the
	// session's whole life (about 9 KiB per session, docs/benchmarks.md).
	go g.session(conn, sess, id, srv.Profile())
}

// session serves an authenticated conn until it ends.
func (g *Gateway) session(conn, sess net.Conn, id handshake.Identity, p handshake.Name) {
	defer g.wg.Done()
	defer g.untrack(conn)
	g.obs.Session(p, 1)
	defer g.obs.Session(p, -1)
	if err := g.sink.AttachDevice(meteredConn{Conn: sess, p: p, obs: g.obs}, id); err != nil {
		g.log.Debug("session ended", "profile", p, "device", id.DeviceID, "err", err)
		g.sessionFailed(p, id, conn, err)
	}
	sess.Close()
}

func (g *Gateway) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.conns[c] = struct{}{}
	g.wg.Add(1)
	return true
}

func (g *Gateway) untrack(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.conns, c)
}

// HalfOpen returns the number of handshakes in progress, and of those
// waiting for their peer's bytes.
func (g *Gateway) HalfOpen() (handshakes, waiting int) { return g.adm.halfOpen() }

// Sessions returns the number of open conns (handshaking or in session).
func (g *Gateway) Sessions() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// Close stops the listeners, then waits up to drain for sessions to end by
// themselves before closing the rest. Safe to call twice.
func (g *Gateway) Close(drain time.Duration) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	for _, ln := range g.listeners {
		ln.Close()
	}
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(drain):
	}
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	<-done
	return nil
}

type nopObserver struct{}

func (nopObserver) Handshake(handshake.Name, handshake.Reason, time.Duration) {}
func (nopObserver) Session(handshake.Name, int)                               {}
func (nopObserver) Bytes(handshake.Name, bool, int)                           {}
