package weierstrass

import (
	"math/big"
	"sync"
)

// Curve holds the domain parameters of a short-Weierstrass curve,
// T = (p, a, b, G, n, h) in the notation of SEC 1 v2.0 §3.1.1.
type Curve struct {
	Name   string
	P      *big.Int // the field prime
	A, B   *big.Int // the coefficients of y² = x³ + ax + b
	Gx, Gy *big.Int // the base point G
	N      *big.Int // the order of G
	H      int      // the cofactor

	// base holds ScalarBaseMult's multiples of G, computed on its first
	// call; nil: ScalarBaseMult is ScalarMult of G. It depends on P, A, G
	// and N only, so a copy that changes B (another curve through the same
	// G, as the invalid-curve attack has it) may share it; a copy that
	// changes any of those four must set it to nil.
	base *baseTable
}

type baseTable struct {
	once sync.Once
	wins [][baseDigits]jpoint
}

// FieldLen is the length in bytes of an encoded field element.
func (c *Curve) FieldLen() int { return (c.P.BitLen() + 7) / 8 }

// ScalarLen is the length in bytes of an encoded scalar in [1, n-1]. It can
// exceed FieldLen: secp160r1's n has 161 bits.
func (c *Curve) ScalarLen() int { return (c.N.BitLen() + 7) / 8 }

// PointLen is the length of an uncompressed point encoding, 0x04 || X || Y.
func (c *Curve) PointLen() int { return 1 + 2*c.FieldLen() }

// Generator returns the base point G.
func (c *Curve) Generator() Point {
	return Point{X: new(big.Int).Set(c.Gx), Y: new(big.Int).Set(c.Gy)}
}

func hexInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("weierstrass: bad curve constant")
	}
	return n
}

// secp160r1: SEC 2 v1.0 §2.4.2 (recommended parameters secp160r1).
var secp160r1 = &Curve{
	Name: "secp160r1",
	P:    hexInt("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF7FFFFFFF"),
	A:    hexInt("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF7FFFFFFC"),
	B:    hexInt("1C97BEFC54BD7A8B65ACF89F81D4D4ADC565FA45"),
	Gx:   hexInt("4A96B5688EF573284664698968C38BB913CBFC82"),
	Gy:   hexInt("23A628553168947D59DCC912042351377AC5FB32"),
	N:    hexInt("0100000000000000000001F4C8F927AED3CA752257"),
	H:    1,
	base: new(baseTable),
}

// secp256r1 (P-256): SEC 2 v2.0 §2.4.2, identical to FIPS 186-4 §D.1.2.3.
var p256 = &Curve{
	Name: "p256",
	P:    hexInt("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF"),
	A:    hexInt("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC"),
	B:    hexInt("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B"),
	Gx:   hexInt("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"),
	Gy:   hexInt("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"),
	N:    hexInt("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"),
	H:    1,
	base: new(baseTable),
}

// Secp160r1 returns the SEC 2 curve secp160r1. The result is shared: do not
// modify it.
func Secp160r1() *Curve { return secp160r1 }

// P256 returns the NIST curve P-256 (secp256r1). The result is shared: do not
// modify it.
func P256() *Curve { return p256 }
