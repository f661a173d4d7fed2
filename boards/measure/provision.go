package measure

import (
	"fmt"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
	bp "shakedown/harness/boardproto"
)

// BoardOptions are the provisioning choices of a board acting as a fixture
// device of profile p: for tls the broker certificate's SPKI pin (RFC 7469
// §2.4), since the board protocol provisions no trust anchor and no clock.
func BoardOptions(p handshake.Name) fixtures.ProvisionOptions {
	return fixtures.ProvisionOptions{Profile: p, TLSMode: tlsprofile.SPKI}
}

// Provisioning returns what a board is provisioned with to act as device d
// of set (BoardOptions): its ID and private key (for tls the seed of its
// client certificate's Ed25519 key: the board presents a certificate for
// it), and what it pins of the server (the noise server's static key; for
// tls the broker certificate's SPKI). A seed device also gets its curve.
func Provisioning(set *fixtures.Set, d fixtures.Device) (bp.Provision, error) {
	id, err := fixtures.ProvisionDevice(set, d, BoardOptions(d.Profile))
	if err != nil {
		return bp.Provision{}, fmt.Errorf("measure: %w", err)
	}
	return ProvisionOf(id)
}

// ProvisionOf returns identity id as the board protocol's PROVISION
// carries it: the profile, ID, key, curve, pinned noise server keys,
// pattern, tls mode, pin and server name, and a fresh random seed for the
// board's generator (bp.NewRNGSeed): an image flashed on many boards
// must not give them one stream of ephemeral keys. The message-1 counter
// and Erase are the caller's: a board keeps its own counter unless told.
func ProvisionOf(id fixtures.Identity) (bp.Provision, error) {
	seed, err := bp.NewRNGSeed()
	if err != nil {
		return bp.Provision{}, fmt.Errorf("measure: %w", err)
	}
	p := bp.Provision{Profile: id.Profile, DeviceID: id.DeviceID, DeviceKey: id.DeviceKey,
		ServerKey: id.ServerKey, ServerKeyNext: id.ServerKeyNext, TLSPin: id.TLSPin, ServerName: id.ServerName,
		RNGSeed: seed}
	var ok bool
	switch {
	case id.SkipPointCheck:
		return bp.Provision{}, fmt.Errorf("measure: device %q skips point validation: a board runs its firmware's own check", id.DeviceID)
	case id.Curve != "":
		if p.Curve, ok = bp.ParseCurve(string(id.Curve)); !ok {
			return bp.Provision{}, fmt.Errorf("measure: device %q: the board protocol names no curve %q", id.DeviceID, id.Curve)
		}
	case id.NoisePattern != "":
		if p.NoisePattern, ok = bp.ParseNoisePattern(string(id.NoisePattern)); !ok {
			return bp.Provision{}, fmt.Errorf("measure: device %q: the board protocol names no noise pattern %q", id.DeviceID, id.NoisePattern)
		}
	case id.TLSMode != "":
		if p.TLSVerify, ok = bp.ParseTLSVerify(string(id.TLSMode)); !ok {
			return bp.Provision{}, fmt.Errorf("measure: device %q: the board protocol names no tls mode %q", id.DeviceID, id.TLSMode)
		}
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
