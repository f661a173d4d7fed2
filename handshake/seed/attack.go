package seed

import (
	"math/big"

	"shakedown/handshake/seed/weierstrass"
)

// invalidX0 is the x-coordinate of InvalidCurvePoint. Any x0 with
// x0³ + a·x0 + b ≠ 0 (mod p) works; 1 is off both curves.
const invalidX0 = 1

// InvalidCurvePoint returns the msg2 of the invalid-curve attack on c: the
// point P = (x0, 0), x0 = 1, uncompressed. P is not on c (so a correct
// device refuses it with ReasonBadPoint) but on y² = x³ + a·x + b' with
// b' = -(x0³ + a·x0), where it has order 2: its tangent is vertical, 2P = O.
//
// A device with SkipPointCheck computes k·P with formulas that never use b,
// that is on the curve of b', and gets P for odd k and O for even k. It then
// derives its keys from x0 (odd k) or, taking infinity as (0, 0), from an
// all-zero secret (even k); InvalidCurveSecrets returns both. The attacker
// impersonating the server tries both keys on the device's first record:
// whichever opens it tells the parity of the device's private key, and for
// an odd key the attacker holds the session. With points of other small
// orders (on other b'), the residues of k modulo those orders follow, and
// by the Chinese remainder theorem the key itself.
func InvalidCurvePoint(c Curve) []byte {
	w, err := c.Params()
	if err != nil {
		return nil
	}
	return w.Marshal(weierstrass.Point{X: big.NewInt(invalidX0), Y: new(big.Int)})
}

// InvalidCurveSecrets returns the shared secrets a SkipPointCheck device
// derives from InvalidCurvePoint(c): odd when its private key is odd (x0,
// big-endian) and even when it is even (all zero).
func InvalidCurveSecrets(c Curve) (odd, even []byte) {
	n := c.SharedLen()
	odd = big.NewInt(invalidX0).FillBytes(make([]byte, n))
	return odd, make([]byte, n)
}

// IdentityPoint returns the encoding of the point at infinity, the single
// byte 0x00 (SEC 1 v2.0 §2.3.3). A correct device refuses it with
// ReasonBadPoint; a device with SkipPointCheck multiplies it to infinity and
// derives its keys from an all-zero secret, which the attacker knows.
func IdentityPoint() []byte { return []byte{identityPrefix} }
