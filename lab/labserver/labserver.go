package labserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/clock"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	"shakedown/mitm"
	"shakedown/server"
	"shakedown/server/servertest"
)

// HandshakeTimeout bounds each handshake on the lab's listeners: short, so
// an attack that leaves a handshake hanging ends soon.
const HandshakeTimeout = 5 * time.Second

// ConnectTimeout bounds the wait for a device's CONNECT after its
// handshake. A board computes its side of a handshake after the server's
// last message, and an emulated one at a fraction of its clock: the seed
// profile's P-256 on simavr takes up to 30 s (its board profile's limit),
// past the reference server's default (broker.DefaultConnectTimeout).
const ConnectTimeout = time.Minute

// drainTimeout is how long Close waits for sessions to end by themselves.
const drainTimeout = time.Second

// Server is the lab's target: the reference server's gateway and embedded
// broker in process (package server/servertest), on 127.0.0.1, with an
// in-memory registry of a fixture set. It implements mitm.Target.
type Server struct {
	srv   *servertest.Server
	addrs map[mitm.Listener]string
	// ntp and roughtime are the honest time servers the devices of the
	// network-clock columns ask (through the attacker's mitm.TimeGate).
	ntp, roughtime *clock.Server

	mu     sync.Mutex
	events []mitm.ServerEvent
	inbox  map[string][][]byte
}

var _ mitm.Target = (*Server)(nil)

// Options tune a lab server; the zero value is Start's.
type Options struct {
	Log *slog.Logger // nil: discard
	// HandshakeTimeout bounds each handshake on the lab's listeners
	// (default HandshakeTimeout). A slow board needs its slack on top: it
	// computes its first message after the harness has connected to the
	// server (an ATmega328P's noise message 1 is three X25519 operations,
	// 4.3 s at 16 MHz). The lab's verdicts never wait for this deadline:
	// a refusal by timeout is not a refusal (refusalOn).
	HandshakeTimeout time.Duration
}

// Start runs the server for set. log may be nil.
func Start(set *fixtures.Set, log *slog.Logger) (*Server, error) {
	return StartOptions(set, Options{Log: log})
}

// StartOptions runs the server for set with o: a listener per profile, then
// the tls listeners with the renewed and the rolled broker certificate,
// each on a gateway of its own (a gateway keeps one listener per profile).
func StartOptions(set *fixtures.Set, o Options) (*Server, error) {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = HandshakeTimeout
	}
	s := &Server{addrs: map[mitm.Listener]string{}, inbox: map[string][][]byte{}}
	obs, wrap := s.watch(mitm.ListenNoise, mitm.ListenSeed, mitm.ListenPSK, mitm.ListenTLS)
	srv, err := servertest.Start(servertest.Options{Devices: set.Records(), Passwords: set.Passwords(),
		NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker,
		Limits: server.Limits{HandshakeTimeout: o.HandshakeTimeout}, ConnectTimeout: ConnectTimeout, Drain: drainTimeout,
		Observer: obs, Wrap: wrap, Logger: o.Log, Subscriber: s.receive})
	if err != nil {
		return nil, fmt.Errorf("labserver: starting the server: %w", err)
	}
	s.srv = srv
	for p, a := range srv.Addrs() {
		s.addrs[mitm.ListenerOf(p)] = a
	}
	if err := s.startClocks(set); err != nil {
		srv.Close()
		return nil, err
	}
	for _, x := range []struct {
		l    mitm.Listener
		cert tls.Certificate
	}{{mitm.ListenTLSRenewed, set.BrokerRenewed}, {mitm.ListenTLSRolled, set.BrokerRolled}} {
		obs, wrap := s.watch(x.l)
		if s.addrs[x.l], err = srv.Listen(servertest.Listener{Profile: handshake.TLS, Certificate: x.cert, Observer: obs, Wrap: wrap}); err != nil {
			s.Close()
			return nil, fmt.Errorf("labserver: starting the %s listener: %w", x.l, err)
		}
	}
	return s, nil
}

// watch returns the observer and the sink wrapper of a gateway that serves
// listeners ls (one per profile): they log its refused handshakes and the
// ends of its sessions under the listeners' names.
func (s *Server) watch(ls ...mitm.Listener) (server.Observer, func(server.Sink) server.Sink) {
	names := map[handshake.Name]mitm.Listener{}
	for _, l := range ls {
		names[profileOf(l)] = l
	}
	return &observer{s: s, names: names}, func(next server.Sink) server.Sink { return &sink{s: s, names: names, next: next} }
}

// profileOf returns the profile a listener serves.
func profileOf(l mitm.Listener) handshake.Name {
	switch l {
	case mitm.ListenTLSRenewed, mitm.ListenTLSRolled:
		return handshake.TLS
	}
	return handshake.Name(l)
}

