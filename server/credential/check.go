package credential

import (
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
)

// DefaultSlowSlots is how many slow hashes a Checker verifies at once by
// default: half the CPUs Go may use, at least one. A burst of wrong
// passwords for imported accounts then holds at most that many times
// 64 MiB (argon2id's bound) and leaves the other half of the CPUs to the
// handshakes: on a 2-core machine, one slot.
func DefaultSlowSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// MaxSlowSlots bounds the slot count of a Checker.
const MaxSlowSlots = 256

// Errors of Check. They never carry the password, the hash or the ID.
var (
	// ErrMismatch: the password does not match, or there is no stored hash.
	ErrMismatch = errors.New("credential: password does not match")
	// ErrBusy: the stored hash is slow and every slow-hash slot is taken;
	// the check was refused without running.
	ErrBusy = errors.New("credential: every slow-hash slot is taken")
	// ErrOtherKey: a machine hash made under another server key (a record
	// imported from another registry): it can never match.
	ErrOtherKey = errors.New("credential: machine password hash of another server key")
)

// Checker verifies CONNECT passwords against stored hashes. It is safe for
// concurrent use.
type Checker struct {
	key   []byte
	keyID string
	slots chan struct{} // one token per slow hash in progress
	dummy Hash          // a machine hash no password matches
}

// NewChecker returns a checker for server key k that verifies at most
// slowSlots slow hashes at once (1 to MaxSlowSlots).
func NewChecker(k []byte, slowSlots int) (*Checker, error) {
	if len(k) != KeyLen {
		return nil, ErrKeyLen
	}
	if slowSlots < 1 || slowSlots > MaxSlowSlots {
		return nil, fmt.Errorf("credential: slow-hash slots: want 1 to %d", MaxSlowSlots)
	}
	tag := make([]byte, machineTagLen)
	if _, err := rand.Read(tag); err != nil {
		return nil, fmt.Errorf("credential: making the dummy hash: %w", err)
	}
	kid := KeyID(k)
	return &Checker{key: append([]byte(nil), k...), keyID: kid, slots: make(chan struct{}, slowSlots),
		dummy: Hash{scheme: SchemeHMAC, keyID: kid, tag: tag}}, nil
}

// KeyID returns the ID of the checker's server key.
func (c *Checker) KeyID() string { return c.keyID }

// Check verifies the CONNECT password of device id against stored, the
// device's stored hash: "" when the device is unknown, has no password or
// may not use one (revoked, another profile). It returns the scheme it ran
// and nil, ErrMismatch, ErrBusy, ErrOtherKey, ErrFormat or ErrWeakHash.
//
// Without a usable stored hash Check computes the HMAC of a machine
// password against a dummy hash and returns SchemeNone and ErrMismatch (or
// the parse error): the same work as for a device with a machine password.
func (c *Checker) Check(id, stored string, password []byte) (Scheme, error) {
	if stored == "" {
		c.dummy.verify(c.key, id, password)
		return SchemeNone, ErrMismatch
	}
	h, err := Parse(stored)
	if err != nil {
		c.dummy.verify(c.key, id, password)
		return SchemeNone, err
	}
	if h.scheme == SchemeHMAC && h.keyID != c.keyID {
		c.dummy.verify(c.key, id, password)
		return SchemeHMAC, ErrOtherKey
	}
	if h.scheme.Slow() {
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		default:
			return h.scheme, ErrBusy
		}
	}
	if !h.verify(c.key, id, password) {
		return h.scheme, ErrMismatch
	}
	return h.scheme, nil
}
