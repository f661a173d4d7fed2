package main

import (
	"fmt"
	"math/big"

	"shakedown/boards/firmware/test/internal/cgen"
)

// fieldCase is one input pair of the field-arithmetic vectors with the
// canonical results of a + b, a - b and a * b mod p.
type fieldCase struct{ a, b, sum, diff, prod *big.Int }

func fieldOps(p, a, b *big.Int) fieldCase {
	s := new(big.Int).Add(a, b)
	d := new(big.Int).Sub(a, b)
	m := new(big.Int).Mul(a, b)
	return fieldCase{a, b, s.Mod(s, p), d.Mod(d, p), m.Mod(m, p)}
}

// leBytes is the little-endian encoding of v in n bytes (RFC 7748 §5).
func leBytes(v *big.Int, n int) []byte {
	b := v.FillBytes(make([]byte, n))
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// genFe25519 covers GF(2^255 - 19) as x25519.c holds it: any value below
// 2^256, not only below p, so the edge inputs include 2^256 - 1, p, 2p and
// the top of [2p, 2^256), which the final reduction must bring under p.
func genFe25519(h *cgen.Header) {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	top := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	edges := []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(19), big.NewInt(38),
		new(big.Int).Sub(p, big.NewInt(1)), p, new(big.Int).Add(p, big.NewInt(1)),
		new(big.Int).Lsh(p, 1), new(big.Int).Add(new(big.Int).Lsh(p, 1), big.NewInt(37)),
		new(big.Int).Sub(top, big.NewInt(1)), top,
		new(big.Int).Lsh(big.NewInt(1), 255),
	}
	h.Printf("\n/* GF(2^255 - 19) on inputs below 2^256, little-endian, by math/big:\n")
	h.Printf(" * a + b, a - b, a * b mod p (canonical), and a itself reduced. */\n")
	h.Printf("struct gen_fe {\n\tconst char *a, *b, *sum, *diff, *prod;\n};\n")
	h.Printf("static const struct gen_fe gen_fe25519[] = {\n")
	var cases []fieldCase
	for i, a := range edges {
		cases = append(cases, fieldOps(p, a, edges[(i*5+3)%len(edges)]))
		cases = append(cases, fieldOps(p, a, a))
	}
	for i := 0; i < 16; i++ {
		a := new(big.Int).SetBytes(h.Random(32))
		b := new(big.Int).SetBytes(h.Random(32))
		cases = append(cases, fieldOps(p, a, b))
	}
	for _, c := range cases {
		h.Printf("\t{%s,\n\t %s,\n\t %s,\n\t %s,\n\t %s},\n",
			hexLit(leBytes(c.a, 32)), hexLit(leBytes(c.b, 32)),
			hexLit(leBytes(c.sum, 32)), hexLit(leBytes(c.diff, 32)), hexLit(leBytes(c.prod, 32)))
	}
	h.Printf("};\n")
}

// genWeierstrassField covers GF(p) of a short-Weierstrass curve on inputs
// below p, big-endian.
func genWeierstrassField(h *cgen.Header, c *curve) {
	p := c.p
	n := c.fieldLen()
	edges := []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(2), new(big.Int).Sub(p, big.NewInt(1)),
		new(big.Int).Sub(p, big.NewInt(2)), new(big.Int).Rsh(p, 1), new(big.Int).Add(new(big.Int).Rsh(p, 1), big.NewInt(1)),
		new(big.Int).Lsh(big.NewInt(1), uint(p.BitLen()-1)),
	}
	h.Printf("\n/* GF(p) of %s on inputs below p, big-endian, by math/big. */\n", c.name)
	h.Printf("static const struct gen_fe gen_f%s[] = {\n", c.name)
	var cases []fieldCase
	for i, a := range edges {
		cases = append(cases, fieldOps(p, a, edges[(i*3+1)%len(edges)]))
		cases = append(cases, fieldOps(p, a, a))
	}
	for i := 0; i < 12; i++ {
		a := new(big.Int).Mod(new(big.Int).SetBytes(h.Random(n)), p)
		b := new(big.Int).Mod(new(big.Int).SetBytes(h.Random(n)), p)
		cases = append(cases, fieldOps(p, a, b))
	}
	for _, fc := range cases {
		h.Printf("\t{%s,\n\t %s,\n\t %s,\n\t %s,\n\t %s},\n",
			hexLit(fc.a.FillBytes(make([]byte, n))), hexLit(fc.b.FillBytes(make([]byte, n))),
			hexLit(fc.sum.FillBytes(make([]byte, n))), hexLit(fc.diff.FillBytes(make([]byte, n))),
			hexLit(fc.prod.FillBytes(make([]byte, n))))
	}
	h.Printf("};\n")
}

