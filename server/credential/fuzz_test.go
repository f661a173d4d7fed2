package credential

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse: a stored hash parses within its scheme's bounds and
// re-encodes to a hash that parses the same, or fails with ErrFormat or
// ErrWeakHash.
func FuzzParse(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$2b$04$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("$7$101$Z9Z+D+QZSxWwmspm$60IJAaT2BfLRFsrE2LOIWCc4qN8qd5sJV6VGvPTgCWtXZl8+3opJ6COGbZkorda+p245uQ2OELJQ45W2NMgZjw==")
	f.Add("$hmac-sha256$k=0123456789abcdef$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$6$Dmx1isZJ18sovbYV$pjM7")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrWeakHash) {
				t.Fatalf("error %v is neither ErrFormat nor ErrWeakHash", err)
			}
			return
		}
		switch h.scheme {
		case SchemeArgon2id:
			if h.memory > argonMaxMemory || h.time < 1 || h.time > argonMaxTime ||
				h.threads < 1 || h.threads > argonMaxThreads || h.memory < 8*uint32(h.threads) {
				t.Fatalf("argon2id parameters out of bounds: m=%d t=%d p=%d", h.memory, h.time, h.threads)
			}
		case SchemePBKDF2:
			if h.iterations < 1 || h.iterations > pbkdf2MaxIterations || len(h.tag) != pbkdf2TagLen {
				t.Fatalf("pbkdf2 parameters out of bounds: %d iterations, %d-byte hash", h.iterations, len(h.tag))
			}
		case SchemeHMAC, SchemeBcrypt:
		default:
			t.Fatalf("parsed into scheme %q", h.scheme)
		}
		again, err := Parse(h.String())
		if err != nil {
			t.Fatalf("re-encoded hash does not parse: %v", err)
		}
		if !reflect.DeepEqual(again, h) {
			t.Fatalf("re-encoded hash parses differently")
		}
	})
}
