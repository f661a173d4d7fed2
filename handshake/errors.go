package handshake

import (
	"errors"
	"strings"
)

// Stage names the step of a handshake that failed.
type Stage string

const (
	StageDial      Stage = "dial"
	StageHello     Stage = "hello"     // plaintext device ID (seed, psk, noise KK)
	StageMsg1      Stage = "msg1"      // first handshake message
	StageMsg2      Stage = "msg2"      // second handshake message
	StageMsg3      Stage = "msg3"      // third handshake message (noise XK)
	StageLookup    Stage = "lookup"    // registry lookup
	StageTransport Stage = "transport" // after the handshake
)

// Reason is a stable code for why a handshake or a record failed. Reasons are
// metric labels and report columns: never add attacker-controlled text.
type Reason string

const (
	ReasonIO            Reason = "io"             // the connection failed or closed
	ReasonTimeout       Reason = "timeout"        // the handshake deadline passed
	ReasonShortFrame    Reason = "short_frame"    // a frame or message shorter than its layout
	ReasonOversizeFrame Reason = "oversize_frame" // a frame longer than allowed
	ReasonMalformed     Reason = "malformed"      // a field out of range or a wrong version
	ReasonDecrypt       Reason = "decrypt_failed" // authentication of a message failed
	ReasonUnknownDevice Reason = "unknown_device" // no such device in the registry
	ReasonRevoked       Reason = "revoked"        // the device is revoked
	ReasonWrongProfile  Reason = "wrong_profile"  // the device is registered for another profile
	ReasonCounterReplay Reason = "counter_replay" // message-1 counter not greater than the last
	ReasonBadPoint      Reason = "bad_point"      // an invalid public key or curve point
	ReasonUnknownServer Reason = "unknown_server" // the server key is not pinned
	ReasonCertificate   Reason = "cert_rejected"  // the TLS certificate failed the device's check
	ReasonRegistry      Reason = "registry"       // the registry failed
	ReasonInternal      Reason = "internal"       // a local failure (randomness, state)
)

// ReasonCounterReserved refuses a message-1 counter of 2^64-1: the value is
// reserved, because erased flash reads as all ones (noise.CounterReserved).
const ReasonCounterReserved Reason = "counter_reserved"

// Error is the one error type of handshakes and records.
type Error struct {
	Profile Name
	Stage   Stage
	Reason  Reason
	Err     error // the underlying cause; never carries peer bytes
}

// Error reads "handshake: PROFILE: STAGE: REASON: cause", leaving out the
// fields that are empty: a board-link failure has no profile.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("handshake")
	for _, f := range []string{string(e.Profile), string(e.Stage), string(e.Reason)} {
		if f != "" {
			b.WriteString(": ")
			b.WriteString(f)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason code of err, or "" when err is nil, or
// ReasonInternal when err is not an *Error.
func ReasonOf(err error) Reason {
	if err == nil {
		return ""
	}
	var he *Error
	if errors.As(err, &he) {
		return he.Reason
	}
	return ReasonInternal
}

// Fail builds an *Error, classifying I/O errors (timeout, EOF) when reason is empty.
func Fail(p Name, st Stage, reason Reason, err error) *Error {
	if reason == "" {
		reason = classify(err)
	}
	return &Error{Profile: p, Stage: st, Reason: reason, Err: err}
}

func classify(err error) Reason {
	var he *Error
	if errors.As(err, &he) {
		return he.Reason
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return ReasonTimeout
	}
	return ReasonIO
}
