package weierstrass

import (
	"errors"
	"math/big"
)

// Point encodings of SEC 1 v2.0 §2.3.3 (uncompressed only):
//
//	infinity:     1B 0x00
//	uncompressed: 1B 0x04 | FieldLen B X, big-endian | FieldLen B Y, big-endian
const (
	TagInfinity     = 0x00
	TagUncompressed = 0x04
)

// Errors of Unmarshal and Check. They carry no input bytes.
var (
	ErrEncoding   = errors.New("weierstrass: not an uncompressed point encoding")
	ErrRange      = errors.New("weierstrass: coordinate not below the field prime")
	ErrInfinity   = errors.New("weierstrass: point at infinity")
	ErrNotOnCurve = errors.New("weierstrass: point not on the curve")
)

// Marshal encodes p uncompressed; infinity is the single byte 0x00.
func (c *Curve) Marshal(p Point) []byte {
	if p.IsInfinity() {
		return []byte{TagInfinity}
	}
	n := c.FieldLen()
	out := make([]byte, 1+2*n)
	out[0] = TagUncompressed
	p.X.FillBytes(out[1 : 1+n])
	p.Y.FillBytes(out[1+n:])
	return out
}

// Unmarshal decodes an encoding made by Marshal: the single byte 0x00
// (infinity) or 0x04 || X || Y with both coordinates in [0, p-1]. It does
// not check that the point is on the curve or not infinity: call Check.
func (c *Curve) Unmarshal(b []byte) (Point, error) {
	if len(b) == 1 && b[0] == TagInfinity {
		return Infinity(), nil
	}
	x, y, err := c.split(b)
	if err != nil {
		return Point{}, err
	}
	if !c.inField(x) || !c.inField(y) {
		return Point{}, ErrRange
	}
	return Point{X: x, Y: y}, nil
}

// UnmarshalLoose decodes like Unmarshal but reduces coordinates modulo p
// instead of refusing them, as code that trusts its peer does. For the
// vulnerable variants only.
func (c *Curve) UnmarshalLoose(b []byte) (Point, error) {
	if len(b) == 1 && b[0] == TagInfinity {
		return Infinity(), nil
	}
	x, y, err := c.split(b)
	if err != nil {
		return Point{}, err
	}
	return Point{X: x.Mod(x, c.P), Y: y.Mod(y, c.P)}, nil
}

func (c *Curve) split(b []byte) (x, y *big.Int, err error) {
	n := c.FieldLen()
	if len(b) != 1+2*n || b[0] != TagUncompressed {
		return nil, nil, ErrEncoding
	}
	return new(big.Int).SetBytes(b[1 : 1+n]), new(big.Int).SetBytes(b[1+n:]), nil
}

// Check is the public-key validation of SEC 1 v2.0 §3.2.2.1 for a curve of
// cofactor 1: p is not infinity, its coordinates are field elements and it
// satisfies the curve equation. With h = 1 (both curves of this package)
// every such point has order n, so step 4 (nQ = O) is implied; it is computed
// only for curves of another cofactor.
func (c *Curve) Check(p Point) error {
	switch {
	case p.IsInfinity():
		return ErrInfinity
	case !c.inField(p.X) || !c.inField(p.Y):
		return ErrRange
	case !c.IsOnCurve(p):
		return ErrNotOnCurve
	case c.H != 1 && !c.ScalarMult(p, c.N.Bytes()).IsInfinity():
		return ErrNotOnCurve
	}
	return nil
}
