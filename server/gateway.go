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
	"shakedown/server/lograte"
)

// Sink receives authenticated device conns and serves them until they end.
type Sink interface {
	AttachDevice(conn net.Conn, id handshake.Identity) error
}

// Limits bound what one client can take from the gateway.
type Limits struct {
	HandshakeTimeout time.Duration // deadline of one handshake
	MaxHalfOpen      int           // handshakes in progress at once; more are refused at accept
	PerSourceRate    float64       // handshakes per second per source address (0: unlimited)
	PerSourceBurst   int
}

// DefaultLimits are the limits of `shakedown serve` without flags.
var DefaultLimits = Limits{HandshakeTimeout: 10 * time.Second, MaxHalfOpen: 1024, PerSourceRate: 0, PerSourceBurst: 20}

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

	halfOpen chan struct{}
	rate     *sourceRate

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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = nopObserver{}
	}
	return &Gateway{
		sink: sink, limits: limits, obs: obs, log: log,
		halfOpen:  make(chan struct{}, limits.MaxHalfOpen),
		rate:      newSourceRate(limits.PerSourceRate, limits.PerSourceBurst),
		listeners: map[handshake.Name]net.Listener{},
		conns:     map[net.Conn]struct{}{},
		refusals:  lograte.New(log, lograte.DefaultInterval, lograte.DefaultBurst),
	}
}

// Listen starts a listener for srv's profile on addr and returns its address.
func (g *Gateway) Listen(addr string, srv handshake.Server) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %s listener: %w", srv.Profile(), err)
	}
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
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			g.log.Warn("accept", "profile", srv.Profile(), "err", err)
			continue
		}
		if !g.rate.allow(conn.RemoteAddr()) {
			g.obs.Handshake(srv.Profile(), ReasonRateLimited, 0)
			conn.Close()
			continue
		}
		select {
		case g.halfOpen <- struct{}{}:
		default:
			g.obs.Handshake(srv.Profile(), ReasonHalfOpenCap, 0)
			conn.Close()
			continue
		}
		if !g.track(conn) {
			<-g.halfOpen
			conn.Close()
			return
		}
		go g.serve(conn, srv)
	}
}

// Reasons the gateway adds to the handshake reasons.
const (
	ReasonRateLimited handshake.Reason = "rate_limited"   // per-source handshake rate exceeded
	ReasonHalfOpenCap handshake.Reason = "half_open_full" // too many handshakes in progress
)

// serve runs the handshake of an accepted conn and starts its session.
func (g *Gateway) serve(conn net.Conn, srv handshake.Server) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), g.limits.HandshakeTimeout)
	sess, id, err := srv.Handshake(ctx, conn)
	cancel()
	<-g.halfOpen
	if err != nil {
		reason := handshake.ReasonOf(err)
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
