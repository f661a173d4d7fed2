package handshake

import (
	"errors"
	"strings"
)

// Stage names the step of a handshake that failed.
type Stage string

const (
	StageClock     Stage = "clock" // a tls device asks its time server, before it dials
	StageDial      Stage = "dial"
	StageHello     Stage = "hello"     // plaintext device ID (seed, psk, noise KK)
	StageMsg1      Stage = "msg1"      // first handshake message
	StageMsg2      Stage = "msg2"      // second handshake message
	StageMsg3      Stage = "msg3"      // third handshake message (noise XK)
	StageLookup    Stage = "lookup"    // registry lookup
	StageTransport Stage = "transport" // after the handshake
)

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

// ReasonOf returns the reason code of err, or ReasonNone when err is nil,
// or ReasonInternal when err is not an *Error.
func ReasonOf(err error) Reason {
	if err == nil {
		return ReasonNone
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
