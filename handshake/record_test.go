package handshake_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"testing/iotest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/chacha20poly1305"

	"shakedown/handshake"
)

// wireConn is a net.Conn whose reads come from r, at most chunk bytes each
// when chunk > 0, and are counted; its writes go to w.
type wireConn struct {
	net.Conn
	r     io.Reader
	w     io.Writer
	chunk int
	reads int
}

func (c *wireConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *wireConn) Read(p []byte) (int, error) {
	c.reads++
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.r.Read(p)
}

// plainCipher seals nothing: the framing alone is under test.
type plainCipher struct{}

func (plainCipher) Seal(dst, p []byte) ([]byte, error) { return append(dst, p...), nil }
func (plainCipher) Open(dst, r []byte) ([]byte, error) { return append(dst, r...), nil }
func (plainCipher) Overhead() int                      { return 0 }

func counterCipher() *handshake.CounterAEAD {
	aead, err := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	Expect(err).NotTo(HaveOccurred())
	return &handshake.CounterAEAD{AEAD: aead}
}

// sealed returns the wire of msgs written by a RecordConn under a zero key.
func sealed(msgs ...[]byte) []byte {
	var out bytes.Buffer
	w := handshake.NewRecordConn(&wireConn{w: &out}, handshake.PSK, counterCipher(), nil)
	for _, m := range msgs {
		_, err := w.Write(m)
		Expect(err).NotTo(HaveOccurred())
	}
	return out.Bytes()
}

// readAll reads c to its first error and returns what it read.
func readAll(c *handshake.RecordConn) ([]byte, error) {
	var got []byte
	buf := make([]byte, 100)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

var _ = Describe("a record conn reading", func() {
	receiver := func(wire []byte, chunk int) (*handshake.RecordConn, *wireConn) {
		conn := &wireConn{r: bytes.NewReader(wire), chunk: chunk}
		return handshake.NewRecordConn(conn, handshake.PSK, nil, counterCipher()), conn
	}

	It("takes the small records the conn has ready in one read", func() {
		rc, conn := receiver(sealed([]byte("connect"), []byte("subscribe"), []byte("publish")), 0)
		buf := make([]byte, 100)
		var got []string
		for range 3 {
			n, err := rc.Read(buf)
			Expect(err).NotTo(HaveOccurred())
			got = append(got, string(buf[:n]))
		}
		Expect(got).To(Equal([]string{"connect", "subscribe", "publish"}))
		Expect(conn.reads).To(Equal(1))
	})

	It("reassembles records cut at every byte, and one longer than its read-ahead", func() {
		long := bytes.Repeat([]byte("0123456789"), 300)
		wire := sealed([]byte("first"), long, []byte("last"))
		for _, chunk := range []int{1, 2, 3, 7, 255, 256, 4096} {
			rc, _ := receiver(wire, chunk)
			got, err := readAll(rc)
			Expect(string(got)).To(Equal("first"+string(long)+"last"), "reads of %d bytes", chunk)
			Expect(errors.Is(err, io.EOF)).To(BeTrue(), "reads of %d bytes: %v", chunk, err)
		}
	})

	It("tells a conn that ends inside a frame from one that ends between frames", func() {
		wire := sealed([]byte("whole"), []byte("cut"))
		// the second frame's length on the wire
		second := handshake.FrameHeaderLen + len("cut") + chacha20poly1305.Overhead
		for _, cut := range []int{1, 2, 5} { // inside the second frame's header, after it, inside the body
			rc, _ := receiver(wire[:len(wire)-second+cut], 0)
			got, err := readAll(rc)
			Expect(string(got)).To(Equal("whole"))
			Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonShortFrame), "cut %d bytes in", cut)
		}
		rc, _ := receiver(wire[:len(wire)-second], 0)
		got, err := readAll(rc)
		Expect(string(got)).To(Equal("whole"))
		Expect(errors.Is(err, io.EOF)).To(BeTrue())
		Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonIO))
	})

	It("refuses an empty frame and a record shorter than its tag, and stays failed", func() {
		for wire, reason := range map[string]handshake.Reason{
			"\x00\x00":    handshake.ReasonShortFrame,
			"\x00\x03abc": handshake.ReasonShortFrame,
		} {
			rc, _ := receiver([]byte(wire), 0)
			_, err := readAll(rc)
			Expect(handshake.ReasonOf(err)).To(Equal(reason), "wire %q", wire)
			_, again := rc.Read(make([]byte, 8))
			Expect(again).To(Equal(err))
		}
	})

	It("gives up on a conn that never yields a byte, with a typed error", func() {
		rc, conn := receiver(nil, 0)
		conn.r = emptyReader{}
		_, err := rc.Read(make([]byte, 8))
		Expect(errors.Is(err, io.ErrNoProgress)).To(BeTrue())
		Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonIO))
		Expect(conn.reads).To(Equal(100))
	})

	It("fails a record whose tag does not verify, quoting none of its bytes", func() {
		wire := sealed([]byte("secret payload"))
		wire[len(wire)-1] ^= 1
		rc, _ := receiver(wire, 0)
		_, err := readAll(rc)
		Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonDecrypt))
		Expect(err.Error()).NotTo(ContainSubstring("secret"))
	})
})

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// FuzzRecordConn checks the record reader against ReadFrame: for any wire
// and any cut of it into reads, a RecordConn returns the messages that
// ReadFrame finds, in order, and then an error of the same reason.
func FuzzRecordConn(f *testing.F) {
	f.Add([]byte("\x00\x03abc\x00\x01d"), 1)
	f.Add([]byte("\x00\x03abc\x00"), 300)
	f.Add([]byte("\x00\x00"), 2)
	f.Add(append([]byte{0x01, 0x2c}, make([]byte, 300)...), 7)
	f.Fuzz(func(t *testing.T, wire []byte, chunk int) {
		var want []byte
		r := bytes.NewReader(wire)
		var wantErr error
		for {
			msg, err := handshake.ReadFrame(r, nil, handshake.MaxFrameLen)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, msg...)
		}
		var src io.Reader = bytes.NewReader(wire)
		if chunk%3 == 0 {
			src = iotest.OneByteReader(src)
		}
		if chunk < 1 {
			chunk = 1 - chunk
		}
		conn := &wireConn{r: src, chunk: chunk%70000 + 1}
		rc := handshake.NewRecordConn(conn, handshake.PSK, nil, plainCipher{})
		var got []byte
		buf := make([]byte, 64)
		var err error
		for {
			var n int
			n, err = rc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d bytes, ReadFrame found %d", len(got), len(want))
		}
		if handshake.ReasonOf(err) != handshake.FrameReason(wantErr) {
			t.Fatalf("reason %q, ReadFrame's %q (%v)", handshake.ReasonOf(err), handshake.FrameReason(wantErr), wantErr)
		}
	})
}
