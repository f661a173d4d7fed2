package servertest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	fnoise "github.com/flynn/noise"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/server/broker"
)

// DefaultHandshakeTimeout is the gateways' deadline for one handshake when
// Options.Limits leaves it zero: long enough that neither a loaded machine
// nor a slow board (an ATmega328P computes its noise message 1 in seconds)
// meets it. Close ends a handshake that hangs, however long its deadline.
const DefaultHandshakeTimeout = time.Minute

// loopback is where every listener binds: 127.0.0.1, a port of the
// kernel's choosing.
const loopback = "127.0.0.1:0"

// Options configure a Server. The zero value listens for every profile,
// with an empty directory, in front of the embedded broker.
type Options struct {
	// Profiles are the profiles to listen for, each on a port of its own;
	// nil: every profile (handshake.Profiles).
	Profiles []handshake.Name
	// Devices fill the in-memory directory; Passwords are the machine
	// passwords of its tls devices, by device ID (fixtures.Set's Records
	// and Passwords).
	Devices   []handshake.DeviceRecord
	Passwords map[string]string
	// Directory, when set, is the directory to serve, Devices put into
	// it: a spec that needs it before Start (to check a bridge's
	// passwords against it) makes it itself. Nil: a new one.
	Directory *handshaketest.Directory
	// NoiseCurrent and NoiseNext are the noise profile's server keys: the
	// one in use and the one announced for the next rollover (zero: none).
	// SetNoiseKeys changes them.
	NoiseCurrent, NoiseNext fnoise.DHKey
	// Certificate is the tls profile's broker certificate.
	Certificate tls.Certificate
	// Limits are the gateways'. A zero HandshakeTimeout is
	// DefaultHandshakeTimeout, a zero MaxHalfOpen server.DefaultLimits';
	// the per-source rate is off unless set.
	Limits server.Limits
	// ConnectTimeout bounds the embedded broker's wait for a device's
	// CONNECT after its handshake; zero: broker.DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Drain is how long Close waits for sessions to end by themselves
	// before it closes them; zero: it closes them at once.
	Drain time.Duration
	// Observer is told about every handshake and session as well as the
	// Server's own count (Handshakes, Refused); nil: nobody else. It may
	// be a server.TransportObserver and a server.AcceptObserver too.
	Observer server.Observer
	// Logger gets the gateways' and the broker's logs; nil: discarded.
	Logger *slog.Logger
	// Subscriber, when set, is called with every message a device
	// publishes under devices/, as a backend subscribed to devices/# at
	// QoS 1 would be.
	Subscriber func(topic string, payload []byte)
	// BackendPassword, when set, opens the broker's listener of backend
	// MQTT clients (Backend), for BackendUser with this password.
	BackendUser, BackendPassword string
	// Sink, when set, takes the device sessions instead of an embedded
	// broker: a bridge to an external broker, an Echo, a test's own.
	// Subscriber, BackendPassword and ConnectTimeout are the broker's, and
	// must then be left empty.
	Sink server.Sink
	// Wrap, when set, wraps the broker or Sink on its way to the gateway:
	// to watch how each session ends.
	Wrap func(server.Sink) server.Sink
}

// Server is a running in-process reference server.
type Server struct {
	// Directory holds the devices and their message-1 counters: a spec
	// revokes a device or reads its counter there.
	Directory *handshaketest.Directory
	// Broker is the embedded broker, nil with Options.Sink. Its inline
	// client publishes commands to devices (Broker.Publish).
	Broker *broker.Embedded
	// Gateway serves the listeners of Options.Profiles.
	Gateway *server.Gateway

	opts  Options
	deps  server.ProfileDeps
	sink  server.Sink // the broker or Options.Sink, unwrapped
	stack *server.Stack
	rec   *record

	mu     sync.Mutex
	extra  []*server.Gateway // Listen's
	closed bool
	once   sync.Once
	err    error
}

var errBrokerOptions = errors.New("servertest: Subscriber, BackendPassword and ConnectTimeout are the embedded broker's: leave them empty with a Sink")

