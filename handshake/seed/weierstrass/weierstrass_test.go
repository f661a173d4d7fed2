package weierstrass_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake/seed/weierstrass"
)

var curves = []*weierstrass.Curve{weierstrass.P256(), weierstrass.Secp160r1()}

func scalar(c *weierstrass.Curve, v *big.Int) []byte { return v.FillBytes(make([]byte, c.ScalarLen())) }

func randomScalar(c *weierstrass.Curve) []byte {
	k, err := rand.Int(rand.Reader, new(big.Int).Sub(c.N, big.NewInt(1)))
	Expect(err).NotTo(HaveOccurred())
	return scalar(c, k.Add(k, big.NewInt(1)))
}

var _ = Describe("domain parameters", func() {
	for _, c := range curves {
		It("has G on the curve, n·G = O and (n-1)·G = -G on "+c.Name, func() {
			Expect(c.IsOnCurve(c.Generator())).To(BeTrue())
			Expect(c.ScalarBaseMult(c.N.Bytes()).IsInfinity()).To(BeTrue())
			nm1 := new(big.Int).Sub(c.N, big.NewInt(1))
			Expect(c.ScalarBaseMult(nm1.Bytes()).Equal(c.Neg(c.Generator()))).To(BeTrue())
			Expect(c.Check(c.Generator())).To(Succeed())
		})
		It("is a group on "+c.Name+": a·G + b·G = (a+b)·G, 2·P = P + P, P + (-P) = O", func() {
			a, b := randomScalar(c), randomScalar(c)
			sum := new(big.Int).Add(new(big.Int).SetBytes(a), new(big.Int).SetBytes(b))
			sum.Mod(sum, c.N)
			pa, pb := c.ScalarBaseMult(a), c.ScalarBaseMult(b)
			Expect(c.Add(pa, pb).Equal(c.ScalarBaseMult(sum.Bytes()))).To(BeTrue())
			Expect(c.Double(pa).Equal(c.Add(pa, pa))).To(BeTrue())
			Expect(c.Add(pa, c.Neg(pa)).IsInfinity()).To(BeTrue())
			Expect(c.Add(weierstrass.Infinity(), pa).Equal(pa)).To(BeTrue())
			Expect(c.ScalarMult(pa, nil).IsInfinity()).To(BeTrue())
			Expect(c.IsOnCurve(pa)).To(BeTrue())
		})
	}
	It("has the lengths the wire format uses", func() {
		Expect(weierstrass.P256().PointLen()).To(Equal(65))
		Expect(weierstrass.P256().ScalarLen()).To(Equal(32))
		Expect(weierstrass.Secp160r1().PointLen()).To(Equal(41))
		Expect(weierstrass.Secp160r1().FieldLen()).To(Equal(20))
		Expect(weierstrass.Secp160r1().ScalarLen()).To(Equal(21))
	})
})

var _ = Describe("P-256 against crypto/ecdh", func() {
	It("computes the same public keys and shared secrets for random keys", func() {
		c := weierstrass.P256()
		for range 16 {
			ka, err := ecdh.P256().GenerateKey(rand.Reader)
			Expect(err).NotTo(HaveOccurred())
			kb, err := ecdh.P256().GenerateKey(rand.Reader)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Marshal(c.ScalarBaseMult(ka.Bytes()))).To(Equal(ka.PublicKey().Bytes()))
			pb, err := c.Unmarshal(kb.PublicKey().Bytes())
			Expect(err).NotTo(HaveOccurred())
			want, err := ka.ECDH(kb.PublicKey())
			Expect(err).NotTo(HaveOccurred())
			Expect(c.ScalarMult(pb, ka.Bytes()).X.FillBytes(make([]byte, 32))).To(Equal(want))
		}
	})
})

type gec2Vector struct {
	Source, Curve     string
	DU, QU, DV, QV, Z string
}

var _ = Describe("secp160r1 known answers", func() {
	It("reproduces the ECDH vector of GEC 2 §4.1", func() {
		raw, err := os.ReadFile("testdata/gec2-ecdh-secp160r1.json")
		Expect(err).NotTo(HaveOccurred())
		var v gec2Vector
		Expect(json.Unmarshal(raw, &v)).To(Succeed())
		h := func(s string) []byte { b, err := hex.DecodeString(s); Expect(err).NotTo(HaveOccurred()); return b }
		c := weierstrass.Secp160r1()
		Expect(c.Marshal(c.ScalarBaseMult(h(v.DU)))).To(Equal(h(v.QU)))
		Expect(c.Marshal(c.ScalarBaseMult(h(v.DV)))).To(Equal(h(v.QV)))
		qv, err := c.Unmarshal(h(v.QV))
		Expect(err).NotTo(HaveOccurred())
		qu, err := c.Unmarshal(h(v.QU))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Check(qu)).To(Succeed())
		Expect(c.ScalarMult(qv, h(v.DU)).X.FillBytes(make([]byte, 20))).To(Equal(h(v.Z)))
		Expect(c.ScalarMult(qu, h(v.DV)).X.FillBytes(make([]byte, 20))).To(Equal(h(v.Z)))
	})
})

