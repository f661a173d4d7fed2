package mitm_test

import (
	"bufio"
	"bytes"

	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/mitm"
)

func read(wire []byte) (packets.Packet, []byte, error) {
	return mitm.ReadPacket(bufio.NewReader(bytes.NewReader(wire)), handshake.TLS)
}

var _ = Describe("MQTT evidence", func() {
	It("reads a CONNECT's client ID, username and password, and keeps its raw bytes", func() {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
		pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: "tls-0001",
			UsernameFlag: true, Username: []byte("tls-0001"), PasswordFlag: true, Password: []byte("s3cret")}
		wire, err := mitm.EncodePacket(pk)
		Expect(err).NotTo(HaveOccurred())
		got, raw, err := read(wire)
		Expect(err).NotTo(HaveOccurred())
		Expect(raw).To(Equal(wire))
		Expect(got.Connect.ClientIdentifier).To(Equal("tls-0001"))
		Expect(string(got.Connect.Username)).To(Equal("tls-0001"))
		Expect(string(got.Connect.Password)).To(Equal("s3cret"))
	})

	It("reads a PUBLISH's topic and payload", func() {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 7,
			TopicName: "devices/d/telemetry", Payload: []byte("21.5")}
		wire, err := mitm.EncodePacket(pk)
		Expect(err).NotTo(HaveOccurred())
		got, _, err := read(wire)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.TopicName).To(Equal("devices/d/telemetry"))
		Expect(got.Payload).To(Equal([]byte("21.5")))
		Expect(got.PacketID).To(Equal(uint16(7)))
	})

	DescribeTable("refuses what is not a packet, with a typed error",
		func(wire []byte, reason handshake.Reason) {
			_, _, err := read(wire)
			Expect(handshake.ReasonOf(err)).To(Equal(reason))
		},
		Entry("reserved flags set", []byte{0x1f, 0x00}, handshake.ReasonMalformed),
		Entry("a remaining length over the lab's limit", []byte{0x30, 0xff, 0xff, 0x7f}, handshake.ReasonOversizeFrame),
		Entry("a remaining length of five bytes", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}, handshake.ReasonMalformed),
		Entry("a remaining length of five bytes worth zero", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x00}, handshake.ReasonMalformed),
		Entry("a remaining length longer than its shortest encoding", []byte{0x30, 0x80, 0x00}, handshake.ReasonMalformed),
		Entry("a four-byte remaining length worth 127", []byte{0xc0, 0xff, 0x80, 0x80, 0x00}, handshake.ReasonMalformed),
		Entry("a body cut short", []byte{0x30, 0x05, 0x00}, handshake.ReasonShortFrame),
		Entry("a CONNECT with a broken body", []byte{0x10, 0x01, 0x00}, handshake.ReasonMalformed),
		Entry("nothing", []byte{}, handshake.ReasonIO),
	)

	// Regression: mochi's length decoder reads continuation bytes for as
	// long as they come; the lab stops after the fourth (3.1.1 §2.2.3).
	It("stops reading a remaining length that never ends", func() {
		src := &endless{b: 0x80}
		br := bufio.NewReader(src)
		_, _, err := mitm.ReadPacket(br, handshake.Noise)
		Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonMalformed))
		Expect(src.n-br.Buffered()).To(BeNumerically("<=", 1+4), "bytes taken from the stream")
	})
})

// endless is a stream of one byte value that never ends.
type endless struct {
	b byte
	n int // bytes handed out
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.n += len(p)
	return len(p), nil
}
