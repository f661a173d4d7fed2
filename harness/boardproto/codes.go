package boardproto

import (
	"shakedown/handshake"
)

// Status is the first byte of every response: 0 for success, else why the
// board refused the command. Like mochi's reason codes it is both the wire
// byte and a Go error.
type Status byte

// Status codes (docs/board-protocol.md §6).
const (
	StatusOK                 Status = 0x00
	StatusUnknownCommand     Status = 0x01 // type not implemented
	StatusBadLength          Status = 0x02 // payload length wrong for the command
	StatusBadValue           Status = 0x03 // a field out of range
	StatusUnsupported        Status = 0x04 // profile, curve, mode or operation not in this firmware
	StatusBusy               Status = 0x05 // another operation runs (a handshake, a bench)
	StatusNotProvisioned     Status = 0x06 // no identity for the requested profile
	StatusNoSession          Status = 0x07 // SEND or CLOSE without a session
	StatusStorage            Status = 0x08 // non-volatile storage failed
	StatusUnsupportedVersion Status = 0x09 // frame version not spoken by the board
	StatusNoCredit           Status = 0x0A // RELAY_DATA beyond the credit granted
	StatusTooLarge           Status = 0x0B // size exceeds the board's buffers
	StatusInternal           Status = 0x0C // a local failure
)

var statusNames = [...]string{
	"ok", "unknown_command", "bad_length", "bad_value", "unsupported", "busy",
	"not_provisioned", "no_session", "storage", "unsupported_version", "no_credit",
	"too_large", "internal",
}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status_" + hexByte(byte(s))
}

func (s Status) Error() string { return "boardproto: board answered " + s.String() }

// statusReasons are the reasons of the statuses, "board_" and the status
// name (docs/board-protocol.md §6.1).
var statusReasons = [...]handshake.Reason{
	StatusOK:                 handshake.ReasonNone,
	StatusUnknownCommand:     handshake.ReasonBoardUnknownCommand,
	StatusBadLength:          handshake.ReasonBoardBadLength,
	StatusBadValue:           handshake.ReasonBoardBadValue,
	StatusUnsupported:        handshake.ReasonBoardUnsupported,
	StatusBusy:               handshake.ReasonBoardBusy,
	StatusNotProvisioned:     handshake.ReasonBoardNotProvisioned,
	StatusNoSession:          handshake.ReasonBoardNoSession,
	StatusStorage:            handshake.ReasonBoardStorage,
	StatusUnsupportedVersion: handshake.ReasonBoardUnsupportedVersion,
	StatusNoCredit:           handshake.ReasonBoardNoCredit,
	StatusTooLarge:           handshake.ReasonBoardTooLarge,
	StatusInternal:           handshake.ReasonBoardInternal,
}

// Reason is the stable reason code of a refused command: "board_" and the
// status name; handshake.ReasonBoardStatusPrefix and the code in hex for a
// status this host does not know; none for StatusOK.
func (s Status) Reason() handshake.Reason {
	if int(s) < len(statusReasons) {
		return statusReasons[s]
	}
	return handshake.Reason(handshake.ReasonBoardStatusPrefix + hexByte(byte(s)))
}

// Err returns nil for StatusOK, else a *handshake.Error wrapping s.
func (s Status) Err() error {
	if s == StatusOK {
		return nil
	}
	return &handshake.Error{Stage: StageCommand, Reason: s.Reason(), Err: s}
}

// ProfileCode is the wire code of a protocol profile.
type ProfileCode byte

// Profile codes; bit n-1 of a profile bitmap stands for code n.
const (
	ProfileNoise ProfileCode = 1
	ProfileSeed  ProfileCode = 2
	ProfilePSK   ProfileCode = 3
	ProfileTLS   ProfileCode = 4
)

var profileCodes = map[handshake.Name]ProfileCode{
	handshake.Noise: ProfileNoise, handshake.Seed: ProfileSeed,
	handshake.PSK: ProfilePSK, handshake.TLS: ProfileTLS,
}

// ProfileCodeOf returns the wire code of profile n, or 0.
func ProfileCodeOf(n handshake.Name) ProfileCode { return profileCodes[n] }

// Name returns the profile of code c, or "" when c is unknown.
func (c ProfileCode) Name() handshake.Name {
	for n, pc := range profileCodes {
		if pc == c {
			return n
		}
	}
	return ""
}

// Curve is the wire code of an elliptic curve.
type Curve byte

// Curve codes; bit n-1 of a curve bitmap stands for code n.
const (
	CurveX25519    Curve = 1 // RFC 7748 §5
	CurveP256      Curve = 2 // SEC 2 secp256r1
	CurveSecp160r1 Curve = 3 // SEC 2 (2000) §2.4.2
)

