package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"shakedown/handshake"
	"shakedown/server/credential"
)

// Errors of Passwords.Check that callers branch on.
var (
	// ErrBadPassword is returned when a tls device's MQTT password does not
	// match, or the device is unknown, revoked, of another profile or has no
	// password: the caller cannot tell them apart.
	ErrBadPassword = errors.New("server: bad device password")
	// ErrPasswordBusy is returned when the device's stored hash is slow
	// (an imported human password) and every slow-hash slot is taken: the
	// check was refused at once. The device may try again later.
	ErrPasswordBusy = errors.New("server: password check refused: every slow-hash slot is taken")
)

// PasswordSource finds what the MQTT password check of a tls device needs.
// The registry is one.
type PasswordSource interface {
	// StoredPassword returns the device's record and its stored password
	// hash ("" when it has none), or an error wrapping
	// handshake.ErrUnknownDevice when there is no such device.
	StoredPassword(ctx context.Context, id string) (handshake.DeviceRecord, string, error)
}

// Passwords checks the MQTT CONNECT passwords of tls devices that
// presented no client certificate. Machine passwords cost one HMAC; an
// unknown device, one without a password, a revoked one and one of another
// profile run the same HMAC against a dummy hash (credential.Checker), so a
// refusal tells nothing of which it was, by its answer or by its time.
// Imported slow hashes run in a bounded number of slots; a check that
// finds them all taken is refused at once. Every check is counted in
// shakedown_mqtt_password_checks_total by scheme and result.
type Passwords struct {
	src    PasswordSource
	chk    *credential.Checker
	checks *prometheus.CounterVec
}

// passwordResult is the result label of a password check in
// shakedown_mqtt_password_checks_total. docs/protocol.md lists every one
// (a spec checks that it does).
type passwordResult string

// Results of a password check.
const (
	passwordOK       passwordResult = "ok"
	passwordBad      passwordResult = "bad_password" // no match, or no usable stored hash
	passwordBusy     passwordResult = "busy"         // slow hash, every slot taken
	passwordOtherKey passwordResult = "other_key"    // machine hash of another registry's key
	passwordBadHash  passwordResult = "bad_hash"     // the stored hash does not parse
	passwordRegistry passwordResult = "registry"     // the registry failed
)

// NewPasswords returns a password checker over src, whose machine
// passwords are hashed under key, verifying at most slowSlots slow hashes
// at once (credential.DefaultSlowSlots() when 0). reg, when not nil, gets the
// checker's metric.
func NewPasswords(src PasswordSource, key []byte, slowSlots int, reg prometheus.Registerer) (*Passwords, error) {
	if slowSlots == 0 {
		slowSlots = credential.DefaultSlowSlots()
	}
	chk, err := credential.NewChecker(key, slowSlots)
	if err != nil {
		return nil, fmt.Errorf("server: password checker: %w", err)
	}
	p := &Passwords{src: src, chk: chk, checks: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shakedown_mqtt_password_checks_total",
		Help: "MQTT CONNECT password checks of tls devices, by stored scheme (none: unknown device or no password) and result.",
	}, []string{"scheme", "result"})}
	if reg != nil {
		if err := reg.Register(p.checks); err != nil {
			return nil, fmt.Errorf("server: registering the password metric: %w", err)
		}
	}
	return p, nil
}

// Check verifies the CONNECT password of device id. It returns nil,
// ErrBadPassword, ErrPasswordBusy, or a registry error (the registry is
// down: the caller should answer "server unavailable").
func (p *Passwords) Check(ctx context.Context, id string, password []byte) error {
	rec, stored, err := p.src.StoredPassword(ctx, id)
	switch {
	case errors.Is(err, handshake.ErrUnknownDevice):
		stored = ""
	case err != nil:
		p.count(credential.SchemeNone, passwordRegistry)
		return fmt.Errorf("server: checking a device password: %w", err)
	case handshake.CheckRecord(rec, handshake.TLS) != "":
		stored = "" // revoked or another profile: the dummy path, then refused
	}
	scheme, err := p.chk.Check(id, stored, password)
	switch {
	case err == nil:
		p.count(scheme, passwordOK)
		return nil
	case errors.Is(err, credential.ErrBusy):
		p.count(scheme, passwordBusy)
		return ErrPasswordBusy
	case errors.Is(err, credential.ErrOtherKey):
		p.count(scheme, passwordOtherKey)
	case errors.Is(err, credential.ErrFormat), errors.Is(err, credential.ErrWeakHash):
		p.count(scheme, passwordBadHash)
	default:
		p.count(scheme, passwordBad)
	}
	return ErrBadPassword
}

func (p *Passwords) count(s credential.Scheme, result passwordResult) {
	p.checks.WithLabelValues(string(s), string(result)).Inc()
}

// StaticPasswords is an in-memory PasswordSource for tests and the MITM
// lab: the records of Directory, and the stored hashes of Hashes by ID.
type StaticPasswords struct {
	Directory handshake.Directory
	Hashes    map[string]string
}

// StoredPassword implements PasswordSource.
func (s StaticPasswords) StoredPassword(ctx context.Context, id string) (handshake.DeviceRecord, string, error) {
	rec, err := s.Directory.DeviceByID(ctx, id)
	if err != nil {
		return rec, "", err
	}
	return rec, s.Hashes[id], nil
}

// MachinePasswords returns the Passwords of an in-memory directory whose
// tls devices hold the machine passwords of passwords (by device ID):
// their hashes under a fresh key. Tests and the MITM lab use it.
func MachinePasswords(dir handshake.Directory, passwords map[string]string) (*Passwords, error) {
	key, err := credential.NewKey()
	if err != nil {
		return nil, err
	}
	hashes := make(map[string]string, len(passwords))
	for id, pw := range passwords {
		if hashes[id], err = credential.HashMachine(key, id, []byte(pw)); err != nil {
			return nil, fmt.Errorf("server: hashing the password of a device: %w", err)
		}
	}
	return NewPasswords(StaticPasswords{Directory: dir, Hashes: hashes}, key, 0, nil)
}
