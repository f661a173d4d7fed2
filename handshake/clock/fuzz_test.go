package clock_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"shakedown/handshake/clock"
)

// FuzzVerifyResponse feeds the client's check any response: it must never
// panic, and never accept one under a key that signed nothing.
func FuzzVerifyResponse(f *testing.F) {
	nonce := make([]byte, 32)
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	rs, err := clock.NewRoughtimeServer(key, nowFixed)
	if err != nil {
		f.Fatal(err)
	}
	req := clock.Request(nonce, key.Public().(ed25519.PublicKey))
	f.Add(rs.Respond(req))
	f.Add([]byte("ROUGHTIM\x04\x00\x00\x00\x00\x00\x00\x00"))
	other := ed25519.NewKeyFromSeed(append(make([]byte, ed25519.SeedSize-1), 1)).Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, resp []byte) {
		if _, _, err := clock.VerifyResponse(req, resp, other); err == nil {
			t.Fatal("accepted a response under a key that signed nothing")
		}
	})
}

func nowFixed() time.Time { return time.Unix(1_800_000_000, 0) }

// FuzzRespond feeds the server any request: it must never panic, and
// answer nothing larger than the request (draft-ietf-ntp-roughtime-19
// §5.1: no amplification).
func FuzzRespond(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	rs, err := clock.NewRoughtimeServer(key, nowFixed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(clock.Request(make([]byte, 32), key.Public().(ed25519.PublicKey)))
	f.Add([]byte("ROUGHTIM"))
	f.Fuzz(func(t *testing.T, req []byte) {
		if resp := rs.Respond(req); len(resp) > len(req) {
			t.Fatalf("answered %d bytes to a request of %d", len(resp), len(req))
		}
	})
}
