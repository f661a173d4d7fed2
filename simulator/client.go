package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"shakedown/handshake"
)

// ClientConfig describes one simulated device's MQTT client.
type ClientConfig struct {
	Device   handshake.Device // nil: plain MQTT over TCP (a baseline)
	Addr     string           // host:port of the listener
	ClientID string
	Username string // tls profile: the device ID
	Password string // tls profile: the device's MQTT password
	// HandshakeTimeout bounds each connection's handshake (default 10 s).
	HandshakeTimeout time.Duration
	// OnConnectionLost is called when an established connection drops.
	OnConnectionLost func(error)
}

// Connect opens an MQTT session over a handshake conn and waits for CONNACK.
// Automatic reconnects are off: the caller decides what a lost session means.
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
		SetOrderMatters(false)
	if cfg.OnConnectionLost != nil {
		opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) { cfg.OnConnectionLost(err) })
	}
	var handshakeErr error
	opts.SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
		hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
		defer cancel()
		if cfg.Device == nil {
			var d net.Dialer
			return d.DialContext(hctx, "tcp", cfg.Addr)
		}
		conn, err := handshake.Dial(hctx, cfg.Device, "tcp", cfg.Addr)
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
