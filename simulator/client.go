package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"shakedown/handshake"
)

// mqttProtocolLevel is MQTT 3.1.1's protocol level (MQTT 3.1.1 §3.1.2.2).
const mqttProtocolLevel = 4

// PlainMQTT labels a client without a handshake (plain MQTT over TCP) in
// errors and results. It is a baseline, not a handshake profile.
const PlainMQTT handshake.Name = "mqtt"

// ClientConfig describes one simulated device's MQTT client.
type ClientConfig struct {
	Device   handshake.Device // nil: plain MQTT over TCP (a baseline)
	Addr     string           // host:port of the listener
	ClientID string
	Username string // tls profile: the device ID
	Password string // tls profile: the device's MQTT password
	// HandshakeTimeout bounds each connection's TCP connect, handshake and
	// CONNACK (default 10 s).
	HandshakeTimeout time.Duration
	// OnConnectionLost is called when an established connection drops.
	OnConnectionLost func(error)
	// LocalAddr binds the connection's source address (port 0: any port);
	// nil leaves the choice to the system.
	LocalAddr *net.TCPAddr
	// KeepAlive is the MQTT keep-alive: 0 keeps paho's default (30 s), a
	// negative value turns it off (and paho's keep-alive goroutine with it).
	KeepAlive time.Duration
	// Timings, when set, receives the instants of the connect's steps.
	Timings *ConnectTimings
	// WrapConn, when set, wraps the TCP connection before the handshake.
	WrapConn func(net.Conn) net.Conn
}

// ConnectTimings are the instants of one Connect's steps; a step not
// reached stays zero. They are written before Connect returns.
type ConnectTimings struct {
	DialStart  time.Time // the TCP connect began
	Dialed     time.Time // the TCP connection was established
	Handshaken time.Time // the profile's handshake completed (== Dialed for plain MQTT)
}

// Connect opens an MQTT session over a handshake conn and waits for CONNACK.
// Automatic reconnects are off: the caller decides what a lost session means.
//
// A failed TCP connect or handshake returns a *handshake.Error; a refused
// CONNACK returns an error wrapping paho's packets.ConnErrors value.
func Connect(ctx context.Context, cfg ClientConfig) (mqtt.Client, error) {
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	opts := mqtt.NewClientOptions().
		AddBroker("tcp://" + cfg.Addr).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetCleanSession(true).
		SetConnectTimeout(cfg.HandshakeTimeout).
		// MQTT 3.1.1 (protocol level 4) only: without an explicit version,
		// paho retries a failed CONNECT as MQTT 3.1 over a second
		// connection and handshake, doubling the load on a server that
		// is already failing.
		SetProtocolVersion(mqttProtocolLevel).
		// Handlers run in goroutines of their own instead of one ordered
		// queue, and nothing is persisted: a clean session never resumes.
		SetOrderMatters(false).
		SetStore(nopStore{})
	switch {
	case cfg.KeepAlive < 0:
		opts.SetKeepAlive(0)
	case cfg.KeepAlive > 0:
		opts.SetKeepAlive(cfg.KeepAlive)
	}
	if cfg.OnConnectionLost != nil {
		opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) { cfg.OnConnectionLost(err) })
	}
	var handshakeErr error
	opts.SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
		hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
		defer cancel()
		conn, err := open(hctx, cfg)
		handshakeErr = err
		return conn, err
	})
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		c.Disconnect(0)
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		if handshakeErr != nil {
			return nil, handshakeErr
		}
		return nil, fmt.Errorf("simulator: mqtt connect: %w", err)
	}
	if !c.IsConnectionOpen() {
		return nil, errors.New("simulator: mqtt connect: connection not open")
	}
	return c, nil
}

// open dials cfg.Addr from cfg.LocalAddr and runs the device's handshake.
func open(ctx context.Context, cfg ClientConfig) (net.Conn, error) {
	profile := PlainMQTT
	if cfg.Device != nil {
		profile = cfg.Device.Profile()
	}
	t := cfg.Timings
	if t == nil {
		t = new(ConnectTimings)
	}
	*t = ConnectTimings{DialStart: time.Now()}
	d := net.Dialer{}
	if cfg.LocalAddr != nil {
		d.LocalAddr = cfg.LocalAddr
	}
	raw, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, handshake.Fail(profile, handshake.StageDial, dialReason(err), err)
	}
	t.Dialed = time.Now()
	conn := raw
	if cfg.WrapConn != nil {
		conn = cfg.WrapConn(raw)
	}
	if cfg.Device == nil {
		t.Handshaken = t.Dialed
		return conn, nil
	}
	sess, err := cfg.Device.Handshake(ctx, conn)
	if err != nil {
		raw.Close()
		return nil, err
	}
	t.Handshaken = time.Now()
	return sess, nil
}

// nopStore is a paho Store that keeps nothing: a clean session without
// automatic reconnects never reads its store back.
type nopStore struct{}

func (nopStore) Open()                             {}
func (nopStore) Put(string, packets.ControlPacket) {}
func (nopStore) Get(string) packets.ControlPacket  { return nil }
func (nopStore) All() []string                     { return nil }
func (nopStore) Del(string)                        {}
func (nopStore) Close()                            {}
func (nopStore) Reset()                            {}
