package simulator

import (
	"crypto/sha256"
	"fmt"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/handshake/tlsprofile"
)

// DeviceOptions are the per-device choices that a fixture set leaves open.
type DeviceOptions struct {
	NoisePattern noise.Pattern
	Counter      noise.Counter // noise: the device's counter; a fresh MemCounter when nil
	Pins         *noise.Pins   // noise: the pinned server keys; the set's current key when nil
	TLSMode      tlsprofile.Mode
	TLSPin       []byte    // fingerprint or spki pin; derived from the set's broker certificate when nil
	BuildTime    time.Time // ca-noclock: the device's clock
	// TLSPassword makes a tls device prove itself with its MQTT password
	// instead of its client certificate (mutual TLS, the default).
	TLSPassword bool
}

// NewDevice returns the device side of a fixture device, and the MQTT
// username and password it presents (a tls device with TLSPassword only;
// by default a tls device presents its client certificate).
func NewDevice(set *fixtures.Set, d fixtures.Device, o DeviceOptions) (dev handshake.Device, user, pass string, err error) {
	switch d.Profile {
	case handshake.Noise:
		pins := o.Pins
		if pins == nil {
			if pins, err = noise.NewPins(set.NoiseCurrent.Public); err != nil {
				return nil, "", "", err
			}
		}
		ctr := o.Counter
		if ctr == nil {
			ctr = noise.NewMemCounter(uint64(time.Now().UnixNano()))
		}
		dev, err = noise.NewDevice(noise.DeviceConfig{Pattern: o.NoisePattern, Static: d.Keypair(), Pins: pins, Counter: ctr, DeviceID: d.ID})
	case handshake.Seed:
		dev, err = seed.NewDevice(seed.DeviceConfig{DeviceID: d.ID, Curve: seed.Curve(d.Curve), Private: d.Private})
	case handshake.PSK:
		dev, err = psk.NewDevice(psk.DeviceConfig{DeviceID: d.ID, Key: d.Private})
	case handshake.TLS:
		mode := o.TLSMode
		if mode == "" {
			mode = tlsprofile.CA
		}
		pin := o.TLSPin
		if pin == nil {
			switch mode {
			case tlsprofile.Fingerprint:
				h := sha256.Sum256(set.Broker.Leaf.Raw)
				pin = h[:]
			case tlsprofile.SPKI:
				h := sha256.Sum256(set.Broker.Leaf.RawSubjectPublicKeyInfo)
				pin = h[:]
			}
		}
		build := o.BuildTime
		if build.IsZero() {
			build = set.Now.AddDate(0, 0, -200)
		}
		cfg := tlsprofile.DeviceConfig{Mode: mode, ServerName: set.ServerName, Pin: pin, Roots: set.Roots, BuildTime: build}
		if o.TLSPassword {
			user, pass = d.ID, d.Password()
		} else {
			cfg.Certificate = &d.Certificate
		}
		dev, err = tlsprofile.NewDevice(cfg)
	default:
		err = fmt.Errorf("simulator: device %s has unknown profile %q", d.ID, string(d.Profile))
	}
	return dev, user, pass, err
}
