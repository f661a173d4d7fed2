package psk

import (
	"context"
	"net"

	"shakedown/handshake"
)

type handshakeConn = net.Conn

// DeviceConfig configures the device side.
type DeviceConfig struct {
	DeviceID string // 1-64 characters [A-Za-z0-9._-], sent in plaintext
	Key      []byte // the 32-byte pre-shared key
}

// Device is the device side of the psk profile. It is safe for concurrent
// use; every session gets its own record state.
type Device struct {
	id   string
	key  []byte
	msg1 []byte
}

// NewDevice checks cfg and returns a device.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	if !validID([]byte(cfg.DeviceID)) {
		return nil, errBadDeviceID
	}
	if len(cfg.Key) != KeyLen {
		return nil, errBadKeyLength
	}
	return &Device{
		id:   cfg.DeviceID,
		key:  append([]byte(nil), cfg.Key...),
		msg1: appendMsg1(nil, cfg.DeviceID),
	}, nil
}

var _ handshake.Device = (*Device)(nil)

// Profile returns handshake.PSK.
func (d *Device) Profile() handshake.Name { return handshake.PSK }

// Handshake sends msg1 over conn and returns the session. Nothing is read:
// the server does not answer, so a device cannot tell whether it talks to
// the server until the server's first record opens.
func (d *Device) Handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	// -> version, idlen, id
	if err := handshake.WriteFrame(conn, d.msg1); err != nil {
		return nil, handshake.Fail(handshake.PSK, handshake.StageMsg1, "", err)
	}
	s, err := session(conn, d.key, d.id, deviceSide)
	if err != nil {
		return nil, handshake.Fail(handshake.PSK, handshake.StageMsg1, handshake.ReasonInternal, err)
	}
	return s, nil
}
