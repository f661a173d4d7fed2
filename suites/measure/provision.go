package measure

import (
	"crypto/sha256"
	"fmt"

	"shakedown/fixtures"
	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// Provisioning returns what a board is provisioned with to act as device d
// of set: its ID and private key (for tls the seed of its client
// certificate's Ed25519 key: the board presents a certificate for it), and
// what it pins of the server (the noise server's static key; for tls the
// broker certificate's SPKI, RFC 7469 §2.4). A seed device also gets its
// curve.
func Provisioning(set *fixtures.Set, d fixtures.Device) (bp.Provision, error) {
	p := bp.Provision{Profile: d.Profile, DeviceID: d.ID}
	switch d.Profile {
	case handshake.Noise:
		p.DeviceKey, p.ServerKey = d.Private, set.NoiseCurrent.Public
	case handshake.Seed:
		cv, ok := bp.ParseCurve(d.Curve)
		if !ok {
			return bp.Provision{}, fmt.Errorf("measure: device %s: unknown curve %q", d.ID, d.Curve)
		}
		p.DeviceKey, p.Curve = d.Private, cv
	case handshake.PSK:
		p.DeviceKey = d.Private
	case handshake.TLS:
		spki := sha256.Sum256(set.Broker.Leaf.RawSubjectPublicKeyInfo)
		p.DeviceKey, p.TLSVerify, p.TLSPin, p.ServerName = d.Private, bp.TLSVerifySPKI, spki[:], set.ServerName
	default:
		return bp.Provision{}, fmt.Errorf("measure: device %s: unknown profile %q", d.ID, d.Profile)
	}
	return p, nil
}

// DeviceFor returns the device of set whose identity a board takes for
// profile p (and, for seed, curve: "" takes the first): fromEnd counts from
// the end of the profile's devices (1 is the last), so callers that share a
// fixture set with a fleet can keep to identities no fleet uses.
func DeviceFor(set *fixtures.Set, p handshake.Name, curve string, fromEnd int) (fixtures.Device, error) {
	var ds []fixtures.Device
	for _, d := range set.DevicesOf(p) {
		if curve == "" || d.Curve == curve {
			ds = append(ds, d)
		}
	}
	if fromEnd < 1 || fromEnd > len(ds) {
		return fixtures.Device{}, fmt.Errorf("measure: the fixture set has %d %s devices%s, not %d", len(ds), p, curveNote(curve), fromEnd)
	}
	return ds[len(ds)-fromEnd], nil
}

func curveNote(c string) string {
	if c == "" {
		return ""
	}
	return " on " + c
}