var curveNames = map[Curve]string{CurveX25519: "x25519", CurveP256: "p256", CurveSecp160r1: "secp160r1"}

func (c Curve) String() string {
	if n, ok := curveNames[c]; ok {
		return n
	}
	return "curve_" + hexByte(byte(c))
}

// ParseCurve returns the curve named s ("x25519", "p256", "secp160r1").
func ParseCurve(s string) (Curve, bool) {
	for c, n := range curveNames {
		if n == s {
			return c, true
		}
	}
	return 0, false
}

// AEAD is the wire code of an AEAD.
type AEAD byte

// AEAD codes; bit n-1 of an AEAD bitmap stands for code n.
const (
	AEADChaCha20Poly1305 AEAD = 1 // RFC 8439
	AEADAES128GCM        AEAD = 2 // NIST SP 800-38D
	AEADAES256GCM        AEAD = 3
)

var aeadNames = map[AEAD]string{
	AEADChaCha20Poly1305: "chacha20poly1305", AEADAES128GCM: "aes128gcm", AEADAES256GCM: "aes256gcm",
}

func (a AEAD) String() string {
	if n, ok := aeadNames[a]; ok {
		return n
	}
	return "aead_" + hexByte(byte(a))
}

// ParseAEAD returns the AEAD named s.
func ParseAEAD(s string) (AEAD, bool) {
	for a, n := range aeadNames {
		if n == s {
			return a, true
		}
	}
	return 0, false
}

// Unit is the unit of the board's own cost counts.
type Unit byte

// Units of BENCH and HANDSHAKE_DONE counts.
const (
	UnitCycles       Unit = 1 // CPU cycles (AVR timer at clk/1, DWT CYCCNT, mcycle, CCOUNT)
	UnitInstructions Unit = 2 // instructions retired (minstret; QEMU icount)
	UnitNanoseconds  Unit = 3 // wall-clock nanoseconds (the virtual board)
	UnitMicroseconds Unit = 4 // a microsecond timer, when nothing finer exists
)

var unitNames = map[Unit]string{
	UnitCycles: "cycles", UnitInstructions: "instructions", UnitNanoseconds: "ns", UnitMicroseconds: "us",
}

func (u Unit) String() string {
	if n, ok := unitNames[u]; ok {
		return n
	}
	return "unit_" + hexByte(byte(u))
}

// Reason codes on the wire (HANDSHAKE_DONE result, CLOSED reason), in the
// order of package handshake's reasons a device side can report.
var wireReasons = []handshake.Reason{
	handshake.ReasonNone, // 0x00: success or orderly close
	handshake.ReasonIO,
	handshake.ReasonTimeout,
	handshake.ReasonShortFrame,
	handshake.ReasonOversizeFrame,
	handshake.ReasonMalformed,
	handshake.ReasonDecrypt,
	handshake.ReasonBadPoint,
	handshake.ReasonUnknownServer,
	handshake.ReasonCertificate,
	handshake.ReasonInternal,
	handshake.ReasonBoardReset,
	handshake.ReasonTimeUnavailable,
	handshake.ReasonTimeRejected,
}

// ReasonCode returns the wire code of r; reasons a board cannot report map
// to the code of handshake.ReasonInternal.
func ReasonCode(r handshake.Reason) byte {
	for i, w := range wireReasons {
		if w == r {
			return byte(i)
		}
	}
	return ReasonCode(handshake.ReasonInternal)
}

// ReasonOfCode returns the reason of wire code c, handshake.ReasonNone for 0.
func ReasonOfCode(c byte) (handshake.Reason, bool) {
	if int(c) < len(wireReasons) {
		return wireReasons[c], true
	}
	return handshake.ReasonNone, false
}

// Stage codes on the wire (HANDSHAKE_DONE stage).
var wireStages = []handshake.Stage{
	"", handshake.StageDial, handshake.StageHello, handshake.StageMsg1,
	handshake.StageMsg2, handshake.StageMsg3, handshake.StageTransport,
	handshake.StageClock,
}

// StageCode returns the wire code of st, 0 when st has none.
func StageCode(st handshake.Stage) byte {
	for i, w := range wireStages {
		if w == st {
			return byte(i)
		}
	}
	return 0
}

// StageOfCode returns the stage of wire code c.
func StageOfCode(c byte) (handshake.Stage, bool) {
	if int(c) < len(wireStages) {
		return wireStages[c], true
	}
	return "", false
}
