package registry

import (
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"shakedown/handshake"
	"shakedown/server/credential"
)

// State is a device's registration state.
type State string

const (
	Active  State = "active"
	Revoked State = "revoked"
)

// Curves of the seed profile.
const (
	CurveP256      = "p256"
	CurveSecp160r1 = "secp160r1"
)

// Sizes of registered fields.
const (
	// MaxIDLen bounds a device ID (handshake.ValidDeviceID is the rule).
	MaxIDLen = handshake.MaxDeviceIDLen
	// X25519KeyLen is the size of a noise static public key (RFC 7748 §5).
	X25519KeyLen = 32
	// PSKLen is the size of a psk profile key (256 bits).
	PSKLen = 32
	// P256PointLen is an uncompressed P-256 point (SEC 1 §2.3.3):
	// 1b: 0x04 // 32b: X // 32b: Y
	P256PointLen = 1 + 2*32
	// Secp160r1PointLen is an uncompressed secp160r1 point (SEC 1 §2.3.3):
	// 1b: 0x04 // 20b: X // 20b: Y
	Secp160r1PointLen = 1 + 2*20
	// SPKIPinLen is the tls profile's key: SHA-256 of the device
	// certificate's SubjectPublicKeyInfo (the pin of RFC 7469 §2.4).
	SPKIPinLen = sha256.Size
	// MaxGrants bounds the extra topic filters of one device.
	MaxGrants = 64
	// MaxGrantLen bounds one topic filter (MQTT 3.1.1 §1.5.3 allows 65535;
	// an ACL entry needs far less).
	MaxGrantLen = 1024
)

// pointUncompressed is the SEC 1 §2.3.3 prefix of an uncompressed point.
const pointUncompressed = 0x04

// Device is a registered device.
type Device struct {
	ID      string         `json:"id"`
	Profile handshake.Name `json:"profile"`
	// Curve is the seed profile's curve (CurveP256, CurveSecp160r1); empty
	// for the other profiles.
	Curve string `json:"curve,omitempty"`
	// Key is the profile's key material (see handshake.DeviceRecord.Key).
	// For tls it is the device certificate's pin, SHA-256 of its
	// SubjectPublicKeyInfo, when the device authenticates with a client
	// certificate; empty when it has only a password.
	Key   []byte `json:"key,omitempty"`
	State State  `json:"state"`
	// Counter is the last accepted message-1 counter; 0 when none yet.
	Counter uint64 `json:"counter"`
	// CounterReset is when ResetCounter last set Counter back to 0; zero
	// when it never did.
	CounterReset time.Time `json:"counter_reset,omitzero"`
	// Created is set by AddDevice when zero. LastSeen is zero until the
	// device completes a handshake.
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	// PasswordHash is the tls profile's MQTT CONNECT password as stored:
	// a machine password's keyed hash (credential.HashMachine under this
	// registry's PasswordKey), or an imported argon2id, bcrypt or mosquitto
	// $7$ hash. The MQTT username is the ID. A tls device has a Key, a
	// PasswordHash or both.
	PasswordHash string `json:"password_hash,omitempty"`
	// Grants are topic filters the broker ACL grants the device beyond its
	// own topics.
	Grants []string `json:"grants,omitempty"`
}

// Record returns the device as the server side of a handshake sees it.
func (d Device) Record() handshake.DeviceRecord {
	return handshake.DeviceRecord{ID: d.ID, Profile: d.Profile, Curve: d.Curve, Key: d.Key, Revoked: d.State == Revoked}
}

// ListOptions selects and pages devices. The zero value lists every device,
// DefaultPageSize at a time.
type ListOptions struct {
	Profile handshake.Name // only this profile; "" for all
	State   State          // only this state; "" for both
	After   string         // only IDs after this one: the previous Page.Next
	Limit   int            // page size; 0 for DefaultPageSize, at most MaxPageSize
}

// Page sizes of ListDevices.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Page is one page of ListDevices.
type Page struct {
	Devices []Device
	// Next is the After of the following page; "" on the last page.
	Next string
}

// check validates opt and returns its page size.
func (opt ListOptions) check() (int, error) {
	if opt.Profile != "" {
		if _, err := handshake.ParseName(string(opt.Profile)); err != nil {
			return 0, fmt.Errorf("registry: listing devices: profile: %w", ErrInvalid)
		}
	}
	if opt.State != "" && opt.State != Active && opt.State != Revoked {
		return 0, fmt.Errorf("registry: listing devices: state: %w", ErrInvalid)
	}
	switch {
	case opt.Limit < 0 || opt.Limit > MaxPageSize:
		return 0, fmt.Errorf("registry: listing devices: limit: %w", ErrInvalid)
	case opt.Limit == 0:
		return DefaultPageSize, nil
	}
	return opt.Limit, nil
}

