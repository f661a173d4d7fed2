package weierstrass

import "math/big"

// Point is an affine point. The zero Point (nil coordinates) is the point at
// infinity, the identity of the group.
type Point struct {
	X, Y *big.Int
}

// Infinity returns the point at infinity.
func Infinity() Point { return Point{} }

// IsInfinity reports whether p is the point at infinity.
func (p Point) IsInfinity() bool { return p.X == nil || p.Y == nil }

// Equal reports whether p and q are the same point.
func (p Point) Equal(q Point) bool {
	if p.IsInfinity() || q.IsInfinity() {
		return p.IsInfinity() == q.IsInfinity()
	}
	return p.X.Cmp(q.X) == 0 && p.Y.Cmp(q.Y) == 0
}

// IsOnCurve reports whether p is an affine point with coordinates in [0, p-1]
// satisfying y² = x³ + ax + b. The point at infinity is not on the curve in
// this sense (SEC 1 v2.0 §3.2.2.1 step 1 rejects it).
func (c *Curve) IsOnCurve(p Point) bool {
	if p.IsInfinity() || !c.inField(p.X) || !c.inField(p.Y) {
		return false
	}
	return c.rhs(p.X).Cmp(c.mul(p.Y, p.Y)) == 0
}

// rhs returns x³ + ax + b mod p.
func (c *Curve) rhs(x *big.Int) *big.Int {
	r := c.mul(c.mul(x, x), x)
	r.Add(r, c.mul(c.A, x))
	r.Add(r, c.B)
	return r.Mod(r, c.P)
}

func (c *Curve) inField(v *big.Int) bool { return v.Sign() >= 0 && v.Cmp(c.P) < 0 }

// Neg returns -p = (x, -y).
func (c *Curve) Neg(p Point) Point {
	if p.IsInfinity() {
		return p
	}
	y := new(big.Int).Neg(p.Y)
	return Point{X: new(big.Int).Set(p.X), Y: y.Mod(y, c.P)}
}

// Add returns p + q. Neither input is checked to be on the curve.
func (c *Curve) Add(p, q Point) Point { return c.affine(c.add(c.jacobian(p), c.jacobian(q))) }

// Double returns 2p. The input is not checked to be on the curve.
func (c *Curve) Double(p Point) Point { return c.affine(c.double(c.jacobian(p))) }

// ScalarBaseMult returns k·G for the big-endian scalar k (any length, any
// value; k = 0 and multiples of n give infinity). It reduces k mod n (G has
// order n) and adds one precomputed multiple of G per 4-bit digit, with no
// doubling: about a fifth of ScalarMult's work (BenchmarkScalarBaseMult).
// Like ScalarMult it is not constant time: the digits pick the table
// entries, and the table is indexed by the secret.
func (c *Curve) ScalarBaseMult(k []byte) Point {
	if c.base == nil {
		return c.ScalarMult(c.Generator(), k)
	}
	c.base.once.Do(func() { c.base.wins = c.baseWins() })
	e := new(big.Int).SetBytes(k)
	e.Mod(e, c.N)
	acc := jpoint{x: new(big.Int), y: new(big.Int), z: new(big.Int)} // infinity
	for i, win := range c.base.wins {
		if d := digit(e, i); d != 0 {
			acc = c.add(acc, win[d-1])
		}
	}
	return c.affine(acc)
}

// baseBits is the width of ScalarBaseMult's digits; baseDigits the nonzero
// values of one.
const (
	baseBits   = 4
	baseDigits = 1<<baseBits - 1
)

// baseWins returns wins[i][d-1] = d·16^i·G for every digit position i of a
// scalar below n and every digit d in 1..15, in affine form (Z = 1).
func (c *Curve) baseWins() [][baseDigits]jpoint {
	wins := make([][baseDigits]jpoint, (c.N.BitLen()+baseBits-1)/baseBits)
	step := c.jacobian(c.Generator()) // 16^i·G
	for i := range wins {
		acc := step
		for d := range baseDigits {
			if d > 0 {
				acc = c.add(acc, step)
			}
			wins[i][d] = c.jacobian(c.affine(acc))
		}
		step = c.double(c.double(c.double(c.double(step))))
	}
	return wins
}

// digit returns the i-th 4-bit digit of e, least significant first.
func digit(e *big.Int, i int) int {
	d := 0
	for b := baseBits - 1; b >= 0; b-- {
		d = d<<1 | int(e.Bit(i*baseBits+b))
	}
	return d
}

