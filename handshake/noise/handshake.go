package noise

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/flynn/noise"

	"shakedown/handshake"
)

type handshakeConn = net.Conn

// DeviceConfig configures the device side.
type DeviceConfig struct {
	Pattern  Pattern     // IK when empty
	Static   noise.DHKey // the device's static X25519 keypair
	Pins     *Pins       // the pinned server keys; announcements update it
	Counter  Counter     // the device's persistent message-1 counter
	DeviceID string      // KK only: sent in the hello frame
	Random   io.Reader   // ephemeral keys; crypto/rand when nil (tests pass a fixed stream)
}

// Device is the device side of the noise profile.
type Device struct {
	cfg     DeviceConfig
	pattern noise.HandshakePattern
}

// NewDevice checks cfg and returns a device.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	hp, err := cfg.Pattern.handshakePattern()
	if err != nil {
		return nil, err
	}
	if cfg.Pattern == "" {
		cfg.Pattern = IK
	}
	switch {
	case len(cfg.Static.Private) != KeyLen || len(cfg.Static.Public) != KeyLen:
		return nil, errors.New("noise: device static keypair missing")
	case cfg.Pins == nil:
		return nil, errors.New("noise: no pinned server key")
	case cfg.Counter == nil:
		return nil, errors.New("noise: no message-1 counter")
	case cfg.Pattern == KK && (!handshake.ValidDeviceID(cfg.DeviceID) || len(cfg.DeviceID) > MaxDeviceIDLen):
		return nil, errors.New("noise: KK needs a device ID of 1 to 64 letters, digits, '.', '_', '-' or ':'")
	}
	return &Device{cfg: cfg, pattern: hp}, nil
}

// Profile returns handshake.Noise.
func (d *Device) Profile() handshake.Name { return handshake.Noise }

// Handshake runs the device side over conn.
func (d *Device) Handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	c, err := d.handshake(conn)
	if err != nil {
		if ctx.Err() != nil && err.Reason == handshake.ReasonIO {
			err.Reason = handshake.ReasonTimeout
		}
		return nil, err
	}
	return c, nil
}

func (d *Device) handshake(conn net.Conn) (net.Conn, *handshake.Error) {
	prologue := Prologue
	if d.cfg.Pattern == KK {
		prologue = kkPrologue(d.cfg.DeviceID)
		if err := handshake.WriteFrame(conn, AppendHello(nil, d.cfg.DeviceID)); err != nil {
			return nil, fail(handshake.StageHello, "", err)
		}
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   CipherSuite,
		Random:        d.cfg.Random,
		Pattern:       d.pattern,
		Initiator:     true,
		Prologue:      prologue,
		StaticKeypair: d.cfg.Static,
		PeerStatic:    d.cfg.Pins.Preferred(),
	})
	if err != nil {
		return nil, fail(handshake.StageMsg1, handshake.ReasonInternal, err)
	}
	counter, err := d.cfg.Counter.Next()
	if err != nil {
		return nil, fail(handshake.StageMsg1, handshake.ReasonInternal, err)
	}
	if counter == 0 || counter == CounterReserved {
		return nil, fail(handshake.StageMsg1, handshake.ReasonInternal, errCounterRange)
	}
	payload1 := AppendCounter(nil, counter)
	if d.cfg.Pattern == XK {
		payload1 = nil // XK: the counter waits for message 3, which authenticates the device
	}
	// IK: -> e, es, s, ss    XK: -> e, es    KK: -> e, es, ss
	msg, _, _, err := hs.WriteMessage(nil, payload1)
	if err != nil {
		return nil, fail(handshake.StageMsg1, handshake.ReasonInternal, err)
	}
	if err := handshake.WriteFrame(conn, msg); err != nil {
		return nil, fail(handshake.StageMsg1, "", err)
	}
	// IK, KK: <- e, ee, se    XK: <- e, ee
	frame, err := handshake.ReadFrame(conn, nil, MsgLenIK2)
	if err != nil {
		return nil, fail(handshake.StageMsg2, handshake.FrameReason(err), err)
	}
	if len(frame) != MsgLenIK2 {
		return nil, fail(handshake.StageMsg2, handshake.ReasonMalformed, errMsgLen)
	}
	payload, cs1, cs2, err := hs.ReadMessage(nil, frame)
	if err != nil {
		return nil, readFailed(handshake.StageMsg2, err)
	}
	ann, err := ParseAnnouncement(payload)
	if err != nil {
		return nil, fail(handshake.StageMsg2, handshake.ReasonMalformed, err)
	}
	if d.cfg.Pattern == XK {
		// -> s, se
		msg, cs1, cs2, err = hs.WriteMessage(nil, AppendCounter(nil, counter))
		if err != nil {
			return nil, fail(handshake.StageMsg3, handshake.ReasonInternal, err)
		}
		if err := handshake.WriteFrame(conn, msg); err != nil {
			return nil, fail(handshake.StageMsg3, "", err)
		}
	}
	d.cfg.Pins.apply(ann)
	// Split(): the first CipherState encrypts initiator to responder.
	return newSession(conn, cs1, cs2), nil
}

var (
	errMsgLen       = errors.New("message length differs from the pattern's")
	errAuth         = errors.New("message authentication failed")
	errCounterRange = errors.New("noise: message-1 counter out of range (1 to 2^64-2)")
	errReserved     = errors.New("noise: message-1 counter 2^64-1 is reserved")
)

// readFailed is the error of a handshake message that did not read: a
// low-order public key (bad_point) or a failed authentication.
func readFailed(st handshake.Stage, err error) *handshake.Error {
	if errors.Is(err, errLowOrder) {
		return fail(st, handshake.ReasonBadPoint, errLowOrder)
	}
	return fail(st, handshake.ReasonDecrypt, errAuth)
}

func fail(st handshake.Stage, r handshake.Reason, err error) *handshake.Error {
	return handshake.Fail(handshake.Noise, st, r, err)
}