var _ = Describe("encoding and validation", func() {
	for _, c := range curves {
		It("round-trips points and refuses bad encodings on "+c.Name, func() {
			p := c.ScalarBaseMult(randomScalar(c))
			enc := c.Marshal(p)
			Expect(enc).To(HaveLen(c.PointLen()))
			q, err := c.Unmarshal(enc)
			Expect(err).NotTo(HaveOccurred())
			Expect(q.Equal(p)).To(BeTrue())

			inf, err := c.Unmarshal([]byte{0x00})
			Expect(err).NotTo(HaveOccurred())
			Expect(inf.IsInfinity()).To(BeTrue())
			Expect(c.Check(inf)).To(MatchError(weierstrass.ErrInfinity))
			Expect(c.Marshal(inf)).To(Equal([]byte{0x00}))

			_, err = c.Unmarshal(make([]byte, c.PointLen()))
			Expect(err).To(MatchError(weierstrass.ErrEncoding))
			_, err = c.Unmarshal(enc[:len(enc)-1])
			Expect(err).To(MatchError(weierstrass.ErrEncoding))
			_, err = c.Unmarshal(nil)
			Expect(err).To(MatchError(weierstrass.ErrEncoding))

			high := append([]byte{}, enc...)
			c.P.FillBytes(high[1 : 1+c.FieldLen()])
			_, err = c.Unmarshal(high)
			Expect(err).To(MatchError(weierstrass.ErrRange))
			loose, err := c.UnmarshalLoose(high)
			Expect(err).NotTo(HaveOccurred())
			Expect(loose.X.Sign()).To(Equal(0))

			off := append([]byte{}, enc...)
			off[len(off)-1] ^= 1
			q, err = c.Unmarshal(off)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Check(q)).To(MatchError(weierstrass.ErrNotOnCurve))
			Expect(c.Check(weierstrass.Point{X: new(big.Int).Set(c.P), Y: big.NewInt(0)})).To(MatchError(weierstrass.ErrRange))
		})

		It("multiplies an off-curve point of order 2 on another curve ("+c.Name+")", func() {
			// (x0, 0) lies on y² = x³ + ax + b' with b' = -(x0³ + a·x0): its
			// double is O, so k·P = P for odd k and O for even k.
			p := weierstrass.Point{X: big.NewInt(5), Y: big.NewInt(0)}
			Expect(c.IsOnCurve(p)).To(BeFalse())
			Expect(c.Double(p).IsInfinity()).To(BeTrue())
			Expect(c.ScalarMult(p, []byte{7}).Equal(p)).To(BeTrue())
			Expect(c.ScalarMult(p, []byte{8}).IsInfinity()).To(BeTrue())
		})
	}
})

var _ = Describe("multiplying the base point", func() {
	for _, c := range curves {
		It("gives ScalarMult's k·G for every scalar, reduced or not, on "+c.Name, func() {
			n := c.N
			bounds := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(15), big.NewInt(16), big.NewInt(17),
				new(big.Int).Sub(n, big.NewInt(1)), n, new(big.Int).Add(n, big.NewInt(1)), new(big.Int).Lsh(n, 1),
				new(big.Int).Lsh(big.NewInt(1), uint(n.BitLen()-1)), new(big.Int).Lsh(big.NewInt(15), uint(n.BitLen()-1))}
			ks := [][]byte{nil, {0}, bytesOf(0xff, c.ScalarLen()), bytesOf(0xff, 3*c.ScalarLen())}
			for _, b := range bounds {
				ks = append(ks, b.Bytes())
			}
			for range 200 {
				ks = append(ks, randomScalar(c))
			}
			for _, k := range ks {
				want := c.ScalarMult(c.Generator(), k)
				Expect(c.ScalarBaseMult(k).Equal(want)).To(BeTrue(), "k = %x", k)
			}
		})

		It("falls back to ScalarMult for a curve built without the table, and a copy through another b shares it ("+c.Name+")", func() {
			own := weierstrass.Curve{Name: c.Name, P: c.P, A: c.A, B: c.B, Gx: c.Gx, Gy: c.Gy, N: c.N, H: c.H}
			other := *c
			other.B = big.NewInt(7)
			for range 20 {
				k := randomScalar(c)
				Expect(own.ScalarBaseMult(k).Equal(c.ScalarBaseMult(k))).To(BeTrue())
				Expect(other.ScalarBaseMult(k).Equal(other.ScalarMult(other.Generator(), k))).To(BeTrue())
			}
		})
	}
})

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}
