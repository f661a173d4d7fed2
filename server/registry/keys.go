package registry

import (
	"bytes"
	"fmt"
	"time"

	"golang.org/x/crypto/curve25519"
)

// Keypair is a noise static keypair of the server: X25519 (RFC 7748 §5),
// 32-byte private scalar and 32-byte public key.
type Keypair struct {
	Private []byte
	Public  []byte
}

// ServerKey is a server keypair in one role.
type ServerKey struct {
	Keypair
	// Since is when the key took its role: announced (next), promoted
	// (current) or retired (previous).
	Since time.Time
}

// ServerKeys are the server's static keys. Message 2 announces Current and
// Next; Previous is kept so that an operator can see what was retired, and
// when.
type ServerKeys struct {
	Current  *ServerKey // nil before the first PromoteNextKey
	Next     *ServerKey // nil when none is announced
	Previous *ServerKey // nil before the second PromoteNextKey
}

// Roles of the server_keys table.
const (
	roleCurrent  = "current"
	roleNext     = "next"
	rolePrevious = "previous"
)

// check verifies the sizes of kp and that Public is the X25519 public key of
// Private, so that a mismatched pair never reaches devices.
func (kp Keypair) check() error {
	if len(kp.Private) != curve25519.ScalarSize || len(kp.Public) != curve25519.PointSize {
		return fmt.Errorf("registry: server key: want 32-byte private and public keys: %w", ErrInvalid)
	}
	pub, err := curve25519.X25519(kp.Private, curve25519.Basepoint)
	if err != nil || !bytes.Equal(pub, kp.Public) {
		return fmt.Errorf("registry: server key: public key does not match private key: %w", ErrInvalid)
	}
	return nil
}
