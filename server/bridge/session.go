package bridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
)

// drainTimeout bounds how long a session whose device left cleanly waits
// for the broker to finish reading and close its side.
const drainTimeout = 5 * time.Second

// session is one device session: the device conn, its broker conn, and the
// goroutine pumping broker packets to the device. The goroutine calling
// AttachDevice reads the device and owns the pump.
type session struct {
	b    *Bridge
	dev  net.Conn
	devR *bufio.Reader
	f    *filter

	ctx    context.Context // cancelled by stop: ends a dial or password check
	cancel context.CancelFunc

	wmu sync.Mutex // serialises writes to dev: pumped packets and the bridge's answers

	mu      sync.Mutex
	brk     net.Conn       // nil until dialled
	settled bool           // err is final
	err     error          // why the session ended (nil: normally)
	stopped bool           // both conns are closed
	pump    sync.WaitGroup // the broker-to-device goroutine
}

func newSession(b *Bridge, conn net.Conn, id handshake.Identity) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{b: b, dev: conn, devR: bufio.NewReader(conn), f: newFilter(&b.pol, id), ctx: ctx, cancel: cancel}
}

// run serves the session until it ends and returns why.
func (s *session) run() error {
	err := s.serve()
	if err == nil {
		s.settle(nil)
		s.drain()
	}
	s.stop(err)
	s.pump.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// settle records why the session ends, the first time.
func (s *session) settle(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.settled {
		s.settled, s.err = true, err
	}
}

// stop records why the session ends, the first time, and closes both conns,
// which unblocks every read and write. Safe to call any number of times.
func (s *session) stop(err error) {
	s.settle(err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel()
	s.dev.Close()
	if s.brk != nil {
		s.brk.Close()
	}
}

// serve reads and judges the device's packets: CONNECT, then the session.
func (s *session) serve() error {
	o := &s.b.opts
	cctx, cancel := context.WithTimeout(s.ctx, o.ConnectTimeout)
	defer cancel()
	s.dev.SetReadDeadline(time.Now().Add(o.ConnectTimeout))
	p, err := readPacket(s.devR, o.MaxPacket)
	if err != nil {
		if timedOut(err) {
			return s.refused(verdict{reason: handshake.ReasonConnectTimeout, end: true})
		}
		return s.readFailed(err)
	}
	v := s.f.packet(cctx, p)
	if v.reason != "" {
		return s.refused(v)
	}
	brk, err := o.Dial(cctx, "tcp", s.b.addr)
	if err != nil {
		s.b.log.Warn("broker unreachable", "broker", s.b.addr, "err", err)
		return s.refused(verdict{reason: handshake.ReasonBrokerUnavailable, end: true,
			reply: connack(s.f.version, packets.ErrServerUnavailable, packets.Err3ServerUnavailable)})
	}
	if !s.attachBroker(brk) {
		return nil // stopped meanwhile
	}
	if err := s.writeBroker(v.forward); err != nil {
		return err
	}
	s.pump.Add(1)
	go s.pumpBroker(brk)

	idle := s.idle()
	for {
		s.dev.SetReadDeadline(time.Now().Add(idle))
		p, err := readPacket(s.devR, o.MaxPacket)
		if err != nil {
			return s.readFailed(err)
		}
		v := s.f.packet(s.ctx, p)
		if v.reason != "" {
			if err := s.refused(v); err != nil || v.end {
				return err
			}
			continue
		}
		if err := s.writeBroker(v.forward); err != nil {
			return err
		}
	}
}

// idle is the longest wait for the device's next packet.
func (s *session) idle() time.Duration {
	idle := s.b.opts.IdleTimeout
	if k := s.f.keepAlive; k > 0 {
		// 3.1.1 §3.1.2.10: one and a half times the keep alive.
		if ka := time.Duration(k) * time.Second * 3 / 2; ka < idle {
			idle = ka
		}
	}
	return idle
}

// refused counts a refused packet, answers the device, and returns the
// session's error when the refusal ends it.
func (s *session) refused(v verdict) error {
	p := s.f.profile
	s.b.obs.Refused(p, v.reason)
	args := []any{"profile", p, "reason", v.reason}
	if s.f.deviceID != "" {
		// Authenticated: by the handshake, or (tls) by the CONNECT that passed.
		args = append(args, "device", s.f.deviceID)
	}
	if ra := s.dev.RemoteAddr(); ra != nil {
		args = append(args, "remote", ra.String())
	}
	s.b.refusals.Info(string(v.reason), "device packet refused", args...)
	if v.reply != nil {
		if err := s.writeDevice(v.reply); err != nil && !v.end {
			return err
		}
	}
	if v.end {
		return fail(p, v.reason)
	}
	return nil
}

// timedOut reports whether a read failed on its deadline.
func timedOut(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// readFailed turns a failed read from the device into the session's end.
func (s *session) readFailed(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return nil // the device closed the connection between packets
	case errors.Is(err, errMalformed):
		return s.refused(s.f.refuse(handshake.ReasonMalformed))
	case errors.Is(err, errOversize):
		return s.refused(s.f.refuse(handshake.ReasonOversizePacket))
	case timedOut(err):
		return s.refused(verdict{reason: handshake.ReasonIdleTimeout, end: true})
	}
	return handshake.Fail(s.f.profile, handshake.StageTransport, "", fmt.Errorf("bridge: reading the device: %w", err))
}

func (s *session) attachBroker(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		c.Close()
		return false
	}
	s.brk = c
	return true
}

// writeBroker writes to the broker; only serve does.
func (s *session) writeBroker(b []byte) error {
	s.brk.SetWriteDeadline(time.Now().Add(s.b.opts.WriteTimeout))
	if _, err := s.brk.Write(b); err != nil {
		return handshake.Fail(s.f.profile, handshake.StageTransport, "", fmt.Errorf("bridge: writing to the broker: %w", err))
	}
	return nil
}

func (s *session) writeDevice(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.dev.SetWriteDeadline(time.Now().Add(s.b.opts.WriteTimeout))
	if _, err := s.dev.Write(b); err != nil {
		return handshake.Fail(s.f.profile, handshake.StageTransport, "", fmt.Errorf("bridge: writing to the device: %w", err))
	}
	return nil
}

// pumpBroker passes the broker's packets to the device unchanged, one whole
// packet per write so that the bridge's own answers fall between packets.
func (s *session) pumpBroker(brk net.Conn) {
	defer s.pump.Done()
	r := bufio.NewReader(brk)
	for {
		p, err := readPacket(r, s.b.opts.MaxPacket)
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.stop(nil) // the broker ended the session
				return
			}
			s.stop(handshake.Fail(s.f.profile, handshake.StageTransport, handshake.ReasonIO, fmt.Errorf("bridge: reading the broker: %w", err)))
			return
		}
		if err := s.writeDevice(p.raw); err != nil {
			s.stop(err)
			return
		}
	}
}

// drain lets the broker finish after the device left cleanly: the bridge
// closes its sending side, so the broker reads everything forwarded before
// it sees the end, and waits for the broker to close (or drainTimeout).
func (s *session) drain() {
	s.mu.Lock()
	brk := s.brk
	s.mu.Unlock()
	cw, ok := brk.(interface{ CloseWrite() error })
	if !ok {
		return
	}
	brk.SetReadDeadline(time.Now().Add(drainTimeout))
	if cw.CloseWrite() != nil {
		return
	}
	s.pump.Wait()
}
