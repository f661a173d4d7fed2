package seed

import (
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"

	"shakedown/handshake/seed/weierstrass"
)

// Curve names a curve of the seed profile, as stored in
// handshake.DeviceRecord.Curve.
type Curve string

const (
	P256      Curve = "p256"      // NIST P-256 (secp256r1), via crypto/ecdh
	Secp160r1 Curve = "secp160r1" // SEC 2 secp160r1, the seed's "160-bit keys"
)

// Curves lists the seed profile's curves in wire-code order.
var Curves = []Curve{P256, Secp160r1}

// Curve codes of msg1 (byte 1).
const (
	curveCodeP256      = 0x01
	curveCodeSecp160r1 = 0x02
)

// Errors of the key functions. They carry no key bytes.
var (
	ErrUnknownCurve = errors.New("seed: unknown curve (want p256 or secp160r1)")
	ErrPrivateKey   = errors.New("seed: private key not a scalar in [1, n-1] of its length")
	ErrBadPoint     = errors.New("seed: invalid public point")
	ErrRandom       = errors.New("seed: randomness source failed")
)

// maxKeyTries bounds rejection sampling in GenerateKey. A draw is rejected
// with probability below 1/2 (secp160r1: n is just above 2^160 in a 161-bit
// draw), so 64 failures in a row mean a broken source.
const maxKeyTries = 64

// ParseCurve returns the curve named s ("p256" or "secp160r1").
func ParseCurve(s string) (Curve, error) {
	for _, c := range Curves {
		if string(c) == s {
			return c, nil
		}
	}
	return "", ErrUnknownCurve
}

// Params returns the generic domain parameters of c.
func (c Curve) Params() (*weierstrass.Curve, error) {
	switch c {
	case P256:
		return weierstrass.P256(), nil
	case Secp160r1:
		return weierstrass.Secp160r1(), nil
	}
	return nil, ErrUnknownCurve
}

// code is the curve's msg1 byte.
func (c Curve) code() byte {
	if c == Secp160r1 {
		return curveCodeSecp160r1
	}
	return curveCodeP256
}

func curveOfCode(b byte) (Curve, bool) {
	switch b {
	case curveCodeP256:
		return P256, true
	case curveCodeSecp160r1:
		return Secp160r1, true
	}
	return "", false
}

// PointLen is the length of an uncompressed point: 65 (p256), 41 (secp160r1).
func (c Curve) PointLen() int { return c.mustParams().PointLen() }

// SharedLen is the length of the ECDH shared secret, the x-coordinate:
// 32 (p256), 20 (secp160r1).
func (c Curve) SharedLen() int { return c.mustParams().FieldLen() }

// PrivateLen is the length of a private key, a big-endian scalar:
// 32 (p256), 21 (secp160r1, whose order n has 161 bits).
func (c Curve) PrivateLen() int { return c.mustParams().ScalarLen() }

func (c Curve) mustParams() *weierstrass.Curve {
	w, err := c.Params()
	if err != nil {
		panic(err)
	}
	return w
}

// GenerateKey draws a private key from rand (crypto/rand when nil) and returns
// it with its uncompressed public point. It is deterministic: the same reader
// bytes give the same key. A draw is PrivateLen bytes, masked to the bit
// length of n and rejected unless in [1, n-1] (rejection sampling, FIPS
// 186-5 §A.2.2).
func GenerateKey(c Curve, rand io.Reader) (priv, pub []byte, err error) {
	w, err := c.Params()
	if err != nil {
		return nil, nil, err
	}
	if rand == nil {
		rand = defaultRand
	}
	priv = make([]byte, w.ScalarLen())
	mask := byte(0xff >> uint(8*len(priv)-w.N.BitLen()))
	k := new(big.Int)
	for range maxKeyTries {
		if _, err := io.ReadFull(rand, priv); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrRandom, err)
		}
		priv[0] &= mask
		if k.SetBytes(priv); k.Sign() > 0 && k.Cmp(w.N) < 0 {
			pub, err = PublicKey(c, priv)
			return priv, pub, err
		}
	}
	return nil, nil, ErrRandom
}

