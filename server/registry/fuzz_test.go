package registry

import (
	"errors"
	"reflect"
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

// FuzzParseHash: a stored password hash parses within its bounds and
// re-encodes to a hash that parses the same, or fails with errHash.
func FuzzParseHash(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			if err != errHash {
				t.Fatalf("error %v is not errHash", err)
			}
			return
		}
		if h.bcrypt == nil {
			if h.memory > argonMaxMemory || h.time < 1 || h.time > argonMaxTime ||
				h.threads < 1 || h.threads > argonMaxThreads || h.memory < 8*uint32(h.threads) {
				t.Fatalf("parameters out of bounds: m=%d t=%d p=%d", h.memory, h.time, h.threads)
			}
			if len(h.salt) < argonMinSaltLen || len(h.salt) > argonMaxSaltLen || len(h.tag) < argonMinTagLen || len(h.tag) > argonMaxTagLen {
				t.Fatalf("salt or tag length out of bounds: %d, %d", len(h.salt), len(h.tag))
			}
		}
		again, err := parseHash(h.String())
		if err != nil {
			t.Fatalf("re-encoded hash does not parse: %v", err)
		}
		if !reflect.DeepEqual(again, h) {
			t.Fatalf("re-encoded hash parses differently")
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
		want := map[handshake.Name]int{handshake.Noise: X25519KeyLen, handshake.PSK: PSKLen, handshake.TLS: 0}
		switch n, ok := want[d.Profile]; {
		case ok && len(d.Key) != n:
			t.Fatalf("accepted a %d-byte key for %s", len(d.Key), d.Profile)
		case !ok && d.Profile != handshake.Seed:
			t.Fatalf("accepted profile %q", d.Profile)
		case d.Profile == handshake.Seed && len(d.Key) != P256PointLen && len(d.Key) != Secp160r1PointLen:
			t.Fatalf("accepted a %d-byte seed key", len(d.Key))
		}
		if (d.Profile == handshake.TLS) != (d.PasswordHash != "") {
			t.Fatalf("password hash on the wrong profile")
		}
	})
}
