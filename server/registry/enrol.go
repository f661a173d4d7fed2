package registry

import (
	"context"
	"errors"
	"fmt"

	"shakedown/handshake"
	"shakedown/server/credential"
)

// Enrolment is what Enrol did to a registry.
type Enrolment struct {
	Added   int  // devices registered by Enrol
	Present int  // devices the registry held already
	KeySet  bool // Enrol made its key the current server key
}

// Enrol registers each device of ds that r does not hold yet, and makes
// key the current server key when r has none (a fixture set's devices and
// its noise key: fixtures.Set's Records, Passwords and NoiseCurrent). A
// tls device with a machine password in passwords gets that password's
// keyed hash under r's PasswordKey. A device r holds already stays as it
// is, its counter too.
func Enrol(ctx context.Context, r Registry, ds []handshake.DeviceRecord, passwords map[string]string, key Keypair) (Enrolment, error) {
	var e Enrolment
	pwKey, err := r.PasswordKey(ctx)
	if err != nil {
		return e, fmt.Errorf("registry: enrolling: %w", err)
	}
	for _, d := range ds {
		rd := Device{ID: d.ID, Profile: d.Profile, Curve: d.Curve, State: Active, Key: d.Key}
		if pw, ok := passwords[d.ID]; ok && d.Profile == handshake.TLS {
			if rd.PasswordHash, err = credential.HashMachine(pwKey, d.ID, []byte(pw)); err != nil {
				return e, fmt.Errorf("registry: hashing the password of %s: %w", d.ID, err)
			}
		}
		switch err := r.AddDevice(ctx, rd); {
		case errors.Is(err, ErrExists):
			e.Present++
		case err != nil:
			return e, fmt.Errorf("registry: registering %s: %w", d.ID, err)
		default:
			e.Added++
		}
	}
	keys, err := r.ServerKeys(ctx)
	if err != nil && !errors.Is(err, ErrNoServerKey) {
		return e, fmt.Errorf("registry: reading the server keys: %w", err)
	}
	if err == nil && keys.Current != nil {
		return e, nil
	}
	if err := r.AnnounceNextKey(ctx, key); err != nil {
		return e, fmt.Errorf("registry: setting the server key: %w", err)
	}
	if err := r.PromoteNextKey(ctx); err != nil {
		return e, fmt.Errorf("registry: setting the server key: %w", err)
	}
	e.KeySet = true
	return e, nil
}