// normalize fills the defaults of a new record and validates it. The error
// names the failing field, never its value.
func (d *Device) normalize(now time.Time) error {
	if d.State == "" {
		d.State = Active
	}
	if d.Created.IsZero() {
		d.Created = now
	}
	if err := d.validate(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	return nil
}

// fieldError names the field of a Device that failed validation.
type fieldError string

func (e fieldError) Error() string { return string(e) }

func (d *Device) validate() error {
	if !validID(d.ID) {
		return fieldError("id: want 1 to 128 letters, digits, '.', '_', '-' or ':'")
	}
	if _, err := handshake.ParseName(string(d.Profile)); err != nil {
		return fieldError("profile: want noise, seed, psk or tls")
	}
	if d.State != Active && d.State != Revoked {
		return fieldError("state: want active or revoked")
	}
	if err := d.validateKey(); err != nil {
		return err
	}
	if err := d.validatePassword(); err != nil {
		return err
	}
	if len(d.Grants) > MaxGrants {
		return fieldError("grants: too many")
	}
	for _, g := range d.Grants {
		if !validTopicFilter(g) {
			return fieldError("grants: want MQTT topic filters")
		}
	}
	return nil
}

// validateKey checks the key material and the curve of the device's profile.
func (d *Device) validateKey() error {
	if d.Profile != handshake.Seed && d.Curve != "" {
		return fieldError("curve: only for the seed profile")
	}
	switch d.Profile {
	case handshake.Noise:
		if len(d.Key) != X25519KeyLen || allZero(d.Key) {
			return fieldError("key: want a 32-byte X25519 public key")
		}
	case handshake.PSK:
		if len(d.Key) != PSKLen || allZero(d.Key) {
			return fieldError("key: want a 32-byte pre-shared key")
		}
	case handshake.Seed:
		return d.validatePoint()
	case handshake.TLS:
		if len(d.Key) != 0 && (len(d.Key) != SPKIPinLen || allZero(d.Key)) {
			return fieldError("key: want the 32-byte SHA-256 of the device certificate's SubjectPublicKeyInfo, or none")
		}
	}
	return nil
}

// validatePassword checks the stored password hash: tls only, of a known
// scheme, and a tls device needs a certificate pin or a password.
func (d *Device) validatePassword() error {
	if d.Profile != handshake.TLS {
		if d.PasswordHash != "" {
			return fieldError("password_hash: only for the tls profile")
		}
		return nil
	}
	if d.PasswordHash == "" {
		if len(d.Key) == 0 {
			return fieldError("tls device: want a certificate pin (key), a password hash, or both")
		}
		return nil
	}
	if _, err := credential.Parse(d.PasswordHash); err != nil {
		return fieldError("password_hash: want a machine password hash ($hmac-sha256$), or an imported argon2id, bcrypt or mosquitto $7$ hash within bounds")
	}
	return nil
}

func (d *Device) validatePoint() error {
	switch d.Curve {
	case CurveP256:
		// crypto/ecdh checks that the point is on the curve.
		if _, err := ecdh.P256().NewPublicKey(d.Key); err != nil {
			return fieldError("key: want an uncompressed P-256 point")
		}
	case CurveSecp160r1:
		if len(d.Key) != Secp160r1PointLen || d.Key[0] != pointUncompressed {
			return fieldError("key: want an uncompressed secp160r1 point")
		}
	default:
		return fieldError("curve: want p256 or secp160r1")
	}
	return nil
}

func allZero(b []byte) bool {
	return subtle.ConstantTimeCompare(b, make([]byte, len(b))) == 1
}

// validID is the device ID rule of handshake.ValidDeviceID.
func validID(id string) bool { return handshake.ValidDeviceID(id) }

// validTopicFilter checks an MQTT topic filter (MQTT 3.1.1 §4.7): UTF-8
// without U+0000 [MQTT-4.7.3-2], at least one character [MQTT-4.7.3-1],
// '#' only as the whole last level [MQTT-4.7.1-2], '+' only as a whole level
// [MQTT-4.7.1-3].
func validTopicFilter(f string) bool {
	if f == "" || len(f) > MaxGrantLen || !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
		return false
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "#+") && len(l) != 1 {
			return false
		}
		if l == "#" && i != len(levels)-1 {
			return false
		}
	}
	return true
}
