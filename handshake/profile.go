package handshake

import (
	"context"
	"errors"
	"net"
	"time"
)

// Name names a protocol profile. Names are part of the registry and the CLI.
type Name string

// The four profiles of shakedown.
const (
	Noise Name = "noise" // Noise_IK_25519_ChaChaPoly_SHA256 (recommended)
	Seed  Name = "seed"  // the seed discussion's ECDH design: insecure, for reproduction
	PSK   Name = "psk"   // the seed discussion's pre-shared key design: insecure, for reproduction
	TLS   Name = "tls"   // MQTT over TLS 1.3 with the device's verification mode
)

// Profiles lists every profile in a stable order.
var Profiles = []Name{Noise, Seed, PSK, TLS}

// ParseName returns the profile named s.
func ParseName(s string) (Name, error) {
	for _, n := range Profiles {
		if string(n) == s {
			return n, nil
		}
	}
	return "", errors.New("handshake: unknown profile (want noise, seed, psk or tls)")
}

// Insecure reports whether the profile is kept only to reproduce its weaknesses.
func (n Name) Insecure() bool { return n == Seed || n == PSK }

// Identity is what the server side learned about its peer.
type Identity struct {
	Profile  Name
	DeviceID string // authenticated device ID; empty for a tls device without a client certificate, which its MQTT CONNECT credentials identify
	// Counter is the accepted message-1 counter (noise only).
	Counter uint64
}

// Device is the device side of a profile.
type Device interface {
	Profile() Name
	// Handshake runs the device side over conn. On success the returned conn
	// carries application bytes; on failure conn is left for the caller to close.
	Handshake(ctx context.Context, conn net.Conn) (net.Conn, error)
}

// Server is the server side of a profile.
type Server interface {
	Profile() Name
	// Handshake runs the server side over conn and returns the application conn
	// and the peer's identity. On failure conn is left for the caller to close.
	Handshake(ctx context.Context, conn net.Conn) (net.Conn, Identity, error)
}

// Dial connects to addr and runs the device side of d over the new connection.
func Dial(ctx context.Context, d Device, network, addr string) (net.Conn, error) {
	var dialer net.Dialer
	raw, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &Error{Profile: d.Profile(), Stage: StageDial, Reason: ReasonIO, Err: err}
	}
	conn, err := d.Handshake(ctx, raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// Bound applies ctx to conn for the length of a handshake: the context's
// deadline becomes the conn's deadline, and cancelling ctx unblocks pending
// I/O. The returned function clears both; call it when the handshake ends.
func Bound(ctx context.Context, conn net.Conn) (release func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() {
		// A deadline in the past wakes every blocked Read and Write.
		conn.SetDeadline(time.Unix(1, 0))
	})
	return func() {
		if stop() || ctx.Err() == nil {
			conn.SetDeadline(time.Time{})
		}
	}
}

// DeviceRecord is a registered device as the server side of a profile sees it.
type DeviceRecord struct {
	ID      string
	Profile Name
	// Curve names the seed profile's curve ("p256" or "secp160r1").
	Curve string
	// Key is the profile's key material: the device's X25519 static public
	// key (noise), the device's "public" EC point, uncompressed (seed), or
	// the 32-byte pre-shared key (psk).
	Key     []byte
	Revoked bool
}

// Directory finds registered devices. Implementations return an error that
// wraps ErrUnknownDevice when there is no such device.
type Directory interface {
	DeviceByID(ctx context.Context, id string) (DeviceRecord, error)
	// DeviceByKey finds a device by its static public key (noise).
	DeviceByKey(ctx context.Context, profile Name, key []byte) (DeviceRecord, error)
}

// CounterStore holds the last accepted message-1 counter of each device.
type CounterStore interface {
	// AcceptCounter durably records counter for the device when it is greater
	// than the last one recorded, and otherwise returns an error wrapping
	// ErrCounterReplay. It must be atomic per device.
	AcceptCounter(ctx context.Context, deviceID string, counter uint64) error
}

// Sentinels that Directory and CounterStore implementations return (wrapped).
var (
	ErrUnknownDevice = errors.New("unknown device")
	ErrCounterReplay = errors.New("counter not greater than the last accepted")
)

// CheckRecord refuses a record that is revoked or registered for another profile.
func CheckRecord(rec DeviceRecord, want Name) Reason {
	switch {
	case rec.Revoked:
		return ReasonRevoked
	case rec.Profile != want:
		return ReasonWrongProfile
	}
	return ""
}
