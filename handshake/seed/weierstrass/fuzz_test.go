package weierstrass_test

import (
	"testing"

	"shakedown/handshake/seed/weierstrass"
)

// FuzzUnmarshal feeds arbitrary encodings to Unmarshal, UnmarshalLoose and
// Check on both curves: no panic, and whatever Unmarshal and Check accept
// re-encodes to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, c := range []*weierstrass.Curve{weierstrass.P256(), weierstrass.Secp160r1()} {
		f.Add(c.Marshal(c.Generator()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range []*weierstrass.Curve{weierstrass.P256(), weierstrass.Secp160r1()} {
			if p, err := c.UnmarshalLoose(b); err == nil {
				c.ScalarMult(p, []byte{3})
			}
			p, err := c.Unmarshal(b)
			if err != nil || c.Check(p) != nil {
				continue
			}
			if got := c.Marshal(p); string(got) != string(b) {
				t.Fatalf("%s: re-encoding differs", c.Name)
			}
		}
	})
}