// Start starts a Server with o.
func Start(o Options) (*Server, error) {
	if o.Sink != nil && (o.Subscriber != nil || o.BackendPassword != "" || o.ConnectTimeout != 0) {
		return nil, errBrokerOptions
	}
	if o.Profiles == nil {
		o.Profiles = handshake.Profiles
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Limits.HandshakeTimeout <= 0 {
		o.Limits.HandshakeTimeout = DefaultHandshakeTimeout
	}
	dir := o.Directory
	if dir == nil {
		dir = handshaketest.NewDirectory()
	}
	for _, d := range o.Devices {
		dir.Put(d)
	}
	pw, err := server.MachinePasswords(dir, o.Passwords)
	if err != nil {
		return nil, fmt.Errorf("servertest: checking passwords: %w", err)
	}
	s := &Server{Directory: dir, opts: o, rec: &record{counts: map[handshake.Reason]int{}}}
	s.deps = server.ProfileDeps{Directory: dir, Counters: dir, NoiseKeys: noise.NewKeyRing(noise.ServerKeys{Current: o.NoiseCurrent, Next: o.NoiseNext}), Certificate: o.Certificate}
	listen := make(map[handshake.Name]string, len(o.Profiles))
	for _, p := range o.Profiles {
		listen[p] = loopback
	}
	c := server.StackConfig{Listen: listen, Profiles: s.deps, Limits: o.Limits, Observer: s.observer(o.Observer),
		Logger: o.Logger, Sink: o.Sink, Wrap: o.Wrap,
		Broker: broker.Options{Passwords: pw.Check, BackendUser: o.BackendUser, BackendPassword: o.BackendPassword,
			ConnectTimeout: o.ConnectTimeout, Logger: o.Logger}}
	if o.BackendPassword != "" {
		c.Backend = loopback
	}
	if s.stack, err = server.NewStack(c); err != nil {
		return nil, fmt.Errorf("servertest: starting the server: %w", err)
	}
	s.Gateway, s.Broker, s.sink = s.stack.Gateway, s.stack.Broker, o.Sink
	if s.Broker != nil {
		s.sink = s.Broker
	}
	// No device knows the listeners' ports before Start returns: none has
	// published before the subscription.
	if o.Subscriber != nil {
		if err := s.Broker.Subscribe("devices/#", 1, o.Subscriber); err != nil {
			s.stack.Close(0)
			return nil, fmt.Errorf("servertest: subscribing to devices/#: %w", err)
		}
	}
	return s, nil
}

// Listener is one more listener of a Server (Listen).
type Listener struct {
	Profile handshake.Name
	// Certificate is the tls profile's certificate on this listener; zero:
	// Options.Certificate.
	Certificate tls.Certificate
	// Observer and Wrap replace Options' on this listener; nil: Options'.
	// The Server counts its handshakes either way.
	Observer server.Observer
	Wrap     func(server.Sink) server.Sink
}

// Listen starts one more listener, for l.Profile, on a gateway of its own
// (a gateway keeps one listener per profile) in front of the same broker
// or Sink and directory, under the same limits. It returns the listener's
// address.
func (s *Server) Listen(l Listener) (string, error) {
	deps := s.deps
	if l.Certificate.Certificate != nil {
		deps.Certificate = l.Certificate
	}
	obs, wrap, sink := l.Observer, l.Wrap, s.sink
	if obs == nil {
		obs = s.opts.Observer
	}
	if wrap == nil {
		wrap = s.opts.Wrap
	}
	if wrap != nil {
		sink = wrap(sink)
	}
	gw := server.NewGateway(sink, s.opts.Limits, s.observer(obs), s.opts.Logger)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errors.New("servertest: listening: the server is closed")
	}
	s.extra = append(s.extra, gw) // Close closes it, whatever happens below
	s.mu.Unlock()
	addrs, err := gw.ListenEach(loopback, deps, l.Profile)
	if err != nil {
		return "", fmt.Errorf("servertest: listening: %w", err)
	}
	return addrs[l.Profile], nil
}

// Addr returns the address of the listener of profile p from
// Options.Profiles; empty when there is none.
func (s *Server) Addr(p handshake.Name) string { return s.stack.Addrs[p] }

// Addrs returns the address of every listener of Options.Profiles, by
// profile.
func (s *Server) Addrs() map[handshake.Name]string { return maps.Clone(s.stack.Addrs) }

// Backend returns the address of the broker's listener of backend MQTT
// clients; empty without Options.BackendPassword.
func (s *Server) Backend() string { return s.stack.Backend }

// SetNoiseKeys changes the noise profile's server keys from the next
// handshake on: an announcement or a promotion, as `shakedown serverkey`
// makes on a running server.
func (s *Server) SetNoiseKeys(k noise.ServerKeys) { s.deps.NoiseKeys.Set(k) }

// Handshakes returns how many handshakes on the Server's listeners ended
// with reason; the empty reason counts those that completed.
func (s *Server) Handshakes(reason handshake.Reason) int { return s.rec.count(reason) }

// Refused returns the reasons of the refused handshakes, in the order the
// gateways counted them.
func (s *Server) Refused() []handshake.Reason { return s.rec.refusals() }

// Close stops the listeners, waits up to Options.Drain for sessions to end
// by themselves, closes the rest, then stops the broker; a Sink from
// Options is the caller's to close. When it returns, every goroutine the
// Server started has ended. Safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		extra := s.extra
		s.mu.Unlock()
		for _, gw := range extra {
			s.err = errors.Join(s.err, gw.Close(s.opts.Drain))
		}
		s.err = errors.Join(s.err, s.stack.Close(s.opts.Drain))
	})
	return s.err
}
