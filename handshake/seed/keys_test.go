package seed_test

import (
	"bytes"
	"errors"
	"math/big"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake/seed"
)

type constReader byte

func (r constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

var _ = Describe("keys", func() {
	for _, c := range seed.Curves {
		It("generates keys deterministically from the reader ("+string(c)+")", func() {
			priv1, pub1, err := seed.GenerateKey(c, newFixedRand("a"))
			Expect(err).NotTo(HaveOccurred())
			priv2, pub2, err := seed.GenerateKey(c, newFixedRand("a"))
			Expect(err).NotTo(HaveOccurred())
			priv3, _, err := seed.GenerateKey(c, newFixedRand("b"))
			Expect(err).NotTo(HaveOccurred())
			Expect(priv1).To(Equal(priv2))
			Expect(pub1).To(Equal(pub2))
			Expect(priv1).NotTo(Equal(priv3))
			Expect(priv1).To(HaveLen(c.PrivateLen()))
			Expect(pub1).To(HaveLen(c.PointLen()))
			Expect(seed.PublicKey(c, priv1)).To(Equal(pub1))
			Expect(seed.CheckPoint(c, pub1)).To(Succeed())
		})

		It("takes the reader's bytes as the key when they are in range ("+string(c)+")", func() {
			want := bytes.Repeat([]byte{0x01}, c.PrivateLen())
			want[0] = 0 // below n on both curves
			priv, _, err := seed.GenerateKey(c, bytes.NewReader(want))
			Expect(err).NotTo(HaveOccurred())
			Expect(priv).To(Equal(want))
		})

		It("refuses out-of-range private keys ("+string(c)+")", func() {
			w, err := c.Params()
			Expect(err).NotTo(HaveOccurred())
			for _, k := range [][]byte{
				make([]byte, c.PrivateLen()),
				w.N.FillBytes(make([]byte, c.PrivateLen())),
				make([]byte, c.PrivateLen()+1),
				{1},
			} {
				_, err := seed.PublicKey(c, k)
				Expect(err).To(MatchError(seed.ErrPrivateKey))
				_, err = seed.NewDevice(seed.DeviceConfig{DeviceID: "d", Curve: c, Private: k})
				Expect(err).To(HaveOccurred())
			}
		})

		It("reports a broken randomness source ("+string(c)+")", func() {
			_, _, err := seed.GenerateKey(c, failingReader{})
			Expect(err).To(MatchError(seed.ErrRandom))
			_, _, err = seed.GenerateKey(c, constReader(0xff)) // always >= n
			Expect(err).To(MatchError(seed.ErrRandom))
			_, _, err = seed.GenerateKey(c, constReader(0x00)) // always 0
			Expect(err).To(MatchError(seed.ErrRandom))
		})

		It("agrees on the shared secret both ways, checked and unchecked ("+string(c)+")", func() {
			a, pa, err := seed.GenerateKey(c, nil)
			Expect(err).NotTo(HaveOccurred())
			b, pb, err := seed.GenerateKey(c, nil)
			Expect(err).NotTo(HaveOccurred())
			ab, err := seed.ECDH(c, a, pb)
			Expect(err).NotTo(HaveOccurred())
			Expect(ab).To(HaveLen(c.SharedLen()))
			Expect(seed.ECDH(c, b, pa)).To(Equal(ab))
			Expect(seed.UncheckedECDH(c, b, pa)).To(Equal(ab))
		})
	}

	It("parses curve names and refuses others", func() {
		Expect(seed.ParseCurve("secp160r1")).To(Equal(seed.Secp160r1))
		Expect(seed.ParseCurve("p256")).To(Equal(seed.P256))
		_, err := seed.ParseCurve("x25519")
		Expect(err).To(MatchError(seed.ErrUnknownCurve))
		_, _, err = seed.GenerateKey("p384", nil)
		Expect(err).To(MatchError(seed.ErrUnknownCurve))
	})

	It("uses secp160r1 keys of 21 bytes: its n has 161 bits", func() {
		w, err := seed.Secp160r1.Params()
		Expect(err).NotTo(HaveOccurred())
		Expect(w.N.BitLen()).To(Equal(161))
		nm1 := new(big.Int).Sub(w.N, big.NewInt(1))
		_, err = seed.PublicKey(seed.Secp160r1, nm1.FillBytes(make([]byte, 21)))
		Expect(err).NotTo(HaveOccurred())
	})

	It("checks device IDs", func() {
		Expect(seed.ValidID("a")).To(BeTrue())
		Expect(seed.ValidID("Dev_1.2-x")).To(BeTrue())
		Expect(seed.ValidID(string(bytes.Repeat([]byte("z"), 64)))).To(BeTrue())
		Expect(seed.ValidID("")).To(BeFalse())
		Expect(seed.ValidID(string(bytes.Repeat([]byte("z"), 65)))).To(BeFalse())
		Expect(seed.ValidID("a/b")).To(BeFalse())
		Expect(seed.ValidID("a b")).To(BeFalse())
	})
})
