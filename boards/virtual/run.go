package virtual

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	bp "shakedown/harness/boardproto"
)

// run is one handshake and the session after it. Its fields are guarded by
// Board.mu.
type run struct {
	mode    bp.Mode
	profile handshake.Name
	ctx     context.Context
	cancel  context.CancelFunc
	relay   *bp.RelayConn // relay mode

	session     bool     // the handshake succeeded
	conn        net.Conn // the session conn
	raw         net.Conn // network mode: the board's own TCP connection
	outstanding int      // relay credit granted and not yet used
	counterUsed uint64
	sent, recv  int

	stopOnce sync.Once
}

func (r *run) state() bp.State {
	if r.session {
		return bp.StateSession
	}
	return bp.StateHandshake
}

// stop ends the run's I/O; its goroutine notices and exits silently.
func (r *run) stop() {
	r.stopOnce.Do(func() {
		r.cancel()
		if r.relay != nil {
			r.relay.Close()
		}
	})
}

// handshake starts a HANDSHAKE command.
func (b *Board) handshake(f bp.Frame) bp.Status {
	req, err := bp.ParseHandshakeRequest(f.Payload)
	if err != nil {
		return b.refuse(f, statusOf(err))
	}
	factory := b.cfg.Devices[req.Profile]
	switch {
	case factory == nil || req.Mode == bp.ModeNetwork && b.cfg.NoNetwork:
		return b.refuse(f, bp.StatusUnsupported)
	case b.state() != bp.StateIdle:
		return b.refuse(f, bp.StatusBusy)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{mode: req.Mode, profile: req.Profile, ctx: ctx, cancel: cancel}
	b.mu.Lock()
	s := b.store[req.Profile]
	b.mu.Unlock()
	if s == nil {
		cancel()
		return b.refuse(f, bp.StatusNotProvisioned)
	}
	id, err := b.identity(r, s)
	var dev handshake.Device
	if err == nil {
		dev, err = factory(id)
	}
	if err != nil {
		cancel()
		return b.refuse(f, bp.StatusNotProvisioned)
	}
	if r.mode == bp.ModeRelay {
		r.relay = bp.NewRelayConn(bp.RelayConfig{
			Send:  func(_ context.Context, p []byte) (int, error) { return b.relaySend(r, p) },
			Want:  func() { b.grantCredit(r) },
			Local: bp.RelayAddr("board"), Remote: bp.RelayAddr("harness")})
	}
	timeout := req.Timeout
	if timeout == 0 {
		timeout = b.cfg.HandshakeTimeout
	}
	b.mu.Lock()
	b.run = r
	b.mu.Unlock()
	b.respond(f, bp.StatusOK, nil)
	b.wg.Add(1)
	go b.runHandshake(r, dev, req, timeout, s.prov.Curve)
	return bp.StatusOK
}

// identity turns a stored slot into what a DeviceFactory needs: a noise
// device takes its message-1 counter from the slot, persisting each value
// before use as firmware must, and stores the server keys it learns from an
// authenticated announcement.
func (b *Board) identity(r *run, s *slot) (fixtures.Identity, error) {
	b.mu.Lock()
	p := s.prov
	b.mu.Unlock()
	id, err := identityOf(p, b.cfg.TLSRoots, b.cfg.BuildTime, b.cfg.Clocks)
	if err != nil || p.Profile != handshake.Noise {
		return id, err
	}
	if id.Pins, err = noise.NewPins(p.ServerKey, p.ServerKeyNext); err != nil {
		return id, err
	}
	id.Pins.OnChange(func(a noise.Announcement) {
		b.mu.Lock()
		defer b.mu.Unlock()
		s.prov.ServerKey, s.prov.ServerKeyNext = a.Current, a.Next
	})
	id.Counter = counterFunc(func() (uint64, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if s.counter >= noise.MaxCounter {
			return 0, errors.New("virtual: message-1 counter exhausted")
		}
		s.counter++
		r.counterUsed = s.counter
		return s.counter, nil
	})
	return id, nil
}

type counterFunc func() (uint64, error)

func (f counterFunc) Next() (uint64, error) { return f() }

func (b *Board) runHandshake(r *run, dev handshake.Device, req bp.HandshakeRequest, timeout time.Duration, curve bp.Curve) {
	defer b.wg.Done()
	defer b.endRun(r)
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	start := time.Now()
	b.count(bp.CounterHandshakes, 1)
	b.logf("handshake %s %s", req.Profile, req.Mode)
	plan := b.plan(req.Profile, curve)

	var raw net.Conn = r.relay
	if r.mode == bp.ModeNetwork {
		c, err := b.cfg.Dial(ctx, "tcp", net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port))))
		if err != nil {
			b.handshakeFailed(r, start, plan, &handshake.Error{Profile: req.Profile, Stage: handshake.StageDial, Reason: handshake.ReasonIO, Err: err})
			return
		}
		b.mu.Lock()
		r.raw = c
		b.mu.Unlock()
		context.AfterFunc(r.ctx, func() { c.Close() })
		raw = c
	}
	raw = &meter{Conn: raw, b: b, r: r, ctx: ctx, before: plan.before}
	if cs, ok := dev.(clockSyncer); ok {
		// A network-clock device asks its time server first; without a
		// time it trusts it sends no byte.
		if err := cs.SyncClock(ctx); err != nil {
			b.handshakeFailed(r, start, plan, err)
			return
		}
	}
	conn, err := dev.Handshake(ctx, raw)
	if err == nil && plan.after > 0 {
		err = b.spend(ctx, plan.after)
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		b.handshakeFailed(r, start, plan, err)
		return
	}
	b.mu.Lock()
	done := bp.HandshakeDone{Profile: req.Profile, Unit: bp.UnitNanoseconds, Counter: r.counterUsed,
		Total: uint64(time.Since(start)), Crypto: uint64(plan.crypto), Sent: clamp16(r.sent), Received: clamp16(r.recv)}
	r.session, r.conn = true, conn
	b.counters[bp.CounterHandshakesOK]++
	b.mu.Unlock()
	context.AfterFunc(r.ctx, func() { conn.Close() })
	if !b.emit(r, bp.EvtHandshakeDone, done.Append(nil)) {
		return
	}
	b.logf("handshake ok, counter %d", done.Counter)
	b.session(r, conn)
}

