package tlsprofile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/clock"
)

// DeviceConfig configures the device side.
type DeviceConfig struct {
	Mode Mode
	// ServerName is sent as SNI (RFC 6066 §3) and, in the ca modes, must be
	// a name of the certificate. Required for ca and ca-noclock.
	ServerName string
	// Pin is the fingerprint (SHA-1, 20 bytes, or SHA-256, 32 bytes, of the
	// leaf's DER) or the spki pin (SHA-256 of its SubjectPublicKeyInfo).
	Pin []byte
	// Roots are the trusted CAs of the ca modes.
	Roots *x509.CertPool
	// BuildTime is the clock of a ca-noclock device: its firmware's date.
	BuildTime time.Time
	// Now is the device's clock in ca mode; time.Now when nil.
	Now func() time.Time
	// Clock is the time server of the ca-ntp and ca-roughtime modes: the
	// device asks it before each handshake (SyncClock) and checks the
	// chain at the time it answered. Required for those modes.
	Clock clock.Source
	// Certificate is the device's client certificate and key (mutual TLS),
	// presented when the server asks for one. nil: the device presents
	// none and proves itself with its MQTT password.
	Certificate *tls.Certificate
}

// Device is the device side of the tls profile, safe for concurrent use.
type Device struct {
	mode  Mode
	cfg   *tls.Config
	v     verifier
	clock clock.Source
	// synced is the time SyncClock read, for the next handshake; last is
	// the time the last handshake checked the chain at.
	synced, last atomic.Pointer[reading]
}

// reading is a network clock's answer and the local instant it came.
type reading struct {
	time time.Time
	at   time.Time
}

// now returns the reading moved on by the local time since it came.
func (r *reading) now() time.Time { return r.time.Add(time.Since(r.at)) }

var _ handshake.Device = (*Device)(nil)

// NewDevice checks cfg and returns a device.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	if err := checkDeviceConfig(cfg); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	v := &verifier{
		mode: cfg.Mode, pin: append([]byte(nil), cfg.Pin...), roots: cfg.Roots,
		serverName: cfg.ServerName, buildTime: cfg.BuildTime, now: now,
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		ServerName: cfg.ServerName,
		// The mode's check replaces crypto/tls's: VerifyConnection runs
		// for every handshake when the Certificate message arrives;
		// crypto/tls then checks CertificateVerify and Finished.
		InsecureSkipVerify: true,
		VerifyConnection:   v.verify,
		Time:               now,
	}
	if cfg.Certificate != nil {
		tc.Certificates = []tls.Certificate{*cfg.Certificate}
	}
	return &Device{mode: cfg.Mode, cfg: tc, v: *v, clock: cfg.Clock}, nil
}

func checkDeviceConfig(cfg DeviceConfig) error {
	switch cfg.Mode {
	case Fingerprint:
		if len(cfg.Pin) != SHA1PinLen && len(cfg.Pin) != SHA256PinLen {
			return errors.New("tlsprofile: a fingerprint pin is 20 (SHA-1) or 32 (SHA-256) bytes")
		}
	case SPKI:
		if len(cfg.Pin) != SHA256PinLen {
			return errors.New("tlsprofile: an spki pin is 32 bytes (SHA-256)")
		}
	case CA, CANoClock:
		if cfg.Roots == nil {
			return errors.New("tlsprofile: the ca modes need roots")
		}
		if cfg.ServerName == "" {
			return errors.New("tlsprofile: the ca modes need a server name")
		}
		if cfg.Mode == CANoClock && cfg.BuildTime.IsZero() {
			return errors.New("tlsprofile: ca-noclock needs the device's build time")
		}
	case CANTP, CARoughtime:
		if cfg.Roots == nil || cfg.ServerName == "" {
			return errors.New("tlsprofile: the ca modes need roots and a server name")
		}
		if cfg.Clock == nil {
			return errors.New("tlsprofile: ca-ntp and ca-roughtime need a time server (Clock)")
		}
	}
	if c := cfg.Certificate; c != nil && (len(c.Certificate) == 0 || c.PrivateKey == nil) {
		return errors.New("tlsprofile: a client certificate needs its key")
	}
	return nil
}

// Profile returns handshake.TLS.
func (d *Device) Profile() handshake.Name { return handshake.TLS }

// Mode returns the device's verification mode.
func (d *Device) Mode() Mode { return d.mode }

// Handshake runs a TLS 1.3 client handshake over conn and returns the
// *tls.Conn. A certificate the mode rejects fails with reason
// cert_rejected at stage msg2 (the server's flight).
func (d *Device) Handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	cfg := d.cfg
	if d.mode.NetworkClock() {
		r := d.synced.Swap(nil)
		if r == nil {
			if err := d.SyncClock(ctx); err != nil {
				return nil, err
			}
			r = d.synced.Swap(nil)
		}
		d.last.Store(r)
		cfg = d.cfg.Clone()
		v := d.v
		v.now = r.now
		cfg.VerifyConnection, cfg.Time = v.verify, r.now
	}
	release := handshake.Bound(ctx, conn)
	defer release()
	fc := &flightConn{Conn: conn}
	tc := tls.Client(fc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		// -> ClientHello; <- ServerHello … Finished
		st := handshake.StageMsg2
		if fc.written.Load() == 0 {
			st = handshake.StageMsg1
		}
		return nil, fail(st, err)
	}
	return tc, nil
}

// SyncClock asks the device's time server, as a device does before it
// dials, and keeps the answer for the next Handshake (which asks itself
// when SyncClock did not run). Without an answer, or with one that fails
// its check, the device fails closed: ReasonTimeUnavailable or
// ReasonTimeRejected at StageClock. Modes without a network clock do
// nothing.
func (d *Device) SyncClock(ctx context.Context) error {
	if !d.mode.NetworkClock() {
		return nil
	}
	t, err := d.clock.Time(ctx)
	if err != nil {
		reason := handshake.ReasonTimeRejected
		if errors.Is(err, clock.ErrUnavailable) {
			reason = handshake.ReasonTimeUnavailable
		}
		return handshake.Fail(handshake.TLS, handshake.StageClock, reason, fmt.Errorf("tlsprofile: asking the %s server: %w", d.clock.Protocol(), err))
	}
	d.synced.Store(&reading{time: t, at: time.Now()})
	return nil
}

// ClockReading returns the time the last handshake of a ca-ntp or
// ca-roughtime device checked the chain at, as its time server answered.
func (d *Device) ClockReading() (time.Time, bool) {
	r := d.last.Load()
	if r == nil {
		return time.Time{}, false
	}
	return r.time, true
}
