package main

import "math/big"

// curve holds short-Weierstrass domain parameters T = (p, a, b, G, n, h),
// SEC 1 v2.0 §3.1.1, for y² = x³ + ax + b over GF(p).
type curve struct {
	name    string
	p, a, b *big.Int
	gx, gy  *big.Int
	n       *big.Int
}

// point is an affine point; inf marks the point at infinity O.
type point struct {
	x, y *big.Int
	inf  bool
}

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("vectorgen: bad curve constant " + s)
	}
	return v
}

// secp160r1: SEC 2 v1.0 §2.4.2 (recommended parameters secp160r1).
var secp160r1 = &curve{
	name: "secp160r1",
	p:    hexInt("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF7FFFFFFF"),
	a:    hexInt("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF7FFFFFFC"),
	b:    hexInt("1C97BEFC54BD7A8B65ACF89F81D4D4ADC565FA45"),
	gx:   hexInt("4A96B5688EF573284664698968C38BB913CBFC82"),
	gy:   hexInt("23A628553168947D59DCC912042351377AC5FB32"),
	n:    hexInt("0100000000000000000001F4C8F927AED3CA752257"),
}

// p256 (secp256r1): SEC 2 v2.0 §2.4.2, FIPS 186-4 §D.1.2.3. The generator
// runs its own arithmetic on P-256 only so the tests can compare it with
// crypto/ecdh and so trust it on secp160r1.
var p256 = &curve{
	name: "p256",
	p:    hexInt("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF"),
	a:    hexInt("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC"),
	b:    hexInt("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B"),
	gx:   hexInt("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"),
	gy:   hexInt("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"),
	n:    hexInt("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"),
}

func (c *curve) generator() point { return point{x: c.gx, y: c.gy} }

func (c *curve) fieldLen() int  { return (c.p.BitLen() + 7) / 8 }
func (c *curve) scalarLen() int { return (c.n.BitLen() + 7) / 8 }

func (c *curve) mod(v *big.Int) *big.Int { return v.Mod(v, c.p) }

// onCurve reports whether y² = x³ + ax + b (mod p) with 0 <= x, y < p.
func (c *curve) onCurve(q point) bool {
	if q.inf || q.x.Sign() < 0 || q.y.Sign() < 0 || q.x.Cmp(c.p) >= 0 || q.y.Cmp(c.p) >= 0 {
		return false
	}
	lhs := c.mod(new(big.Int).Mul(q.y, q.y))
	rhs := new(big.Int).Mul(q.x, q.x)
	rhs.Mul(rhs, q.x)
	rhs.Add(rhs, new(big.Int).Mul(c.a, q.x))
	rhs.Add(rhs, c.b)
	return lhs.Cmp(c.mod(rhs)) == 0
}

// add is the affine group law of SEC 1 v2.0 §2.2.1.
func (c *curve) add(p1, p2 point) point {
	switch {
	case p1.inf:
		return p2
	case p2.inf:
		return p1
	}
	var lambda *big.Int
	if p1.x.Cmp(p2.x) == 0 {
		if new(big.Int).Add(p1.y, p2.y).Cmp(c.p) == 0 || p1.y.Sign() == 0 && p2.y.Sign() == 0 {
			return point{inf: true} // P + (-P) = O
		}
		// Doubling: λ = (3x² + a) / 2y.
		num := new(big.Int).Mul(p1.x, p1.x)
		num.Mul(num, big.NewInt(3))
		num.Add(num, c.a)
		den := new(big.Int).Lsh(p1.y, 1)
		lambda = num.Mul(num, den.ModInverse(c.mod(den), c.p))
	} else {
		// λ = (y2 - y1) / (x2 - x1).
		num := new(big.Int).Sub(p2.y, p1.y)
		den := c.mod(new(big.Int).Sub(p2.x, p1.x))
		lambda = num.Mul(num, den.ModInverse(den, c.p))
	}
	c.mod(lambda)
	x3 := new(big.Int).Mul(lambda, lambda)
	x3.Sub(x3, p1.x)
	x3.Sub(x3, p2.x)
	c.mod(x3)
	y3 := new(big.Int).Sub(p1.x, x3)
	y3.Mul(y3, lambda)
	y3.Sub(y3, p1.y)
	c.mod(y3)
	return point{x: x3, y: y3}
}

// mul computes kP by double-and-add. It is variable-time, which is fine
// for a generator of public test data.
func (c *curve) mul(k *big.Int, q point) point {
	r := point{inf: true}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = c.add(r, r)
		if k.Bit(i) == 1 {
			r = c.add(r, q)
		}
	}
	return r
}

// encode is the uncompressed SEC 1 v2.0 §2.3.3 encoding 0x04 || X || Y.
func (c *curve) encode(q point) []byte {
	n := c.fieldLen()
	out := make([]byte, 1+2*n)
	out[0] = 4
	q.x.FillBytes(out[1 : 1+n])
	q.y.FillBytes(out[1+n:])
	return out
}

// decode parses the uncompressed encoding; a wrong length or prefix gives
// the point at infinity, which onCurve rejects.
func (c *curve) decode(b []byte) point {
	n := c.fieldLen()
	if len(b) != 1+2*n || b[0] != 4 {
		return point{inf: true}
	}
	return point{x: new(big.Int).SetBytes(b[1 : 1+n]), y: new(big.Int).SetBytes(b[1+n:])}
}
