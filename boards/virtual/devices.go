package virtual

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/clock"
	"shakedown/handshake/noise"
	"shakedown/handshake/seed"
	"shakedown/handshake/tlsprofile"
	bp "shakedown/harness/boardproto"
)

// DeviceFactory builds the device side of a profile from the identity the
// board holds for it after PROVISION.
type DeviceFactory func(fixtures.Identity) (handshake.Device, error)

// DefaultDevices returns a factory for every profile: Device.
func DefaultDevices() map[handshake.Name]DeviceFactory {
	return map[handshake.Name]DeviceFactory{
		handshake.Noise: Device,
		handshake.Seed:  Device,
		handshake.PSK:   Device,
		handshake.TLS:   Device,
	}
}

// Device builds the device side of id's profile through the profile
// packages of shakedown/handshake, as a Go device of a fixture set is built
// (fixtures.Identity.NewDevice).
func Device(id fixtures.Identity) (handshake.Device, error) { return id.NewDevice() }

var errIncomplete = errors.New("virtual: the identity lacks a field its profile needs")

// clockSyncer is a device that asks its time server before it sends a
// byte (tlsprofile's ca-ntp and ca-roughtime devices).
type clockSyncer interface {
	SyncClock(ctx context.Context) error
}

// source returns the board's time server for mode m; nil when it has none
// (the device then refuses to be built, as a board without the mode).
func (c Clocks) source(m tlsprofile.Mode) clock.Source {
	switch {
	case m == tlsprofile.CANTP && c.NTP != "":
		return clock.NewSNTP(c.NTP)
	case m == tlsprofile.CARoughtime && c.Roughtime != "" && len(c.RoughtimeKey) == ed25519.PublicKeySize:
		return clock.NewRoughtime(c.Roughtime, c.RoughtimeKey)
	}
	return nil
}

// certNotBefore is the notBefore of a board's self-made client
// certificate: a board has no clock to date it by, and the reference server
// pins the key and checks no date.
var certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// identityOf is what the board stores for a profile, p, as its device side
// takes it: the board protocol's codes in the profiles' words, and the CA
// and clock the board was built with (roots, build; the board protocol
// provisions neither). A tls identity with a device key (the Ed25519 seed)
// and ID presents a self-signed certificate for them (mutual TLS): the
// registry pins the key, so the certificate the fixtures issued and this
// one are the same credential. Without a key it presents none and logs in
// with its MQTT password. The noise counter and pins are the caller's.
func identityOf(p bp.Provision, roots *x509.CertPool, build time.Time, clocks Clocks) (fixtures.Identity, error) {
	id := fixtures.Identity{Profile: p.Profile, DeviceID: p.DeviceID, DeviceKey: p.DeviceKey,
		ServerKey: p.ServerKey, ServerKeyNext: p.ServerKeyNext, TLSPin: p.TLSPin, ServerName: p.ServerName}
	switch p.Profile {
	case handshake.Noise:
		if p.NoisePattern != 0 {
			id.NoisePattern = noise.Pattern(p.NoisePattern.String())
		}
	case handshake.Seed:
		id.Curve = seed.Curve(p.Curve.String())
	case handshake.TLS:
		id.TLSMode, id.Roots, id.BuildTime = tlsprofile.Mode(p.TLSVerify.String()), roots, build
		id.Clock = clocks.source(id.TLSMode)
		if p.DeviceKey == nil {
			break
		}
		if len(p.DeviceKey) != ed25519.SeedSize || p.DeviceID == "" {
			return id, errIncomplete
		}
		cert, err := tlsprofile.DeviceCertificate(p.DeviceID, ed25519.NewKeyFromSeed(p.DeviceKey), certNotBefore, nil, nil)
		if err != nil {
			return id, err
		}
		id.Certificate = &cert
	}
	return id, nil
}
