package registry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"shakedown/handshake"
)

// FuzzParseDSN: any string either names a backend or fails with the one
// fixed error, never echoing the DSN (which may carry a password).
func FuzzParseDSN(f *testing.F) {
	f.Fuzz(func(t *testing.T, dsn string) {
		kind, target, err := parseDSN(dsn)
		if err != nil {
			if err != errDSN {
				t.Fatalf("error %v is not errDSN", err)
			}
			return
		}
		switch kind {
		case kindPostgres:
			if target != dsn {
				t.Fatalf("postgres target %q differs from the DSN", target)
			}
		case kindSQLite:
			if target == "" || target == sqliteMemory || strings.ContainsAny(target, "?#\x00") {
				t.Fatalf("unusable sqlite path %q accepted", target)
			}
		default:
			t.Fatalf("no backend and no error for %q", dsn)
		}
	})
}

// FuzzDeviceNormalize: validation of an imported record never panics,
// fails only with ErrInvalid, and what it accepts meets the profile's rules.
func FuzzDeviceNormalize(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, profile, curve string, key []byte, hash, grant string) {
		d := Device{ID: id, Profile: handshake.Name(profile), Curve: curve, Key: key, PasswordHash: hash}
		if grant != "" {
			d.Grants = []string{grant}
		}
		err := d.normalize(time.Unix(1, 0))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !validID(d.ID) || d.State != Active {
			t.Fatalf("accepted ID or state")
		}
		want := map[handshake.Name]int{handshake.Noise: X25519KeyLen, handshake.PSK: PSKLen, handshake.TLS: SPKIPinLen}
		switch n, ok := want[d.Profile]; {
		case d.Profile == handshake.TLS && len(d.Key) != 0 && len(d.Key) != n:
			t.Fatalf("accepted a %d-byte tls pin", len(d.Key))
		case d.Profile == handshake.TLS:
		case ok && len(d.Key) != n:
			t.Fatalf("accepted a %d-byte key for %s", len(d.Key), d.Profile)
		case !ok && d.Profile != handshake.Seed:
			t.Fatalf("accepted profile %q", d.Profile)
		case d.Profile == handshake.Seed && len(d.Key) != P256PointLen && len(d.Key) != Secp160r1PointLen:
			t.Fatalf("accepted a %d-byte seed key", len(d.Key))
		}
		if d.Profile != handshake.TLS && d.PasswordHash != "" {
			t.Fatalf("password hash on the wrong profile")
		}
		if d.Profile == handshake.TLS && d.PasswordHash == "" && len(d.Key) == 0 {
			t.Fatalf("tls device without a credential")
		}
	})
}