func (b *Board) handshakeFailed(r *run, start time.Time, plan costPlan, err error) {
	reason, stage := handshake.ReasonOf(err), handshake.Stage("")
	var he *handshake.Error
	if errors.As(err, &he) {
		stage = he.Stage
	}
	if errors.Is(err, context.DeadlineExceeded) {
		reason = handshake.ReasonTimeout
	}
	b.mu.Lock()
	done := bp.HandshakeDone{Reason: reason, Stage: stage, Profile: r.profile, Unit: bp.UnitNanoseconds,
		Counter: r.counterUsed, Total: uint64(time.Since(start)), Crypto: uint64(plan.crypto),
		Sent: clamp16(r.sent), Received: clamp16(r.recv)}
	b.counters[bp.CounterHandshakesFailed]++
	b.counters[bp.CounterLastFailureReason] = uint64(bp.ReasonCode(reason))
	b.mu.Unlock()
	b.logf("handshake failed: %s at %s", reason, stage)
	if stage == handshake.StageClock {
		// The board's own words on its time server: fixed texts of
		// package clock, no byte the server sent.
		b.logf("time server: %v", err)
	}
	b.emit(r, bp.EvtHandshakeDone, done.Append(nil))
	if r.mode == bp.ModeRelay {
		b.emit(r, bp.EvtClosed, bp.AppendReason(nil, reason))
	}
}

// session reads application bytes until the session ends and sends them
// to the host as MESSAGE events.
func (b *Board) session(r *run, conn net.Conn) {
	buf := make([]byte, b.cfg.MaxPayload)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if !b.emit(r, bp.EvtMessage, buf[:n]) {
				return
			}
			b.count(bp.CounterMessagesReceived, 1)
		}
		if err != nil {
			reason := handshake.ReasonNone
			switch {
			case errors.Is(err, io.EOF):
			case r.profile == handshake.TLS: // a record that fails its MAC is decrypt_failed, not internal
				reason = tlsprofile.SessionError(err).Reason
			default:
				reason = handshake.ReasonOf(err)
			}
			b.emit(r, bp.EvtClosed, bp.AppendReason(nil, reason))
			return
		}
	}
}

// endRun forgets r if it is still the board's run and stops it.
func (b *Board) endRun(r *run) {
	b.mu.Lock()
	if b.run == r {
		b.run = nil
	}
	b.mu.Unlock()
	r.stop()
}

// closeRun answers CLOSE.
func (b *Board) closeRun(f bp.Frame) bp.Status {
	b.mu.Lock()
	r := b.run
	b.run = nil
	b.mu.Unlock()
	if r == nil {
		return b.refuse(f, bp.StatusNoSession)
	}
	b.respond(f, bp.StatusOK, nil)
	b.emit(nil, bp.EvtClosed, bp.AppendReason(nil, ""))
	r.stop()
	return bp.StatusOK
}

