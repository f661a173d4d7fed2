// Package weierstrass is generic elliptic-curve arithmetic on short-Weierstrass
// curves y² = x³ + ax + b over a prime field, written on math/big.
//
// It exists to reproduce the seed profile on curves the standard library does
// not offer (secp160r1, the seed discussion's "160-bit keys") and to show what
// a device that skips point validation computes. It is NOT constant time and
// must not protect real secrets: every operation branches on and allocates
// according to its inputs.
//
// The group law is that of SEC 1 v2.0 §2.2.1, computed in Jacobian
// coordinates (x = X/Z², y = Y/Z³). The formulas use the coefficient a and
// the prime p but never b, so ScalarMult of a point that is not on the curve
// computes on the curve y² = x³ + ax + b' that passes through it. That is the
// invalid-curve attack, and it is why callers that take points from a peer
// must call Check first.
//
//	c := weierstrass.Secp160r1()
//	q := c.ScalarBaseMult(k)                 // k: big-endian scalar
//	enc := c.Marshal(q)                      // 0x04 || X || Y
//	p, err := c.Unmarshal(enc)               // structure and range checks
//	err = c.Check(p)                         // on the curve, not infinity
package weierstrass
