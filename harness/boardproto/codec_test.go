package boardproto_test

import (
	"bytes"
	"encoding/hex"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	Expect(err).NotTo(HaveOccurred())
	return b
}

func run(from, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(from + i)
	}
	return p
}

func reasonOf(err error) handshake.Reason { return handshake.ReasonOf(err) }

var _ = Describe("CRC-16/CCITT-FALSE", func() {
	DescribeTable("catalogue values",
		func(in []byte, want uint16) { Expect(bp.CRC16(in)).To(Equal(want)) },
		Entry("check value of 123456789", []byte("123456789"), uint16(bp.CRCCheck)),
		Entry("empty input is the initial value", []byte{}, uint16(0xFFFF)),
		Entry("one byte A", []byte("A"), uint16(0xB915)),
	)
	It("has check value 0x29B1", func() {
		Expect(bp.CRCCheck).To(Equal(0x29B1))
	})
})

var _ = Describe("COBS", func() {
	// The examples of the COBS paper's usual presentation, delimiter omitted.
	DescribeTable("encodes canonically and decodes back",
		func(in, want []byte) {
			enc := bp.AppendCOBS(nil, in)
			Expect(enc).To(Equal(want))
			Expect(enc).NotTo(ContainElement(byte(0)))
			Expect(len(enc)).To(BeNumerically("<=", bp.COBSMaxLen(len(in))))
			dec, err := bp.AppendUnCOBS(nil, enc)
			Expect(err).NotTo(HaveOccurred())
			Expect(dec).To(Equal(in))
		},
		Entry("00", unhex("00"), unhex("01 01")),
		Entry("00 00", unhex("00 00"), unhex("01 01 01")),
		Entry("00 11 00", unhex("00 11 00"), unhex("01 02 11 01")),
		Entry("11 22 00 33", unhex("11 22 00 33"), unhex("03 11 22 02 33")),
		Entry("11 22 33 44", unhex("11 22 33 44"), unhex("05 11 22 33 44")),
		Entry("11 00 00 00", unhex("11 00 00 00"), unhex("02 11 01 01 01")),
		Entry("01..FE", run(1, 254), append([]byte{0xFF}, run(1, 254)...)),
		Entry("00 01..FE", append([]byte{0}, run(1, 254)...), append([]byte{0x01, 0xFF}, run(1, 254)...)),
		Entry("01..FF", run(1, 255), append(append([]byte{0xFF}, run(1, 254)...), 0x02, 0xFF)),
		Entry("02..FF 00", append(run(2, 254), 0), append(append([]byte{0xFF}, run(2, 254)...), 0x01, 0x01)),
		Entry("03..FF 00 01", append(run(3, 253), 0, 1), append(append([]byte{0xFE}, run(3, 253)...), 0x02, 0x01)),
	)
	It("decodes the non-canonical trailing empty block too", func() {
		dec, err := bp.AppendUnCOBS(nil, append(append([]byte{0xFF}, run(1, 254)...), 0x01))
		Expect(err).NotTo(HaveOccurred())
		Expect(dec).To(Equal(run(1, 254)))
	})
	DescribeTable("refuses broken encodings",
		func(enc []byte) {
			_, err := bp.AppendUnCOBS(nil, enc)
			Expect(err).To(HaveOccurred())
		},
		Entry("zero code", unhex("00")),
		Entry("zero inside a block", unhex("03 11 00")),
		Entry("block past the end", unhex("05 11 22")),
	)
})

var _ = Describe("frames", func() {
	It("round-trips every payload length", func() {
		for n := 0; n <= bp.MaxPayload; n++ {
			f := bp.Frame{Type: bp.EvtMessage, Seq: byte(n), Payload: bytes.Repeat([]byte{0, byte(n)}, n)[:n]}
			wire, err := bp.AppendFrame(nil, f)
			Expect(err).NotTo(HaveOccurred())
			Expect(wire[0]).To(BeZero())
			Expect(wire[len(wire)-1]).To(BeZero())
			Expect(wire[1 : len(wire)-1]).NotTo(ContainElement(byte(0)))
			Expect(len(wire) - 2).To(BeNumerically("<=", bp.MaxEncodedLen))
			got, err := bp.DecodeFrame(wire[1 : len(wire)-1])
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Version).To(Equal(byte(bp.Version)))
			Expect(got.Type).To(Equal(f.Type))
			Expect(got.Seq).To(Equal(f.Seq))
			Expect(got.Payload).To(HaveLen(n))
			Expect(bytes.Equal(got.Payload, f.Payload)).To(BeTrue())
		}
	})
	It("refuses a payload longer than 255 bytes with a typed error", func() {
		_, err := bp.AppendFrame(nil, bp.Frame{Type: bp.CmdSend, Payload: make([]byte, 256)})
		Expect(reasonOf(err)).To(Equal(handshake.ReasonOversizeFrame))
	})
	It("detects every single-bit error in a frame", func() {
		wire, err := bp.AppendFrame(nil, bp.Frame{Type: bp.CmdSend, Seq: 9, Payload: []byte("hello, board")})
		Expect(err).NotTo(HaveOccurred())
		body, err := bp.AppendUnCOBS(nil, wire[1:len(wire)-1])
		Expect(err).NotTo(HaveOccurred())
		for i := range body {
			for b := 0; b < 8; b++ {
				bad := bytes.Clone(body)
				bad[i] ^= 1 << b
				_, err := bp.ParseBody(bad)
				Expect(err).To(HaveOccurred(), "flip of bit %d of byte %d", b, i)
				var he *handshake.Error
				Expect(err).To(BeAssignableToTypeOf(he))
			}
		}
	})
	DescribeTable("refuses bad bodies with stable reasons",
		func(body []byte, want handshake.Reason) {
			_, err := bp.ParseBody(body)
			Expect(reasonOf(err)).To(Equal(want))
			var he *handshake.Error
			Expect(err).To(BeAssignableToTypeOf(he))
		},
		Entry("too short", unhex("01 02 03"), handshake.ReasonShortFrame),
		Entry("too long", make([]byte, bp.MaxBodyLen+1), handshake.ReasonOversizeFrame),
		Entry("bad crc", unhex("01 02 02 00 00 00"), handshake.ReasonBadChecksum),
		Entry("length field disagrees", withCRC(unhex("01 02 02 05")), handshake.ReasonMalformed),
	)
	It("returns frames of other versions for the caller to refuse", func() {
		f, err := bp.ParseBody(withCRC(unhex("02 01 07 00")))
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Version).To(Equal(byte(2)))
	})
	It("classifies types", func() {
		Expect(bp.CmdHello.IsCommand()).To(BeTrue())
		Expect(bp.CmdHello.Response()).To(Equal(bp.Type(0x81)))
		Expect(bp.Type(0x81).IsResponse()).To(BeTrue())
		Expect(bp.Type(0x81).Command()).To(Equal(bp.CmdHello))
		Expect(bp.EvtBoot.IsEvent()).To(BeTrue())
		Expect(bp.Type(0xC0).IsResponse()).To(BeFalse())
		Expect(bp.Type(0x81).String()).To(Equal("HELLO_RSP"))
		Expect(bp.Type(0xEE).String()).To(Equal("TYPE_0xEE"))
	})
})

func withCRC(p []byte) []byte {
	c := bp.CRC16(p)
	return append(p, byte(c>>8), byte(c))
}