// send answers SEND: one write into the session.
func (b *Board) send(p []byte) bp.Status {
	b.mu.Lock()
	r := b.run
	b.mu.Unlock()
	switch {
	case r == nil:
		return bp.StatusNoSession
	case !r.session:
		return bp.StatusBusy // the handshake is still running
	}
	if len(p) == 0 {
		return bp.StatusBadLength
	}
	if err := b.spend(r.ctx, b.aeadCost(len(p))); err != nil {
		return bp.StatusNoSession
	}
	if _, err := r.conn.Write(p); err != nil {
		return bp.StatusNoSession
	}
	b.count(bp.CounterMessagesSent, 1)
	return bp.StatusOK
}

// ---------------------------------------------------------------- relay

// relaySend carries the device's bytes to the host in RELAY_DATA events.
func (b *Board) relaySend(r *run, p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), b.cfg.MaxPayload)
		b.wmu.Lock()
		b.mu.Lock()
		cut := b.run == r && !r.session && b.faults.ResetInHandshake > 0
		if cut {
			b.faults.ResetInHandshake--
		}
		seq := b.evSeq
		b.mu.Unlock()
		if cut {
			// The chip resets while its UART is halfway through a frame.
			if wire, err := bp.AppendFrame(nil, bp.Frame{Type: bp.EvtRelayData, Seq: seq, Payload: p[:n]}); err == nil {
				b.write(wire[:len(wire)/2])
			}
			b.rebootLocked(bp.BootWatchdog)
			b.wmu.Unlock()
			return written, net.ErrClosed
		}
		ok := b.emitLocked(r, bp.EvtRelayData, p[:n])
		b.wmu.Unlock()
		if !ok {
			return written, net.ErrClosed
		}
		b.count(bp.CounterRelayBytesTx, uint64(n))
		written += n
		p = p[n:]
	}
	return written, nil
}

// grantCredit runs when the device waits for relay bytes: with no credit
// outstanding the board grants its window.
func (b *Board) grantCredit(r *run) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	if b.run != r || r.outstanding > 0 {
		b.mu.Unlock()
		return
	}
	r.outstanding = b.cfg.RelayWindow
	b.mu.Unlock()
	b.emitLocked(r, bp.EvtRelayCredit, bp.Credit(b.cfg.RelayWindow).Append(nil))
}

// relayData answers RELAY_DATA from the host.
func (b *Board) relayData(p []byte) bp.Status {
	b.mu.Lock()
	r := b.run
	switch {
	case r == nil || r.relay == nil:
		b.mu.Unlock()
		return bp.StatusNoSession
	case len(p) == 0 || len(p) > b.cfg.MaxPayload:
		b.mu.Unlock()
		return bp.StatusBadLength
	case len(p) > r.outstanding:
		b.mu.Unlock()
		return bp.StatusNoCredit
	}
	r.outstanding -= len(p)
	b.counters[bp.CounterRelayBytesRx] += uint64(len(p))
	b.mu.Unlock()
	r.relay.Deliver(p)
	return bp.StatusOK
}

// relayClose answers RELAY_CLOSE: end of the relayed stream.
func (b *Board) relayClose(reason handshake.Reason) {
	b.mu.Lock()
	r := b.run
	b.mu.Unlock()
	if r == nil || r.relay == nil {
		return
	}
	var err error
	if reason != "" {
		err = &handshake.Error{Profile: r.profile, Stage: handshake.StageTransport, Reason: reason,
			Err: errors.New("virtual: the host closed the relay")}
	}
	r.relay.CloseRead(err)
}

// meter counts the handshake's bytes and makes a slow chip wait before its
// first message.
type meter struct {
	net.Conn
	b      *Board
	r      *run
	ctx    context.Context
	before time.Duration
	once   sync.Once
}

func (m *meter) Write(p []byte) (int, error) {
	var err error
	m.once.Do(func() { err = m.b.spend(m.ctx, m.before) })
	if err != nil {
		return 0, err
	}
	n, err := m.Conn.Write(p)
	m.b.mu.Lock()
	m.r.sent += n
	m.b.mu.Unlock()
	return n, err
}

func (m *meter) Read(p []byte) (int, error) {
	n, err := m.Conn.Read(p)
	m.b.mu.Lock()
	m.r.recv += n
	m.b.mu.Unlock()
	return n, err
}

func clamp16(n int) uint16 {
	if n > 0xFFFF {
		return 0xFFFF
	}
	return uint16(n)
}
