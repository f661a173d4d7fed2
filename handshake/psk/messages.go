package psk

import (
	"errors"

	"shakedown/handshake"
)

// msg1, device -> server, the only handshake message, in one frame:
//
//	1B: version = 0x01
//	1B: idlen L, 1..64
//	LB: device ID, ASCII [A-Za-z0-9._-]
const (
	Version        = 0x01
	MaxDeviceIDLen = 64

	versionLen    = 1
	idLenLen      = 1
	msg1HeaderLen = versionLen + idLenLen
	maxMsg1Len    = msg1HeaderLen + MaxDeviceIDLen
)

// Errors of msg1 parsing, wrapped in a *handshake.Error. They carry no peer bytes.
var (
	errShortMsg1    = errors.New("psk: msg1 shorter than its layout")
	errVersion      = errors.New("psk: unsupported msg1 version")
	errIDLen        = errors.New("psk: device ID length out of range")
	errIDChars      = errors.New("psk: device ID has a character outside [A-Za-z0-9._-]")
	errTrailing     = errors.New("psk: bytes after the device ID")
	errBadDeviceID  = errors.New("psk: device ID must be 1-64 characters [A-Za-z0-9._-]")
	errBadKeyLength = errors.New("psk: key must be 32 bytes")
)

// validID reports whether id is a device ID msg1 can carry.
func validID(id []byte) bool {
	if len(id) == 0 || len(id) > MaxDeviceIDLen {
		return false
	}
	for _, c := range id {
		if !idChar(c) {
			return false
		}
	}
	return true
}

func idChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// appendMsg1 appends msg1 for a valid id to dst.
func appendMsg1(dst []byte, id string) []byte {
	dst = append(dst, Version, byte(len(id)))
	return append(dst, id...)
}

// parseMsg1 returns the device ID of msg1, or the reason it is refused.
func parseMsg1(msg []byte) ([]byte, handshake.Reason, error) {
	if len(msg) < msg1HeaderLen {
		return nil, handshake.ReasonShortFrame, errShortMsg1
	}
	if msg[0] != Version {
		return nil, handshake.ReasonMalformed, errVersion
	}
	n := int(msg[versionLen])
	id := msg[msg1HeaderLen:]
	switch {
	case n == 0 || n > MaxDeviceIDLen:
		return nil, handshake.ReasonMalformed, errIDLen
	case len(id) < n:
		return nil, handshake.ReasonShortFrame, errShortMsg1
	case len(id) > n:
		return nil, handshake.ReasonMalformed, errTrailing
	case !validID(id):
		return nil, handshake.ReasonMalformed, errIDChars
	}
	return id, "", nil
}
