package mitm_test

import (
	"io"
	"net"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/mitm"
)

// relayed is a relay between two pipes: dev and srv are the far ends the
// test plays device and server on.
type relayed struct {
	dev, srv net.Conn
	relay    *mitm.Relay
}

func newRelayed(ic mitm.Interceptor) *relayed {
	dev, devEnd := net.Pipe()
	srvEnd, srv := net.Pipe()
	return &relayed{dev: dev, srv: srv, relay: mitm.NewRelay(devEnd, srvEnd, mitm.FramingFrames, handshake.Noise, ic)}
}

func (r *relayed) close() {
	r.dev.Close()
	r.srv.Close()
	Expect(r.relay.Close()).To(Succeed())
}

func frame(s string) []byte { return handshake.AppendFrame(nil, []byte(s)) }

func readFrame(c net.Conn) string {
	b, err := handshake.ReadFrame(c, nil, handshake.MaxFrameLen)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

func send(c net.Conn, s string) {
	go func() { c.Write(frame(s)) }()
}

var _ = Describe("the relay", func() {
	It("forwards both ways and records every unit with its place in the stream", func() {
		r := newRelayed(nil)
		defer r.close()
		send(r.dev, "hello")
		Expect(readFrame(r.srv)).To(Equal("hello"))
		send(r.srv, "hi")
		Expect(readFrame(r.dev)).To(Equal("hi"))
		send(r.dev, "again")
		Expect(readFrame(r.srv)).To(Equal("again"))
		up := r.relay.Recording().Units(mitm.Upstream)
		Expect(up).To(HaveLen(2))
		Expect(up[1].Index).To(Equal(1))
		Expect(up[1].Offset).To(Equal(int64(len(frame("hello")))))
		Expect(up[1].End()).To(Equal(int64(len(frame("hello")) + len(frame("again")))))
		Expect(string(up[1].Body())).To(Equal("again"))
		Expect(r.relay.Recording().Units(mitm.Downstream)).To(HaveLen(1))
		Expect(r.relay.Recording().All()).To(HaveLen(3))
	})

	It("drops, replays, reorders and reflects what the interceptor says", func() {
		var held []byte
		r := newRelayed(func(from mitm.Dir, i int, u mitm.Unit) []mitm.Emit {
			if from != mitm.Upstream {
				return mitm.Forward(from, i, u)
			}
			switch i {
			case 0: // dropped
				return nil
			case 1: // replayed
				return []mitm.Emit{{To: from, Wire: u.Wire}, {To: from, Wire: u.Wire}}
			case 2: // held
				held = u.Wire
				return nil
			case 3: // then released after the next
				return []mitm.Emit{{To: from, Wire: u.Wire}, {To: from, Wire: held}}
			}
			return []mitm.Emit{{To: from.Reverse(), Wire: u.Wire}} // reflected
		})
		defer r.close()
		go func() {
			for _, s := range []string{"a", "b", "c", "d", "e"} {
				r.dev.Write(frame(s))
			}
		}()
		Expect([]string{readFrame(r.srv), readFrame(r.srv), readFrame(r.srv), readFrame(r.srv)}).To(Equal([]string{"b", "b", "d", "c"}))
		Expect(readFrame(r.dev)).To(Equal("e"))
	})

	It("lets the attacker inject units of its own", func() {
		r := newRelayed(nil)
		defer r.close()
		go r.relay.Write(mitm.Downstream, frame("injected"))
		Expect(readFrame(r.dev)).To(Equal("injected"))
	})

	It("ends cleanly when the device hangs up, and passes the end on", func() {
		r := newRelayed(nil)
		defer r.close()
		r.dev.Close()
		_, err := r.srv.Read(make([]byte, 1))
		Expect(err).To(MatchError(io.EOF))
		Eventually(r.relay.Done()).Should(BeClosed())
		Expect(r.relay.Err(mitm.Upstream)).NotTo(HaveOccurred())
	})

	It("reports a unit cut short as short_frame and ends both ways", func() {
		r := newRelayed(nil)
		defer r.close()
		go func() {
			r.dev.Write([]byte{0, 5, 'a'})
			r.dev.Close()
		}()
		Eventually(r.relay.Done()).Should(BeClosed())
		Expect(handshake.ReasonOf(r.relay.Err(mitm.Upstream))).To(Equal(handshake.ReasonShortFrame))
	})
})