// Addr implements mitm.Target.
func (s *Server) Addr(l mitm.Listener) (string, error) {
	a, ok := s.addrs[l]
	if !ok {
		return "", fmt.Errorf("labserver: no %s listener", l)
	}
	return a, nil
}

// AddrOf returns the TCP address of the listener of profile p: the one a
// device or board of that profile dials.
func (s *Server) AddrOf(p handshake.Name) (string, error) {
	return s.Addr(mitm.ListenerOf(p))
}

// Mark implements mitm.Target.
func (s *Server) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// Events implements mitm.Target.
func (s *Server) Events(since int) []mitm.ServerEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if since < 0 || since > len(s.events) {
		since = len(s.events)
	}
	return append([]mitm.ServerEvent(nil), s.events[since:]...)
}

func (s *Server) event(e mitm.ServerEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *Server) receive(topic string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbox[topic] = append(s.inbox[topic], append([]byte(nil), payload...))
}

// Delivered implements mitm.Target.
func (s *Server) Delivered(topic string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.inbox[topic]...)
}

// Count returns how often the backend received payload on topic.
func (s *Server) Count(topic string, payload []byte) int {
	n := 0
	for _, p := range s.Delivered(topic) {
		if string(p) == string(payload) {
			n++
		}
	}
	return n
}

// Command implements mitm.Target: a QoS 1 publish from the broker's inline
// backend client.
func (s *Server) Command(topic string, payload []byte) error {
	return s.srv.Broker.Publish(topic, payload, 1)
}

// SetNoiseKeys implements mitm.Target.
func (s *Server) SetNoiseKeys(k noise.ServerKeys) { s.srv.SetNoiseKeys(k) }

// startClocks runs the honest time servers on 127.0.0.1: SNTP and
// Roughtime under the set's key, both on the real clock.
func (s *Server) startClocks(set *fixtures.Set) error {
	key, err := set.RoughtimeKey()
	if err != nil {
		return err
	}
	rs, err := clock.NewRoughtimeServer(key, time.Now)
	if err != nil {
		return fmt.Errorf("labserver: %w", err)
	}
	if s.ntp, err = clock.Listen("127.0.0.1:0", clock.NTPResponder(time.Now)); err != nil {
		return fmt.Errorf("labserver: starting the SNTP server: %w", err)
	}
	if s.roughtime, err = clock.Listen("127.0.0.1:0", rs.Handler()); err != nil {
		s.ntp.Close()
		return fmt.Errorf("labserver: starting the Roughtime server: %w", err)
	}
	return nil
}

// TimeServers returns the addresses of the honest SNTP and Roughtime
// servers (UDP on 127.0.0.1).
func (s *Server) TimeServers() (ntp, roughtime string) { return s.ntp.Addr(), s.roughtime.Addr() }

// Close stops the gateways, the broker and the time servers. Safe to call
// twice.
func (s *Server) Close() error {
	if s.ntp != nil {
		s.ntp.Close()
		s.roughtime.Close()
	}
	return s.srv.Close()
}

// observer logs the gateway's refused handshakes.
type observer struct {
	s     *Server
	names map[handshake.Name]mitm.Listener
}

func (o *observer) Handshake(p handshake.Name, reason handshake.Reason, _ time.Duration) {
	if reason != "" {
		o.s.event(mitm.ServerEvent{Listener: o.names[p], Profile: p, Reason: reason})
	}
}

func (o *observer) Session(handshake.Name, int)     {}
func (o *observer) Bytes(handshake.Name, bool, int) {}

// sink hands sessions to the broker and logs why each ended.
type sink struct {
	s     *Server
	names map[handshake.Name]mitm.Listener
	next  server.Sink
}

func (k *sink) AttachDevice(conn net.Conn, id handshake.Identity) error {
	err := k.next.AttachDevice(conn, id)
	if err != nil {
		he := sessionEnd(id.Profile, err)
		k.s.event(mitm.ServerEvent{Listener: k.names[id.Profile], Profile: id.Profile, Stage: he.Stage, Reason: he.Reason})
	}
	return err
}

// sessionEnd classifies why a session ended: a record that did not open, a
// CONNECT the broker refused, or the connection's end.
func sessionEnd(p handshake.Name, err error) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	var code packets.Code
	if errors.As(err, &code) {
		return handshake.Fail(p, handshake.StageTransport, handshake.ReasonConnackRefused, err)
	}
	if p == handshake.TLS {
		return tlsprofile.SessionError(err)
	}
	return handshake.Fail(p, handshake.StageTransport, "", err)
}
