package virtual

import (
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"time"

	flynn "github.com/flynn/noise"
	"golang.org/x/crypto/curve25519"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/handshake/tlsprofile"
	bp "shakedown/harness/boardproto"
)

// Identity is what a board holds for one profile after PROVISION.
type Identity struct {
	Profile       handshake.Name
	DeviceID      string
	DeviceKey     []byte
	ServerKey     []byte
	ServerKeyNext []byte
	Curve         bp.Curve
	TLSVerify     bp.TLSVerify
	TLSPin        []byte
	ServerName    string
	NoisePattern  bp.NoisePattern

	// NextCounter hands out the persistent message-1 counter (noise).
	NextCounter func() (uint64, error)
	// SavePins stores server keys learned from an authenticated announcement.
	SavePins func(current, next []byte)
	// TLSRoots and BuildTime serve the tls profile's ca modes.
	TLSRoots  *x509.CertPool
	BuildTime time.Time
}

// DeviceFactory builds the device side of a profile from an identity.
type DeviceFactory func(Identity) (handshake.Device, error)

// DefaultDevices returns factories for every profile, through the
// profile packages of shakedown/handshake.
func DefaultDevices() map[handshake.Name]DeviceFactory {
	return map[handshake.Name]DeviceFactory{
		handshake.Noise: NoiseDevice,
		handshake.Seed:  SeedDevice,
		handshake.PSK:   PSKDevice,
		handshake.TLS:   TLSDevice,
	}
}

var errIncomplete = errors.New("virtual: the identity lacks a field this profile needs")

// NoiseDevice builds a noise device: the X25519 static key from DeviceKey,
// the pinned server keys, the persistent counter.
func NoiseDevice(id Identity) (handshake.Device, error) {
	if len(id.DeviceKey) != curve25519.ScalarSize || id.ServerKey == nil || id.NextCounter == nil {
		return nil, errIncomplete
	}
	pub, err := curve25519.X25519(id.DeviceKey, curve25519.Basepoint)
	if err != nil {
		return nil, err
	}
	pins, err := noise.NewPins(id.ServerKey, id.ServerKeyNext)
	if err != nil {
		return nil, err
	}
	if id.SavePins != nil {
		pins.OnChange(func(a noise.Announcement) { id.SavePins(a.Current, a.Next) })
	}
	pattern := map[bp.NoisePattern]noise.Pattern{0: noise.IK, bp.NoiseIK: noise.IK, bp.NoiseXK: noise.XK, bp.NoiseKK: noise.KK}[id.NoisePattern]
	return noise.NewDevice(noise.DeviceConfig{Pattern: pattern,
		Static: flynn.DHKey{Private: id.DeviceKey, Public: pub},
		Pins:   pins, Counter: counterFunc(id.NextCounter), DeviceID: id.DeviceID})
}

type counterFunc func() (uint64, error)

func (f counterFunc) Next() (uint64, error) { return f() }

// SeedDevice builds a seed device on P-256 or secp160r1.
func SeedDevice(id Identity) (handshake.Device, error) {
	curve := map[bp.Curve]seed.Curve{bp.CurveP256: seed.P256, bp.CurveSecp160r1: seed.Secp160r1}[id.Curve]
	if curve == "" || id.DeviceID == "" || id.DeviceKey == nil {
		return nil, errIncomplete
	}
	return seed.NewDevice(seed.DeviceConfig{DeviceID: id.DeviceID, Curve: curve, Private: id.DeviceKey})
}

// PSKDevice builds a psk device.
func PSKDevice(id Identity) (handshake.Device, error) {
	if id.DeviceID == "" || id.DeviceKey == nil {
		return nil, errIncomplete
	}
	return psk.NewDevice(psk.DeviceConfig{DeviceID: id.DeviceID, Key: id.DeviceKey})
}

// certNotBefore is the notBefore of a board's self-made client
// certificate: a board has no clock to date it by, and the reference server
// pins the key and checks no date.
var certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// TLSDevice builds a tls device in the provisioned verification mode. With
// a device key (the Ed25519 seed) and ID it presents a self-signed
// certificate for them (mutual TLS): the registry pins the key, so the
// certificate the fixtures issued and this one are the same credential.
// Without a key it presents none and logs in with its MQTT password.
func TLSDevice(id Identity) (handshake.Device, error) {
	mode := map[bp.TLSVerify]tlsprofile.Mode{bp.TLSVerifyNone: tlsprofile.None,
		bp.TLSVerifyFingerprint: tlsprofile.Fingerprint, bp.TLSVerifySPKI: tlsprofile.SPKI,
		bp.TLSVerifyCA: tlsprofile.CA, bp.TLSVerifyCANoClock: tlsprofile.CANoClock}[id.TLSVerify]
	if mode == "" {
		return nil, errIncomplete
	}
	cfg := tlsprofile.DeviceConfig{Mode: mode, ServerName: id.ServerName,
		Pin: id.TLSPin, Roots: id.TLSRoots, BuildTime: id.BuildTime}
	if id.DeviceKey != nil {
		if len(id.DeviceKey) != ed25519.SeedSize || id.DeviceID == "" {
			return nil, errIncomplete
		}
		cert, err := tlsprofile.DeviceCertificate(id.DeviceID, ed25519.NewKeyFromSeed(id.DeviceKey), certNotBefore, nil, nil)
		if err != nil {
			return nil, err
		}
		cfg.Certificate = &cert
	}
	return tlsprofile.NewDevice(cfg)
}
