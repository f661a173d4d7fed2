package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/broker"
	"shakedown/server/lograte"
)

// Defaults of Options.
const (
	DefaultMaxPacket      = broker.DefaultMaxPacket
	DefaultConnectTimeout = broker.DefaultConnectTimeout
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultWriteTimeout   = 30 * time.Second
)

// Options configures a Bridge.
type Options struct {
	// Broker is the external broker: "tcp://host:port" (or "mqtt://").
	Broker string
	// BrokerUsername and BrokerPassword replace the device's credentials in
	// every CONNECT the bridge forwards; empty: the CONNECT carries none.
	BrokerUsername, BrokerPassword string
	// Grants returns extra topic filters a device may use besides devices/{id}/#.
	Grants func(deviceID string) []string
	// Passwords checks MQTT CONNECT credentials of tls-profile devices
	// (a server.Passwords' Check). Without it every tls
	// device is refused.
	Passwords func(ctx context.Context, deviceID string, password []byte) error
	// Observer is told about refused packets; nil: nobody.
	Observer Observer
	Logger   *slog.Logger
	// MaxPacket bounds every MQTT packet either way, fixed header included
	// (default DefaultMaxPacket). A longer one ends the session.
	MaxPacket int
	// ConnectTimeout bounds the wait for the device's CONNECT (a device
	// that sends none in time is closed: connect_timeout), the password
	// check and the dial to the broker (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// IdleTimeout bounds the time between two packets from the device
	// (default DefaultIdleTimeout). A device whose CONNECT keep alive is
	// shorter gets one and a half times its keep alive instead, the bound
	// a server applies (3.1.1 §3.1.2.10, 5.0 §3.1.2.10).
	IdleTimeout time.Duration
	// WriteTimeout bounds every write to the device or the broker (default
	// DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Dial opens the connection to the broker; nil: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Bridge carries authenticated device sessions to an external MQTT broker,
// one broker connection per device session. It implements server.Sink.
type Bridge struct {
	opts Options
	addr string
	pol  policy
	obs  Observer
	log  *slog.Logger
	// refusals logs refused packets at info, rate-limited per reason.
	refusals *lograte.Logger

	mu       sync.Mutex
	sessions map[*session]struct{}
	closed   bool
	wg       sync.WaitGroup // sessions in AttachDevice
}

var _ server.Sink = (*Bridge)(nil)

// ErrClosed is returned by AttachDevice after Close.
var ErrClosed = errors.New("bridge: closed")

// New returns a bridge to opts.Broker. It does not connect: each device
// session dials the broker after its CONNECT passed.
func New(opts Options) (*Bridge, error) {
	addr, err := brokerAddr(opts.Broker)
	if err != nil {
		return nil, err
	}
	if opts.MaxPacket <= 0 {
		opts.MaxPacket = DefaultMaxPacket
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Dial == nil {
		var d net.Dialer
		opts.Dial = d.DialContext
	}
	b := &Bridge{
		opts: opts, addr: addr, obs: opts.Observer, log: opts.Logger,
		pol: policy{
			grants: opts.Grants, passwords: opts.Passwords,
			brokerUser: []byte(opts.BrokerUsername), brokerPassword: []byte(opts.BrokerPassword),
		},
		sessions: map[*session]struct{}{},
	}
	if b.obs == nil {
		b.obs = nopObserver{}
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.refusals = lograte.New(b.log, lograte.DefaultInterval, lograte.DefaultBurst)
	return b, nil
}

// brokerAddr returns host:port of a "tcp://host:port" broker URL.
func brokerAddr(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("bridge: parsing broker address: %w", err)
	}
	if u.Scheme != "tcp" && u.Scheme != "mqtt" {
		return "", fmt.Errorf("bridge: broker address %q: want tcp://host:port", s)
	}
	if u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("bridge: broker address %q: want tcp://host:port", s)
	}
	return u.Host, nil
}

// Addr returns the broker's host:port.
func (b *Bridge) Addr() string { return b.addr }

// AttachDevice carries the MQTT session on conn, whose peer the handshake
// identified as id, to the broker until either side ends it. It closes conn.
// It returns nil when the session ended normally, and an *handshake.Error
// (stage transport) when the bridge refused the device.
func (b *Bridge) AttachDevice(conn net.Conn, id handshake.Identity) error {
	defer conn.Close()
	s := newSession(b, conn, id)
	if !b.track(s) {
		return ErrClosed
	}
	defer b.untrack(s)
	return s.run()
}

func (b *Bridge) track(s *session) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.sessions[s] = struct{}{}
	b.wg.Add(1)
	return true
}

func (b *Bridge) untrack(s *session) {
	b.mu.Lock()
	delete(b.sessions, s)
	b.mu.Unlock()
	b.wg.Done()
}

// Sessions returns the number of sessions in progress.
func (b *Bridge) Sessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
}

// Close ends every session and waits for them. Safe to call twice.
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.closed = true
	for s := range b.sessions {
		s.stop(ErrClosed)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}