var defaultRand io.Reader = rand.Reader

// PublicKey returns the uncompressed public point priv·G of a private key of
// PrivateLen bytes in [1, n-1].
func PublicKey(c Curve, priv []byte) ([]byte, error) {
	w, err := c.Params()
	if err != nil {
		return nil, err
	}
	if c == P256 {
		k, err := ecdh.P256().NewPrivateKey(priv)
		if err != nil {
			return nil, ErrPrivateKey
		}
		return k.PublicKey().Bytes(), nil
	}
	if err := checkScalar(w, priv); err != nil {
		return nil, err
	}
	return w.Marshal(w.ScalarBaseMult(priv)), nil
}

func checkScalar(w *weierstrass.Curve, priv []byte) error {
	if len(priv) != w.ScalarLen() {
		return ErrPrivateKey
	}
	k := new(big.Int).SetBytes(priv)
	if k.Sign() == 0 || k.Cmp(w.N) >= 0 {
		return ErrPrivateKey
	}
	return nil
}

// CheckPoint validates an uncompressed public point of c: not the identity,
// coordinates below p, on the curve (SEC 1 v2.0 §3.2.2.1). It returns an
// error wrapping ErrBadPoint.
func CheckPoint(c Curve, pub []byte) error {
	w, err := c.Params()
	if err != nil {
		return err
	}
	p, err := w.Unmarshal(pub)
	if err == nil {
		err = w.Check(p)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadPoint, err)
	}
	return nil
}

// ECDH returns the x-coordinate of priv·peer, SharedLen bytes, after
// validating peer (the correct mode: crypto/ecdh for p256, CheckPoint and the
// generic arithmetic for secp160r1). Errors wrap ErrBadPoint or ErrPrivateKey.
func ECDH(c Curve, priv, peer []byte) ([]byte, error) {
	w, err := c.Params()
	if err != nil {
		return nil, err
	}
	if c == P256 {
		k, err := ecdh.P256().NewPrivateKey(priv)
		if err != nil {
			return nil, ErrPrivateKey
		}
		q, err := ecdh.P256().NewPublicKey(peer)
		if err != nil {
			return nil, ErrBadPoint
		}
		shared, err := k.ECDH(q)
		if err != nil {
			return nil, ErrBadPoint
		}
		return shared, nil
	}
	if err := checkScalar(w, priv); err != nil {
		return nil, err
	}
	if err := CheckPoint(c, peer); err != nil {
		return nil, err
	}
	p, _ := w.Unmarshal(peer)
	r := w.ScalarMult(p, priv)
	if r.IsInfinity() {
		// Unreachable for a valid point and scalar on a cofactor-1 curve.
		return nil, ErrBadPoint
	}
	return r.X.FillBytes(make([]byte, w.FieldLen())), nil
}

// UncheckedECDH is the vulnerable variant (DeviceConfig.SkipPointCheck): it
// decodes peer without validation (coordinates reduced mod p, 0x00 taken as
// the identity), multiplies with the generic arithmetic whatever it got, and
// returns an all-zero x-coordinate when the product is the point at infinity,
// as code that represents infinity by (0, 0) does. Only a wrong length or
// leading byte is refused. It exists so the MITM lab can show what such a
// device derives; see InvalidCurvePoint.
func UncheckedECDH(c Curve, priv, peer []byte) ([]byte, error) {
	w, err := c.Params()
	if err != nil {
		return nil, err
	}
	if err := checkScalar(w, priv); err != nil {
		return nil, err
	}
	p, err := w.UnmarshalLoose(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPoint, err)
	}
	shared := make([]byte, w.FieldLen())
	if r := w.ScalarMult(p, priv); !r.IsInfinity() {
		r.X.FillBytes(shared)
	}
	return shared, nil
}
