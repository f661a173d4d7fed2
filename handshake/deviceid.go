package handshake

import "errors"

// MaxDeviceIDLen bounds a device ID, in bytes.
const MaxDeviceIDLen = 128

// ErrDeviceID is the error of an ID that ValidDeviceID refuses. Its text
// states the rule and never quotes the ID.
var ErrDeviceID = errors.New("handshake: a device ID is 1 to 128 letters, digits, '.', '_', '-' or ':'")

// ValidDeviceID reports whether id is a device ID: 1 to MaxDeviceIDLen
// ASCII letters, digits, '.', '_', '-' and ':'.
//
// A device ID is one MQTT topic level of the device's namespace,
// devices/{id}/..., and its MQTT client ID. The rule keeps out the level
// separator '/' and the wildcards '+' and '#' (MQTT 3.1.1 §4.7.1), so that
// no ID names a level or a filter reaching another device's topics; '$'
// (MQTT 3.1.1 §4.7.2), spaces, control bytes and non-ASCII text are out
// as well. It is the one rule of the registry, the fixtures, the CLI and
// the broker.
func ValidDeviceID(id string) bool {
	if len(id) == 0 || len(id) > MaxDeviceIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !deviceIDByte(id[i]) {
			return false
		}
	}
	return true
}

// CheckDeviceID returns ErrDeviceID when ValidDeviceID refuses id.
func CheckDeviceID(id string) error {
	if !ValidDeviceID(id) {
		return ErrDeviceID
	}
	return nil
}

func deviceIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == ':'
}
