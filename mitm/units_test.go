package mitm_test

import (
	"bytes"
	"errors"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/mitm"
)

var _ = Describe("units", func() {
	DescribeTable("cutting a stream",
		func(f mitm.Framing, stream []byte, want [][]byte, end handshake.Reason) {
			r := bytes.NewReader(stream)
			var got [][]byte
			var err error
			for {
				var u mitm.Unit
				u, err = mitm.ReadUnit(r, f, handshake.Noise)
				if err != nil {
					break
				}
				Expect(append(u.Header(), u.Body()...)).To(Equal(u.Wire))
				got = append(got, u.Wire)
			}
			Expect(got).To(Equal(want))
			var he *handshake.Error
			Expect(errors.As(err, &he)).To(BeTrue())
			Expect(he.Reason).To(Equal(end))
			Expect(he.Stage).To(Equal(mitm.StageRelay))
			Expect(errors.Is(err, io.EOF)).To(Equal(end == handshake.ReasonIO))
		},
		Entry("frames", mitm.FramingFrames,
			[]byte{0, 2, 'h', 'i', 0, 1, '!'}, [][]byte{{0, 2, 'h', 'i'}, {0, 1, '!'}}, handshake.ReasonIO),
		Entry("an empty frame is a unit", mitm.FramingFrames,
			[]byte{0, 0, 0, 1, 'x'}, [][]byte{{0, 0}, {0, 1, 'x'}}, handshake.ReasonIO),
		Entry("a frame cut in its body", mitm.FramingFrames,
			[]byte{0, 1, 'a', 0, 3, 'b'}, [][]byte{{0, 1, 'a'}}, handshake.ReasonShortFrame),
		Entry("a frame cut in its header", mitm.FramingFrames,
			[]byte{0}, nil, handshake.ReasonShortFrame),
		Entry("TLS records", mitm.FramingTLS,
			[]byte{22, 3, 1, 0, 2, 'h', 'i', 23, 3, 3, 0, 1, '!'}, [][]byte{{22, 3, 1, 0, 2, 'h', 'i'}, {23, 3, 3, 0, 1, '!'}}, handshake.ReasonIO),
		Entry("a TLS record over 2^14+256 bytes", mitm.FramingTLS,
			[]byte{23, 3, 3, 0x41, 0x01}, nil, handshake.ReasonOversizeFrame),
		Entry("a TLS record cut in its header", mitm.FramingTLS,
			[]byte{23, 3, 3, 0}, nil, handshake.ReasonShortFrame),
	)

	It("gives TLS records their content type and frames none", func() {
		u, err := mitm.ReadUnit(bytes.NewReader([]byte{23, 3, 3, 0, 1, 9}), mitm.FramingTLS, handshake.TLS)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.ContentType()).To(Equal(byte(mitm.TLSApplicationData)))
		f, err := mitm.ReadUnit(bytes.NewReader([]byte{0, 1, 9}), mitm.FramingFrames, handshake.PSK)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.ContentType()).To(BeZero())
	})

	It("builds a unit with a new body and a length that matches it", func() {
		rec := mitm.Unit{Wire: []byte{23, 3, 3, 0, 3, 'a', 'b', 'c'}, Framing: mitm.FramingTLS}
		Expect(mitm.NewUnit(rec, []byte("ab")).Wire).To(Equal([]byte{23, 3, 3, 0, 2, 'a', 'b'}))
		frame := mitm.Unit{Wire: []byte{0, 3, 'a', 'b', 'c'}, Framing: mitm.FramingFrames}
		Expect(mitm.NewUnit(frame, []byte("abcd")).Wire).To(Equal([]byte{0, 4, 'a', 'b', 'c', 'd'}))
	})

	It("knows each profile's framing", func() {
		Expect(mitm.FramingOf(handshake.TLS)).To(Equal(mitm.FramingTLS))
		for _, p := range []handshake.Name{handshake.Noise, handshake.Seed, handshake.PSK} {
			Expect(mitm.FramingOf(p)).To(Equal(mitm.FramingFrames))
		}
	})
})

var _ = Describe("plaintext IDs", func() {
	DescribeTable("reading message 1",
		func(p handshake.Name, msg1 []byte, id string, reason handshake.Reason) {
			got, err := mitm.PlaintextID(p, msg1)
			if reason == "" {
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(Equal(id))
				return
			}
			Expect(handshake.ReasonOf(err)).To(Equal(reason))
			if len(msg1) > 3 {
				Expect(err.Error()).NotTo(ContainSubstring(string(msg1[3:])), "no peer bytes in errors")
			}
		},
		Entry("seed", handshake.Seed, append([]byte{1, 2, 4}, "dev1"...), "dev1", handshake.Reason("")),
		Entry("psk", handshake.PSK, append([]byte{1, 4}, "dev1"...), "dev1", handshake.Reason("")),
		Entry("seed, short", handshake.Seed, []byte{1, 2}, "", handshake.ReasonShortFrame),
		Entry("psk, wrong version", handshake.PSK, append([]byte{2, 4}, "dev1"...), "", handshake.ReasonMalformed),
		Entry("psk, idlen past the end", handshake.PSK, append([]byte{1, 5}, "dev1"...), "", handshake.ReasonMalformed),
		Entry("psk, a byte outside the ID alphabet", handshake.PSK, append([]byte{1, 4}, "de v"...), "", handshake.ReasonMalformed),
		Entry("noise has no plaintext ID", handshake.Noise, []byte{1, 1, 'a'}, "", handshake.ReasonMalformed),
	)
})
