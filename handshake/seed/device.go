package seed

import (
	"context"
	"errors"
	"io"
	"net"

	"shakedown/handshake"
)

// DeviceConfig configures the device side.
type DeviceConfig struct {
	DeviceID string // 1..64 bytes of [A-Za-z0-9._-], sent in plaintext
	Curve    Curve
	Private  []byte // the device's static private key, Curve.PrivateLen bytes
	// SkipPointCheck makes the VULNERABLE device of the invalid-curve attack:
	// it multiplies whatever point msg2 holds with the generic arithmetic,
	// without validation, and takes an all-zero secret when the product is
	// infinity. See InvalidCurvePoint. Never set it outside the MITM lab.
	SkipPointCheck bool
	// Random is accepted for symmetry with the other profiles and never read:
	// the seed's device contributes no randomness, which is why its msg1 and
	// its side of a session replay.
	Random io.Reader
}

// Device is the device side of the seed profile. It is safe for concurrent
// handshakes.
type Device struct {
	cfg  DeviceConfig
	msg1 []byte
}

var _ handshake.Device = (*Device)(nil)

var errDeviceID = errors.New("seed: device ID must be 1..64 bytes of [A-Za-z0-9._-]")

// NewDevice checks cfg and returns a device.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	if !ValidID(cfg.DeviceID) {
		return nil, errDeviceID
	}
	if _, err := PublicKey(cfg.Curve, cfg.Private); err != nil {
		return nil, err
	}
	cfg.Private = append([]byte(nil), cfg.Private...)
	return &Device{cfg: cfg, msg1: appendMsg1(nil, cfg.Curve, cfg.DeviceID)}, nil
}

// Profile returns handshake.Seed.
func (d *Device) Profile() handshake.Name { return handshake.Seed }

// Handshake runs the device side: send msg1, receive msg2, derive the keys.
// The device cannot tell the real server from anyone else: whoever answers
// with a point whose product with the device key they can compute gets a
// session.
func (d *Device) Handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	release := handshake.Bound(ctx, conn)
	defer release()

	// -> id (plaintext)
	if err := handshake.WriteFrame(conn, d.msg1); err != nil {
		return nil, handshake.Fail(handshake.Seed, handshake.StageMsg1, handshake.FrameReason(err), err)
	}
	// <- E (unauthenticated)
	msg2, err := handshake.ReadFrame(conn, make([]byte, 0, d.cfg.Curve.PointLen()), d.cfg.Curve.PointLen())
	if err != nil {
		return nil, handshake.Fail(handshake.Seed, handshake.StageMsg2, handshake.FrameReason(err), err)
	}
	shared, err := d.agree(msg2)
	if err != nil {
		return nil, err
	}
	// shared = x(d·E)
	sess, err := NewSession(conn, shared, d.cfg.DeviceID, DeviceSide)
	if err != nil {
		return nil, handshake.Fail(handshake.Seed, handshake.StageMsg2, handshake.ReasonInternal, err)
	}
	return sess, nil
}

// agree validates msg2 (unless SkipPointCheck) and computes the shared secret.
func (d *Device) agree(msg2 []byte) ([]byte, error) {
	c := d.cfg.Curve
	isIdentity := len(msg2) == 1 && msg2[0] == identityPrefix
	if !isIdentity && len(msg2) < c.PointLen() {
		return nil, handshake.Fail(handshake.Seed, handshake.StageMsg2, handshake.ReasonShortFrame, errMsg2Short)
	}
	ecdh := ECDH
	if d.cfg.SkipPointCheck {
		ecdh = UncheckedECDH
	}
	shared, err := ecdh(c, d.cfg.Private, msg2)
	if err != nil {
		return nil, handshake.Fail(handshake.Seed, handshake.StageMsg2, handshake.ReasonBadPoint, err)
	}
	return shared, nil
}