// ScalarMult returns k·p for the big-endian scalar k (any length, any value;
// k = 0 gives infinity). The point is NOT checked: an off-curve p is
// multiplied on the curve with the same a through p (the invalid-curve
// attack). Left-to-right double-and-add; not constant time.
func (c *Curve) ScalarMult(p Point, k []byte) Point {
	base := c.jacobian(p)
	acc := jpoint{x: new(big.Int), y: new(big.Int), z: new(big.Int)} // infinity
	for _, byt := range k {
		for bit := 7; bit >= 0; bit-- {
			acc = c.double(acc)
			if byt>>uint(bit)&1 == 1 {
				acc = c.add(acc, base)
			}
		}
	}
	return c.affine(acc)
}

// jpoint is a point in Jacobian coordinates: (X/Z², Y/Z³); Z = 0 is infinity.
type jpoint struct{ x, y, z *big.Int }

func (j jpoint) isInfinity() bool { return j.z.Sign() == 0 }

func (c *Curve) jacobian(p Point) jpoint {
	if p.IsInfinity() {
		return jpoint{x: new(big.Int), y: new(big.Int), z: new(big.Int)}
	}
	return jpoint{
		x: new(big.Int).Mod(p.X, c.P),
		y: new(big.Int).Mod(p.Y, c.P),
		z: big.NewInt(1),
	}
}

func (c *Curve) affine(j jpoint) Point {
	if j.isInfinity() {
		return Infinity()
	}
	zinv := new(big.Int).ModInverse(j.z, c.P)
	zinv2 := c.mul(zinv, zinv)
	return Point{X: c.mul(j.x, zinv2), Y: c.mul(j.y, c.mul(zinv2, zinv))}
}

func (c *Curve) mul(a, b *big.Int) *big.Int {
	r := new(big.Int).Mul(a, b)
	return r.Mod(r, c.P)
}

func (c *Curve) sub(a, b *big.Int) *big.Int {
	r := new(big.Int).Sub(a, b)
	return r.Mod(r, c.P)
}

func (c *Curve) addm(a, b *big.Int) *big.Int {
	r := new(big.Int).Add(a, b)
	return r.Mod(r, c.P)
}

func (c *Curve) small(k int64, a *big.Int) *big.Int { return c.mul(big.NewInt(k), a) }

// double is doubling in Jacobian coordinates for a general a:
//
//	M = 3X² + aZ⁴,  S = 4XY²
//	X' = M² − 2S,  Y' = M(S − X') − 8Y⁴,  Z' = 2YZ
//
// A point with Y = 0 has order 2 and doubles to Z' = 0, infinity.
func (c *Curve) double(p jpoint) jpoint {
	if p.isInfinity() {
		return p
	}
	yy := c.mul(p.y, p.y)
	zz := c.mul(p.z, p.z)
	m := c.addm(c.small(3, c.mul(p.x, p.x)), c.mul(c.A, c.mul(zz, zz)))
	s := c.small(4, c.mul(p.x, yy))
	x := c.sub(c.mul(m, m), c.small(2, s))
	y := c.sub(c.mul(m, c.sub(s, x)), c.small(8, c.mul(yy, yy)))
	z := c.small(2, c.mul(p.y, p.z))
	return jpoint{x: x, y: y, z: z}
}

// add is addition in Jacobian coordinates:
//
//	U1 = X1·Z2², U2 = X2·Z1², S1 = Y1·Z2³, S2 = Y2·Z1³, H = U2 − U1, R = S2 − S1
//	X3 = R² − H³ − 2·U1·H²,  Y3 = R(U1·H² − X3) − S1·H³,  Z3 = H·Z1·Z2
//
// H = 0 means equal x: the same point (double it) or opposite points (infinity).
func (c *Curve) add(p, q jpoint) jpoint {
	if p.isInfinity() {
		return q
	}
	if q.isInfinity() {
		return p
	}
	z1z1 := c.mul(p.z, p.z)
	z2z2 := c.mul(q.z, q.z)
	u1 := c.mul(p.x, z2z2)
	u2 := c.mul(q.x, z1z1)
	s1 := c.mul(p.y, c.mul(q.z, z2z2))
	s2 := c.mul(q.y, c.mul(p.z, z1z1))
	h := c.sub(u2, u1)
	r := c.sub(s2, s1)
	if h.Sign() == 0 {
		if r.Sign() == 0 {
			return c.double(p)
		}
		return jpoint{x: new(big.Int), y: new(big.Int), z: new(big.Int)}
	}
	hh := c.mul(h, h)
	hhh := c.mul(hh, h)
	v := c.mul(u1, hh)
	x := c.sub(c.sub(c.mul(r, r), hhh), c.small(2, v))
	y := c.sub(c.mul(r, c.sub(v, x)), c.mul(s1, hhh))
	z := c.mul(h, c.mul(p.z, q.z))
	return jpoint{x: x, y: y, z: z}
}
