package weierstrass_test

import (
	"crypto/rand"
	"testing"

	"shakedown/handshake/seed/weierstrass"
)

// BenchmarkScalarBaseMult sets the base point's table (ScalarBaseMult)
// beside the generic double-and-add (ScalarMult of G) on both curves: the
// cost of a seed device's ephemeral key and of checking a fixture's public
// value.
func BenchmarkScalarBaseMult(b *testing.B) {
	for _, c := range []*weierstrass.Curve{weierstrass.Secp160r1(), weierstrass.P256()} {
		k := make([]byte, c.ScalarLen())
		if _, err := rand.Read(k); err != nil {
			b.Fatal(err)
		}
		c.ScalarBaseMult(k) // the table, once
		b.Run(c.Name+"/table", func(b *testing.B) {
			for b.Loop() {
				c.ScalarBaseMult(k)
			}
		})
		b.Run(c.Name+"/double-and-add", func(b *testing.B) {
			for b.Loop() {
				c.ScalarMult(c.Generator(), k)
			}
		})
	}
}
