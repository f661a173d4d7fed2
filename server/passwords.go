package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"shakedown/handshake"
)

// ErrBadPassword is returned when a tls device's MQTT password does not match.
var ErrBadPassword = errors.New("server: bad device password")

// DirectoryPasswords checks tls-profile MQTT passwords against a Directory
// whose tls records hold SHA-256 of the password (as the fixture sets do).
func DirectoryPasswords(dir handshake.Directory) func(ctx context.Context, id string, password []byte) error {
	return func(ctx context.Context, id string, password []byte) error {
		rec, err := dir.DeviceByID(ctx, id)
		if err != nil {
			return err
		}
		if r := handshake.CheckRecord(rec, handshake.TLS); r != "" {
			return ErrBadPassword
		}
		h := sha256.Sum256(password)
		if subtle.ConstantTimeCompare(h[:], rec.Key) != 1 {
			return ErrBadPassword
		}
		return nil
	}
}
