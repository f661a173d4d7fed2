package boardproto_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	bp "shakedown/harness/boardproto"
)

// feed runs the decoder over the chunks and collects frames and console bytes.
func feed(d *bp.Decoder, chunks ...[]byte) (frames []bp.Frame, console []byte) {
	for _, c := range chunks {
		for _, it := range d.Feed(c) {
			if it.Frame != nil {
				frames = append(frames, *it.Frame)
			} else {
				console = append(console, it.Console...)
			}
		}
	}
	return frames, console
}

func wire(t bp.Type, seq byte, payload string) []byte {
	w, err := bp.AppendFrame(nil, bp.Frame{Type: t, Seq: seq, Payload: []byte(payload)})
	Expect(err).NotTo(HaveOccurred())
	return w
}

// An ESP8266 ROM banner as seen at 115200 baud: the ROM talks at 74880, so
// the first line arrives as noise, then the text.
var romBanner = append([]byte{0xe0, 0x00, 0x8c, 0xfe, 0x12, 0x00, 0x80, 0x01},
	[]byte("\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nload 0x4010f000, len 3460, room 16\r\n")...)

var _ = Describe("Decoder", func() {
	var d *bp.Decoder
	BeforeEach(func() { d = &bp.Decoder{} })

	It("separates frames from console text", func() {
		in := bytes.Join([][]byte{
			[]byte("agent 0.1.0 starting\r\n"),
			wire(bp.EvtBoot, 0, "\x01\x01\x80\x00\x00\x00\x01"),
			[]byte("ready\r\n"),
			wire(bp.CmdHello.Response(), 1, "\x00\x01\x80\x00\x00\x00\x00\x01"),
		}, nil)
		frames, console := feed(d, in)
		Expect(frames).To(HaveLen(2))
		Expect(frames[0].Type).To(Equal(bp.EvtBoot))
		Expect(frames[1].Type).To(Equal(bp.CmdHello.Response()))
		Expect(string(console)).To(Equal("agent 0.1.0 starting\r\nready\r\n"))
		Expect(d.Stats.Frames).To(BeEquivalentTo(2))
		Expect(d.Stats.BadFrames).To(BeZero())
	})

	It("finds the same frames whatever the read sizes", func() {
		in := bytes.Join([][]byte{romBanner, wire(bp.EvtMessage, 3, "pong"), []byte("x"), wire(bp.EvtMessage, 4, "\x00\x00")}, nil)
		for size := 1; size <= len(in); size++ {
			dd := &bp.Decoder{}
			var chunks [][]byte
			for i := 0; i < len(in); i += size {
				chunks = append(chunks, in[i:min(i+size, len(in))])
			}
			frames, _ := feed(dd, chunks...)
			Expect(frames).To(HaveLen(2), "read size %d", size)
			Expect(frames[0].Payload).To(Equal([]byte("pong")))
			Expect(frames[1].Payload).To(Equal([]byte{0, 0}))
		}
	})

	It("resynchronises after a boot banner with noise and zeros", func() {
		frames, console := feed(d, romBanner, wire(bp.EvtBoot, 0, "\x01\x01\x80\x00\x00\x00\x02"))
		Expect(frames).To(HaveLen(1))
		Expect(string(console)).To(ContainSubstring("rst cause:2"))
	})

	It("resynchronises after a frame cut short by a reset", func() {
		cut := wire(bp.EvtRelayData, 5, "0123456789abcdef")
		cut = cut[:len(cut)/2]
		frames, console := feed(d, cut, []byte("\r\nboot\r\n"), wire(bp.EvtBoot, 0, "\x02\x01\x80\x00\x00\x00\x03"))
		Expect(frames).To(HaveLen(1))
		Expect(frames[0].Type).To(Equal(bp.EvtBoot))
		Expect(string(console)).To(ContainSubstring("boot"))
		Expect(d.Stats.BadFrames).To(BeEquivalentTo(1))
	})

	It("delivers text at once, without waiting for a delimiter", func() {
		items := d.Feed([]byte("rst cause:2, boot mode:(3,6)"))
		Expect(items).To(HaveLen(1))
		Expect(string(items[0].Console)).To(Equal("rst cause:2, boot mode:(3,6)"))
		Expect(d.Pending()).To(BeZero())
	})

	It("gives up on a possible frame longer than the maximum", func() {
		long := append([]byte{0x05, 0x01}, bytes.Repeat([]byte{0x33}, bp.MaxEncodedLen)...)
		frames, console := feed(d, long, wire(bp.EvtMessage, 1, "ok"))
		Expect(frames).To(HaveLen(1))
		Expect(console).To(HaveLen(len(long)))
		Expect(d.Stats.Oversize).To(BeEquivalentTo(1))
	})

	It("forgets a partial frame on Reset", func() {
		w := wire(bp.EvtMessage, 1, "hello")
		feed(d, w[:5])
		Expect(d.Pending()).To(BeNumerically(">", 0))
		d.Reset()
		frames, _ := feed(d, w[5:], wire(bp.EvtMessage, 2, "again"))
		Expect(frames).To(HaveLen(1))
		Expect(frames[0].Seq).To(BeEquivalentTo(2))
	})
})
