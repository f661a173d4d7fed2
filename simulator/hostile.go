package simulator

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"shakedown/handshake"
)

// Hostile outcomes: what the server did with a hostile connection.
const (
	OutcomeClosed        = "closed"         // closed the connection without a byte (the expected refusal)
	OutcomeAnswered      = "answered"       // sent bytes back: it took the input as a handshake or session start
	OutcomeHeld          = "held"           // neither, within hostile.timeout
	OutcomeDialFailed    = "dial_failed"    // the TCP connect failed
	OutcomeCaptureFailed = "capture_failed" // replay: the legitimate handshake to record failed
	OutcomeInterrupted   = "interrupted"    // the run was interrupted before the server's answer
)

// garbageLen is the body of a garbage frame: as long as a Noise IK message 1.
const garbageLen = 96

// maxCapture bounds the first flight a replay records.
const maxCapture = 16 << 10

// runHostile plays a hostile slot: it sends its kind of input on a fresh
// connection and records what the server did with it.
// An interruption of the run is recorded as such, never as the server's
// doing: a connection the signal cut short was not held by the server.
func (f *fleet) runHostile(ctx context.Context, sl Slot) {
	outcome := func(o string) {
		if ctx.Err() != nil && o != OutcomeClosed && o != OutcomeAnswered {
			o = OutcomeInterrupted
		}
		f.rec.hostileOutcome(sl.Hostile, o)
	}
	ep, err := f.endpoint(sl)
	if err != nil {
		outcome(OutcomeCaptureFailed)
		return
	}
	var send []byte
	switch sl.Hostile {
	case HostileGarbage:
		send = garbage(sl.N)
	case HostileReplay:
		if send, err = f.capture(ctx, sl, ep); err != nil {
			outcome(OutcomeCaptureFailed)
			return
		}
	}
	dctx, cancel := context.WithTimeout(ctx, f.sc.Timeouts.Handshake)
	d := net.Dialer{}
	if la := localAddr(f.srcs, sl.N); la != nil {
		d.LocalAddr = la
	}
	conn, err := d.DialContext(dctx, "tcp", ep.addr)
	cancel()
	if err != nil {
		outcome(OutcomeDialFailed)
		return
	}
	defer conn.Close()
	start := time.Now()
	if len(send) > 0 {
		if _, err := conn.Write(send); err != nil {
			outcome(OutcomeClosed)
			return
		}
	}
	o := await(ctx, conn, f.sc.Hostile.Timeout)
	if sl.Hostile == HostileHalfOpen && o == OutcomeClosed {
		f.rec.observe(StageHalfOpen, time.Since(start))
	}
	outcome(o)
}

// garbage is a well-formed frame header followed by random bytes, seeded
// by the slot so runs repeat.
func garbage(slot int) []byte {
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], uint64(slot))
	rng := rand.NewChaCha8(seed)
	b := handshake.AppendFrame(nil, make([]byte, garbageLen))
	rng.Read(b[handshake.FrameHeaderLen:])
	return b
}

// await reads until the server answers, closes, or timeout passes.
func await(ctx context.Context, conn net.Conn, timeout time.Duration) string {
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	conn.SetReadDeadline(time.Now().Add(timeout))
	var one [1]byte
	n, err := conn.Read(one[:])
	var te interface{ Timeout() bool }
	switch {
	case n > 0:
		return OutcomeAnswered
	case errors.As(err, &te) && te.Timeout():
		return OutcomeHeld
	}
	return OutcomeClosed
}

// capture runs a legitimate connect of the slot's identity and returns its
// first flight: the bytes it wrote before the server's first byte arrived
// (noise: message 1; seed and psk: message 1, and for psk the sealed
// CONNECT; tls: the ClientHello; plain MQTT: the CONNECT).
func (f *fleet) capture(ctx context.Context, sl Slot, ep endpoint) ([]byte, error) {
	rc := &recordingConn{}
	cfg := f.clientConfig(sl, ep)
	cfg.WrapConn = func(c net.Conn) net.Conn { rc.Conn = c; return rc }
	c, err := Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.Disconnect(disconnectQuiesce)
	b := rc.flight()
	if len(b) == 0 {
		return nil, errors.New("simulator: nothing captured")
	}
	return b, nil
}

// recordingConn keeps what is written on a conn until the first byte is read.
type recordingConn struct {
	net.Conn
	mu    sync.Mutex
	buf   []byte
	heard bool
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.heard && len(c.buf)+len(p) <= maxCapture {
		c.buf = append(c.buf, p...)
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.heard = true
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) flight() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}
