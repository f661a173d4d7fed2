package seed

import (
	"errors"

	"shakedown/handshake"
)

// Every message is one handshake frame (handshake.ReadFrame): a 2-byte
// big-endian length followed by the message.
//
// msg1, device -> server, in plaintext (the seed's step 2):
//
//	1B      version = 0x01
//	1B      curve: 0x01 p256, 0x02 secp160r1
//	1B      idlen, 1..64
//	idlen B device ID, ASCII [A-Za-z0-9._-]
//
// msg2, server -> device (the seed's step 4, not authenticated):
//
//	PointLen B  ephemeral public point E, uncompressed (SEC 1 v2.0 §2.3.3):
//	            0x04 || X || Y, 65 bytes on p256, 41 bytes on secp160r1
const (
	Version        = 0x01 // msg1 byte 0
	msg1HeaderLen  = 3    // version, curve, idlen
	MaxIDLen       = 64   // the largest idlen
	maxMsg1Len     = msg1HeaderLen + MaxIDLen
	offVersion     = 0
	offCurve       = 1
	offIDLen       = 2
	identityPrefix = 0x00 // SEC 1 v2.0 §2.3.3: the point at infinity is 0x00
)

// Causes wrapped in *handshake.Error; they never carry peer bytes.
var (
	errVersion    = errors.New("seed: unsupported version")
	errCurveCode  = errors.New("seed: unknown curve code")
	errIDLen      = errors.New("seed: device ID length out of range")
	errIDChars    = errors.New("seed: device ID has a byte outside [A-Za-z0-9._-]")
	errMsg1Short  = errors.New("seed: msg1 shorter than its ID length")
	errMsg1Long   = errors.New("seed: msg1 longer than its ID length")
	errMsg2Short  = errors.New("seed: msg2 shorter than a point")
	errCurveMatch = errors.New("seed: msg1 curve differs from the registered curve")
)

// ValidID reports whether id can travel in msg1: 1..64 bytes of [A-Za-z0-9._-].
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idByte(id[i]) {
			return false
		}
	}
	return true
}

func idByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == '.' || b == '_' || b == '-'
}

// appendMsg1 appends msg1 for a valid id.
func appendMsg1(dst []byte, c Curve, id string) []byte {
	dst = append(dst, Version, c.code(), byte(len(id)))
	return append(dst, id...)
}

// parseMsg1 decodes msg1. On failure it returns the reason code and a cause
// without peer bytes.
func parseMsg1(b []byte) (Curve, string, handshake.Reason, error) {
	if len(b) < msg1HeaderLen {
		return "", "", handshake.ReasonShortFrame, errMsg1Short
	}
	if b[offVersion] != Version {
		return "", "", handshake.ReasonMalformed, errVersion
	}
	c, ok := curveOfCode(b[offCurve])
	if !ok {
		return "", "", handshake.ReasonMalformed, errCurveCode
	}
	n := int(b[offIDLen])
	switch {
	case n == 0 || n > MaxIDLen:
		return "", "", handshake.ReasonMalformed, errIDLen
	case len(b) < msg1HeaderLen+n:
		return "", "", handshake.ReasonShortFrame, errMsg1Short
	case len(b) > msg1HeaderLen+n:
		return "", "", handshake.ReasonMalformed, errMsg1Long
	}
	id := b[msg1HeaderLen:]
	for _, ch := range id {
		if !idByte(ch) {
			return "", "", handshake.ReasonMalformed, errIDChars
		}
	}
	return c, string(id), "", nil
}