// smallX returns the point with the smallest x >= 0 on the curve (and the
// smaller of its two y). Its encoding with x + p in place of x still fits
// field_len bytes, which tests SEC 1 v2.0 §3.2.2.1 step 2 on x alone.
func (c *curve) smallX() point {
	for x := int64(0); ; x++ {
		bx := big.NewInt(x)
		rhs := new(big.Int).Mul(bx, bx)
		rhs.Mul(rhs, bx)
		rhs.Add(rhs, new(big.Int).Mul(c.a, bx))
		rhs.Add(rhs, c.b)
		c.mod(rhs)
		y := new(big.Int).ModSqrt(rhs, c.p)
		if y == nil {
			continue
		}
		if alt := new(big.Int).Sub(c.p, y); alt.Cmp(y) < 0 {
			y = alt
		}
		return point{x: bx, y: y}
	}
}

// smallY returns a point with a small y, found by solving the cubic
// x^3 + ax + (b - y^2) = 0 for y = 1, 2, ... until it has exactly one
// root (then gcd(x^p - x, f) is linear). The encoding with y + p fits
// field_len bytes only when p is far enough below 2^(8 field_len): true
// of P-256, not of secp160r1.
func (c *curve) smallY() (point, error) {
	for y := int64(1); y < 1000; y++ {
		by := big.NewInt(y)
		c0 := new(big.Int).Sub(c.b, new(big.Int).Mul(by, by))
		c.mod(c0)
		f := poly{c0, new(big.Int).Set(c.a), big.NewInt(0), big.NewInt(1)} // monic cubic
		xp := c.polyPowX(f, c.p)                                           // x^p mod f
		xp = c.polySub(xp, poly{big.NewInt(0), big.NewInt(1)})
		g := c.polyGCD(f, xp)
		if len(g) == 2 {
			// g = g0 + g1 x: the root is -g0 / g1.
			inv := new(big.Int).ModInverse(g[1], c.p)
			x := new(big.Int).Neg(g[0])
			x.Mul(x, inv)
			c.mod(x)
			q := point{x: x, y: by}
			if !c.onCurve(q) {
				return point{}, fmt.Errorf("%s: root finding produced a point off the curve", c.name)
			}
			return q, nil
		}
	}
	return point{}, fmt.Errorf("%s: no small y found", c.name)
}

// poly is a polynomial over GF(p), lowest coefficient first, no trailing
// zeros except for the zero polynomial (empty).
type poly []*big.Int

func (c *curve) trim(a poly) poly {
	for len(a) > 0 && a[len(a)-1].Sign() == 0 {
		a = a[:len(a)-1]
	}
	return a
}

func (c *curve) polySub(a, b poly) poly {
	n := max(len(a), len(b))
	r := make(poly, n)
	for i := range r {
		r[i] = new(big.Int)
		if i < len(a) {
			r[i].Add(r[i], a[i])
		}
		if i < len(b) {
			r[i].Sub(r[i], b[i])
		}
		c.mod(r[i])
	}
	return c.trim(r)
}

func (c *curve) polyMul(a, b poly) poly {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	r := make(poly, len(a)+len(b)-1)
	for i := range r {
		r[i] = new(big.Int)
	}
	for i, x := range a {
		for j, y := range b {
			r[i+j].Add(r[i+j], new(big.Int).Mul(x, y))
		}
	}
	for _, v := range r {
		c.mod(v)
	}
	return c.trim(r)
}

// polyMod returns a mod m.
func (c *curve) polyMod(a, m poly) poly {
	a = c.trim(append(poly(nil), a...))
	lead := new(big.Int).ModInverse(m[len(m)-1], c.p)
	for len(a) >= len(m) {
		k := new(big.Int).Mul(a[len(a)-1], lead)
		c.mod(k)
		shift := len(a) - len(m)
		for i, v := range m {
			t := new(big.Int).Mul(k, v)
			a[shift+i] = c.mod(new(big.Int).Sub(a[shift+i], t))
		}
		a = c.trim(a)
	}
	return a
}

// polyPowX returns x^e mod f.
func (c *curve) polyPowX(f poly, e *big.Int) poly {
	r := poly{big.NewInt(1)}
	base := poly{big.NewInt(0), big.NewInt(1)}
	for i := e.BitLen() - 1; i >= 0; i-- {
		r = c.polyMod(c.polyMul(r, r), f)
		if e.Bit(i) == 1 {
			r = c.polyMod(c.polyMul(r, base), f)
		}
	}
	return r
}

func (c *curve) polyGCD(a, b poly) poly {
	a, b = c.trim(a), c.trim(b)
	for len(b) > 0 {
		a, b = b, c.polyMod(a, b)
	}
	return a
}
