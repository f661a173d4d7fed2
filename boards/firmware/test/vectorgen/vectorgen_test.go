package main

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	Expect(err).NotTo(HaveOccurred())
	return b
}

var _ = Describe("the generated header", func() {
	It("is what the generator prints, byte for byte", func() {
		var buf bytes.Buffer
		Expect(generate(&buf)).To(Succeed())
		checkedIn, err := os.ReadFile("../vectors/generated.h")
		Expect(err).NotTo(HaveOccurred())
		Expect(buf.String()).To(Equal(string(checkedIn)),
			"regenerate with: go run ./boards/firmware/test/vectorgen -o boards/firmware/test/vectors/generated.h")
	})

	It("is the same on every run", func() {
		var a, b bytes.Buffer
		Expect(generate(&a)).To(Succeed())
		Expect(generate(&b)).To(Succeed())
		Expect(a.Bytes()).To(Equal(b.Bytes()))
	})
})

var _ = Describe("the math/big short-Weierstrass arithmetic", func() {
	DescribeTable("has consistent domain parameters",
		func(c *curve) {
			Expect(c.p.ProbablyPrime(32)).To(BeTrue(), "p is prime")
			Expect(c.n.ProbablyPrime(32)).To(BeTrue(), "n is prime")
			Expect(new(big.Int).Sub(c.p, c.a)).To(Equal(big.NewInt(3)), "a = -3")
			Expect(c.onCurve(c.generator())).To(BeTrue(), "G is on the curve")
			Expect(c.mul(c.n, c.generator()).inf).To(BeTrue(), "n G = O")
			minusG := c.mul(new(big.Int).Sub(c.n, big.NewInt(1)), c.generator())
			Expect(minusG.x).To(Equal(c.gx))
			Expect(new(big.Int).Add(minusG.y, c.gy)).To(Equal(c.p), "(n-1) G = -G")
		},
		Entry("secp160r1 (SEC 2 v1.0 §2.4.2)", secp160r1),
		Entry("P-256 (SEC 2 v2.0 §2.4.2)", p256),
	)

	It("agrees with crypto/ecdh on P-256", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 8; i++ {
			raw := make([]byte, 32)
			for j := range raw {
				raw[j] = byte(rng.Uint32())
			}
			priv, err := ecdh.P256().NewPrivateKey(raw)
			if err != nil {
				continue
			}
			q := p256.mul(new(big.Int).SetBytes(raw), p256.generator())
			Expect(p256.encode(q)).To(Equal(priv.PublicKey().Bytes()))
		}
	})

	It("reproduces GEC 2's ECDH example over secp160r1", func() {
		// GEC 2: Test Vectors for SEC 1 (Certicom Research, v0.3, 1999).
		dU := new(big.Int).SetBytes(mustHex("00aa374ffc3ce144e6b073307972cb6d57b2a4e982"))
		dV := new(big.Int).SetBytes(mustHex("0045fb58a92a17ad4b15101c66e74f277e2b460866"))
		qU := secp160r1.mul(dU, secp160r1.generator())
		qV := secp160r1.mul(dV, secp160r1.generator())
		Expect(hex.EncodeToString(secp160r1.encode(qU))).To(Equal(
			"0451b4496fecc406ed0e75a24a3c03206251419dc0c28dcb4b73a514b468d793894f381ccc1756aa6c"))
		Expect(hex.EncodeToString(secp160r1.encode(qV))).To(Equal(
			"0449b41e0e9c0369c2328739d90f63d56707c6e5bc26e008b567015ed96d232a03111c3edc0e9c8f83"))
		z := secp160r1.mul(dU, qV)
		Expect(hex.EncodeToString(z.x.FillBytes(make([]byte, 20)))).To(Equal("ca7c0f8c3ffa87a96e1b74ac8e6af594347bb40a"))
	})

	It("refuses points off the curve", func() {
		g := secp160r1.generator()
		off := point{x: g.x, y: new(big.Int).Add(g.y, big.NewInt(1))}
		Expect(secp160r1.onCurve(off)).To(BeFalse())
		Expect(secp160r1.onCurve(point{inf: true})).To(BeFalse())
		Expect(secp160r1.onCurve(secp160r1.decode([]byte{4, 1, 2}))).To(BeFalse())
	})

	It("finds non-canonical encodings of valid points", func() {
		for _, c := range []*curve{p256, secp160r1} {
			q := c.smallX()
			Expect(c.onCurve(q)).To(BeTrue())
			Expect(new(big.Int).Add(q.x, c.p).BitLen()).To(BeNumerically("<=", 8*c.fieldLen()))
		}
		q, err := p256.smallY()
		Expect(err).NotTo(HaveOccurred())
		Expect(p256.onCurve(q)).To(BeTrue())
		Expect(new(big.Int).Add(q.y, p256.p).BitLen()).To(BeNumerically("<=", 256))
	})
})
