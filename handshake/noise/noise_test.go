package noise_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	fnoise "github.com/flynn/noise"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/noise"
)

func reasonOf(err error) handshake.Reason { return handshake.ReasonOf(err) }

// exchange sends msg from a to b and returns what b read.
func exchange(a, b net.Conn, msg []byte) []byte {
	errc := make(chan error, 1)
	go func() { _, err := a.Write(msg); errc <- err }()
	got := make([]byte, len(msg))
	_, err := io.ReadFull(b, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(<-errc).To(Succeed())
	return got
}

var _ = Describe("handshake", func() {
	DescribeTable("authenticates the device and carries application bytes both ways",
		func(p noise.Pattern, msgLens []int) {
			w := newWorld(p)
			d, s := w.connect()
			defer closeAll(d, s)
			Expect(d.err).NotTo(HaveOccurred())
			Expect(s.err).NotTo(HaveOccurred())
			Expect(s.id).To(Equal(handshake.Identity{Profile: handshake.Noise, DeviceID: "dev-1", Counter: 1}))
			Expect(exchange(d.conn, s.conn, []byte("PUBLISH devices/dev-1/t"))).To(Equal([]byte("PUBLISH devices/dev-1/t")))
			Expect(exchange(s.conn, d.conn, []byte("ack"))).To(Equal([]byte("ack")))
			Expect(w.dir.Counter("dev-1")).To(Equal(uint64(1)))
		},
		Entry("IK", noise.IK, []int{noise.MsgLenIK1, noise.MsgLenIK2}),
		Entry("XK", noise.XK, []int{noise.MsgLenXK1, noise.MsgLenXK2, noise.MsgLenXK3}),
		Entry("KK", noise.KK, []int{noise.MsgLenKK1, noise.MsgLenKK2}),
	)

	It("works over TCP through handshake.Dial", func() {
		w := newWorld(noise.IK)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer ln.Close()
		srvDone := make(chan result, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				srvDone <- result{err: err}
				return
			}
			conn, id, err := w.server.Handshake(context.Background(), c)
			if err != nil {
				c.Close()
			}
			srvDone <- result{conn: conn, id: id, err: err}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dc, err := handshake.Dial(ctx, w.device(), "tcp", ln.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer dc.Close()
		s := <-srvDone
		Expect(s.err).NotTo(HaveOccurred())
		defer s.conn.Close()
		big := make([]byte, 200_000) // several records
		for i := range big {
			big[i] = byte(i)
		}
		Expect(exchange(dc, s.conn, big)).To(Equal(big))
	})

	It("puts exactly the pattern's message sizes on the wire", func() {
		w := newWorld(noise.IK)
		a, b := net.Pipe()
		var sent, recv []byte
		mu := new(sync.Mutex)
		d, s := run(w.device(), w.server, recordConn{Conn: a, mu: mu, sent: &sent, recv: &recv}, b)
		defer closeAll(d, s)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(sent).To(HaveLen(2 + noise.MsgLenIK1))
		Expect(recv).To(HaveLen(2 + noise.MsgLenIK2))
	})
})

var _ = Describe("message-1 counter", func() {
	It("refuses a repeated counter with reason counter_replay", func() {
		w := newWorld(noise.IK)
		d, s := w.connect()
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		w.counter = noise.NewMemCounter(0) // the device lost its counter: 1 again
		d, s = w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonCounterReplay))
		var he *handshake.Error
		Expect(errors.As(s.err, &he)).To(BeTrue())
		Expect(he.Stage).To(Equal(handshake.StageMsg1))
		Expect(errors.Is(s.err, handshake.ErrCounterReplay)).To(BeTrue())
		Expect(d.err).To(HaveOccurred(), "the device gets no message 2")
	})

	It("refuses a device the counter store says is revoked with reason revoked, though its lookup passed", func() {
		w := newWorld(noise.IK)
		var err error
		w.server, err = noise.NewServer(noise.ServerConfig{Keys: w.ring, Directory: w.dir, Counters: revokedCounters{}})
		Expect(err).NotTo(HaveOccurred())
		d, s := w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonRevoked))
		var he *handshake.Error
		Expect(errors.As(s.err, &he)).To(BeTrue())
		Expect(he.Stage).To(Equal(handshake.StageMsg1))
		Expect(d.err).To(HaveOccurred(), "the device gets no message 2")
	})

	It("refuses a lower counter and accepts a higher one", func() {
		w := newWorld(noise.IK)
		w.counter = noise.NewMemCounter(99)
		d, s := w.connect()
		closeAll(d, s)
		Expect(s.id.Counter).To(Equal(uint64(100)))
		w.counter = noise.NewMemCounter(41)
		d, s = w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonCounterReplay))
		w.counter = noise.NewMemCounter(100)
		d, s = w.connect()
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		Expect(s.id.Counter).To(Equal(uint64(101)))
	})

	It("refuses the reserved counter 2^64-1 without storing it, so the device is not locked out", func() {
		w := newWorld(noise.IK)
		d, s := w.connect()
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		stored := w.dir.Counter("dev-1")

		// What a device whose counter storage was erased would send.
		hs, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Pattern: fnoise.HandshakeIK,
			Initiator: true, Prologue: noise.Prologue, StaticKeypair: w.static, PeerStatic: w.ring.Get().Current.Public})
		Expect(err).NotTo(HaveOccurred())
		msg1, _, _, err := hs.WriteMessage(nil, noise.AppendCounter(nil, noise.CounterReserved))
		Expect(err).NotTo(HaveOccurred())
		a, b := net.Pipe()
		defer a.Close()
		go handshake.WriteFrame(a, msg1)
		_, _, err = w.server.Handshake(context.Background(), b)
		b.Close()
		Expect(reasonOf(err)).To(Equal(handshake.ReasonCounterReserved))
		var he *handshake.Error
		Expect(errors.As(err, &he)).To(BeTrue())
		Expect(he.Stage).To(Equal(handshake.StageMsg1))
		Expect(w.dir.Counter("dev-1")).To(Equal(stored))

		d, s = w.connect()
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred(), "the next counter still gets in")
	})

	It("never sends 0 or the reserved counter", func() {
		Expect(noise.MaxCounter).To(Equal(noise.CounterReserved - 1))
		c := noise.NewMemCounter(noise.MaxCounter - 1)
		Expect(c.Next()).To(Equal(noise.MaxCounter))
		_, err := c.Next()
		Expect(err).To(MatchError(ContainSubstring("exhausted")))
		_, err = c.Next()
		Expect(err).To(HaveOccurred(), "exhausted stays exhausted")

		w := newWorld(noise.IK)
		for _, v := range []uint64{0, noise.CounterReserved} {
			dev, err := noise.NewDevice(noise.DeviceConfig{Static: w.static, Pins: w.pins, Counter: fixedCounter(v)})
			Expect(err).NotTo(HaveOccurred())
			a, b := net.Pipe()
			sent := make(chan int, 1)
			go func() { n, _ := io.Copy(io.Discard, b); sent <- int(n) }()
			_, err = dev.Handshake(context.Background(), a)
			a.Close()
			Expect(reasonOf(err)).To(Equal(handshake.ReasonInternal), "counter %d", v)
			Expect(<-sent).To(BeZero(), "nothing reaches the wire")
		}
	})

	It("refuses a replayed message 1 byte for byte", func() {
		w := newWorld(noise.IK)
		a, b := net.Pipe()
		var sent, recv []byte
		mu := new(sync.Mutex)
		d, s := run(w.device(), w.server, recordConn{Conn: a, mu: mu, sent: &sent, recv: &recv}, b)
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		// The attacker replays the recorded message 1 on a new connection.
		a, b = net.Pipe()
		defer a.Close()
		go a.Write(sent)
		_, _, err := w.server.Handshake(context.Background(), b)
		b.Close()
		Expect(reasonOf(err)).To(Equal(handshake.ReasonCounterReplay))
	})
})

var _ = Describe("refusals", func() {
	It("refuses an unknown device", func() {
		w := newWorld(noise.IK)
		w.static = mustKey()
		d, s := w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonUnknownDevice))
	})
	It("refuses a revoked device", func() {
		w := newWorld(noise.IK)
		w.dir.Revoke("dev-1")
		d, s := w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonRevoked))
	})
	It("refuses a device registered for another profile", func() {
		w := newWorld(noise.IK)
		w.dir.Put(handshake.DeviceRecord{ID: "dev-1", Profile: handshake.PSK, Key: w.static.Public})
		d, s := w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Or(Equal(handshake.ReasonWrongProfile), Equal(handshake.ReasonUnknownDevice)))
	})
	It("fails a device that pinned another server key (key substitution)", func() {
		w := newWorld(noise.IK)
		attacker := newWorld(noise.IK) // the attacker's server, with its own key
		attacker.dir.Put(handshake.DeviceRecord{ID: "dev-1", Profile: handshake.Noise, Key: w.static.Public})
		a, b := net.Pipe()
		d, s := run(w.device(), attacker.server, a, b)
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonDecrypt), "the attacker cannot read message 1")
		Expect(d.err).To(HaveOccurred())
	})
	It("bounds the handshake by the context deadline when the server is silent", func() {
		w := newWorld(noise.IK)
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go io.Copy(io.Discard, b)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := w.device().Handshake(ctx, a)
		Expect(reasonOf(err)).To(Equal(handshake.ReasonTimeout))
	})
	DescribeTable("gives typed errors for bad frames, without echoing them",
		func(wire []byte, want handshake.Reason) {
			w := newWorld(noise.IK)
			a, b := net.Pipe()
			defer b.Close()
			go func() { a.Write(wire); a.Close() }()
			_, _, err := w.server.Handshake(context.Background(), b)
			Expect(reasonOf(err)).To(Equal(want))
			Expect(err.Error()).NotTo(ContainSubstring("\xee\xee"))
		},
		Entry("short", []byte{0x00}, handshake.ReasonShortFrame),
		Entry("truncated body", []byte{0x00, 0x68, 0xee, 0xee}, handshake.ReasonShortFrame),
		Entry("oversize", []byte{0xff, 0xff, 0xee, 0xee}, handshake.ReasonOversizeFrame),
		Entry("empty", []byte{0x00, 0x00}, handshake.ReasonShortFrame),
		Entry("wrong length", []byte{0x00, 0x02, 0xee, 0xee}, handshake.ReasonMalformed),
		Entry("garbage of the right length", append([]byte{0x00, noise.MsgLenIK1}, bytes.Repeat([]byte{0xee}, noise.MsgLenIK1)...), handshake.ReasonDecrypt),
	)

	// RFC 7748 §6.1: X25519 of a low-order point is all zeros, which the
	// profile refuses (Noise rev. 34 §12.1 allows it); the failure is the
	// point's, not an authentication's.
	DescribeTable("refuses a low-order ephemeral key in message 1 with reason bad_point",
		func(u []byte) {
			w := newWorld(noise.IK)
			a, b := net.Pipe()
			defer b.Close()
			msg := append(append([]byte(nil), u...), bytes.Repeat([]byte{0xee}, noise.MsgLenIK1-noise.KeyLen)...)
			go func() { handshake.WriteFrame(a, msg); a.Close() }()
			_, _, err := w.server.Handshake(context.Background(), b)
			Expect(reasonOf(err)).To(Equal(handshake.ReasonBadPoint))
			Expect(w.dir.Counter("dev-1")).To(BeZero())
		},
		lowOrderEntries(),
	)

	DescribeTable("fails the device on a low-order ephemeral key in message 2 with reason bad_point",
		func(u []byte) {
			w := newWorld(noise.IK)
			a, b := net.Pipe()
			defer a.Close()
			go func() {
				defer b.Close()
				if _, err := handshake.ReadFrame(b, nil, noise.MsgLenIK1); err != nil {
					return
				}
				handshake.WriteFrame(b, append(append([]byte(nil), u...), bytes.Repeat([]byte{0xee}, noise.MsgLenIK2-noise.KeyLen)...))
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := w.device().Handshake(ctx, a)
			Expect(reasonOf(err)).To(Equal(handshake.ReasonBadPoint))
			Expect(w.pins.Keys().Next).To(BeNil(), "nothing of the message was applied")
		},
		lowOrderEntries(),
	)
})

// lowOrderEntries are little-endian u-coordinates of low-order points of
// Curve25519 (RFC 7748 §7; Bernstein's list of points to refuse).
func lowOrderEntries() []TableEntry {
	le := func(hexBE string) []byte {
		b, err := hex.DecodeString(hexBE)
		Expect(err).NotTo(HaveOccurred())
		slices.Reverse(b)
		return b
	}
	return []TableEntry{
		Entry("u = 0 (order 2)", make([]byte, noise.KeyLen)),
		Entry("u = 1 (order 4)", le("0000000000000000000000000000000000000000000000000000000000000001")),
		Entry("u of order 8", le("57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5f")),
		Entry("u = p - 1 (order 4)", le("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec")),
	}
}

var _ = Describe("tampering", func() {
	// Altering any single byte of any handshake message, in either direction,
	// makes the handshake fail on at least one side.
	DescribeTable("fails the handshake for every altered byte",
		func(p noise.Pattern, up, down int) {
			w := newWorld(p)
			for _, onWrite := range []bool{true, false} {
				n := up
				if !onWrite {
					n = down
				}
				for at := 0; at < n; at++ {
					a, b := net.Pipe()
					d, s := run(w.device(), w.server, &tamperConn{Conn: a, onWrite: onWrite, at: at}, b)
					closeAll(d, s)
					// The side that receives the altered message refuses it.
					if onWrite {
						Expect(s.err).To(HaveOccurred(), "byte %d the device wrote was altered, yet the server accepted", at)
					} else {
						Expect(d.err).To(HaveOccurred(), "byte %d the device read was altered, yet the device accepted", at)
					}
				}
			}
		},
		// bytes the device writes / reads, frame headers included
		Entry("IK", noise.IK, 2+noise.MsgLenIK1, 2+noise.MsgLenIK2),
		Entry("XK", noise.XK, 2+noise.MsgLenXK1+2+noise.MsgLenXK3, 2+noise.MsgLenXK2),
		Entry("KK", noise.KK, 2+2+len("dev-1")+2+noise.MsgLenKK1, 2+noise.MsgLenKK2),
	)

	DescribeTable("fails the session when a transport record is altered, replayed, reordered, dropped or truncated",
		func(craft func(r0, r1 []byte) []byte, allowed int) {
			w := newWorld(noise.IK)
			dev, srv, raw := divertedSession(w)
			defer dev.Close()
			defer srv.Close()
			r0 := divertWrite(dev, []byte("record zero"))
			r1 := divertWrite(dev, []byte("record one"))
			go func() { raw.Write(craft(r0, r1)); raw.Close() }()
			accepted := 0
			buf := make([]byte, 64)
			var err error
			for {
				var n int
				n, err = srv.Read(buf)
				if err != nil {
					break
				}
				Expect(string(buf[:n])).To(Equal([]string{"record zero", "record one"}[accepted]))
				accepted++
			}
			Expect(accepted).To(BeNumerically("<=", allowed))
			Expect(reasonOf(err)).To(Or(Equal(handshake.ReasonDecrypt), Equal(handshake.ReasonShortFrame)))
		},
		Entry("altered", func(r0, r1 []byte) []byte { return flip(r0, 5) }, 0),
		Entry("replayed", func(r0, r1 []byte) []byte { return cat(r0, r0) }, 1),
		Entry("reordered", func(r0, r1 []byte) []byte { return cat(r1, r0) }, 0),
		Entry("dropped", func(r0, r1 []byte) []byte { return r1 }, 0),
		Entry("truncated", func(r0, r1 []byte) []byte { return truncate(r0, 3) }, 0),
		Entry("cut mid-frame", func(r0, r1 []byte) []byte { return r0[:len(r0)-3] }, 0),
	)
})

var _ = Describe("wire freshness", func() {
	It("never repeats 16 bytes anywhere on the wire across 100 handshakes", func() {
		w := newWorld(noise.IK)
		var sent, recv []byte
		mu := new(sync.Mutex)
		for i := 0; i < 100; i++ {
			a, b := net.Pipe()
			d, s := run(w.device(), w.server, recordConn{Conn: a, mu: mu, sent: &sent, recv: &recv}, b)
			Expect(s.err).NotTo(HaveOccurred())
			exchange(d.conn, s.conn, []byte("the same application message"))
			exchange(s.conn, d.conn, []byte("the same application message"))
			closeAll(d, s)
		}
		seen := map[[16]byte]int{}
		for _, stream := range [][]byte{sent, recv} {
			for i := 0; i+16 <= len(stream); i++ {
				var k [16]byte
				copy(k[:], stream[i:])
				seen[k]++
			}
		}
		for k, n := range seen {
			Expect(n).To(Equal(1), "16 bytes %x appear %d times", k, n)
		}
		Expect(len(sent)).To(BeNumerically(">", 100*noise.MsgLenIK1))
	})
})

var _ = Describe("server key rollover", func() {
	It("teaches the device the next key in message 2 and survives the promotion", func() {
		w := newWorld(noise.IK)
		old := w.ring.Get()
		next := mustKey()
		w.ring.Set(noise.ServerKeys{Current: old.Current, Next: next}) // announce
		var changed []noise.Announcement
		w.pins.OnChange(func(a noise.Announcement) { changed = append(changed, a) })
		d, s := w.connect()
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		Expect(w.pins.Keys()).To(Equal(noise.Announcement{Current: old.Current.Public, Next: next.Public}))
		Expect(changed).To(HaveLen(1))
		Expect(w.pins.Preferred()).To(Equal(next.Public))

		w.ring.Set(noise.ServerKeys{Current: next}) // promote; the old key is retired
		d, s = w.connect()
		closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		Expect(w.pins.Keys()).To(Equal(noise.Announcement{Current: next.Public}))
	})

	It("locks out a device that missed the whole announcement period", func() {
		w := newWorld(noise.IK)
		w.ring.Set(noise.ServerKeys{Current: mustKey()})
		d, s := w.connect()
		closeAll(d, s)
		Expect(reasonOf(s.err)).To(Equal(handshake.ReasonDecrypt))
	})
})

var _ = Describe("transport", func() {
	It("rekeys each direction every RekeyInterval messages", func() {
		w := newWorld(noise.IK)
		d, s := w.connect()
		defer closeAll(d, s)
		Expect(s.err).NotTo(HaveOccurred())
		done := make(chan error, 1)
		go func() {
			for i := 0; i < noise.RekeyInterval+3; i++ {
				if _, err := d.conn.Write([]byte{byte(i)}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		buf := make([]byte, 1)
		for i := 0; i < noise.RekeyInterval+3; i++ {
			_, err := io.ReadFull(s.conn, buf)
			Expect(err).NotTo(HaveOccurred())
			Expect(buf[0]).To(Equal(byte(i)))
		}
		Expect(<-done).To(Succeed())
	})

	It("uses rekeyed keys: a receiver that does not rekey fails after the interval", func() {
		var k [32]byte
		k[0] = 7
		send := fnoise.UnsafeNewCipherState(noise.CipherSuite, k, noise.RekeyInterval-1)
		plain := fnoise.UnsafeNewCipherState(noise.CipherSuite, k, noise.RekeyInterval-1)
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		sender := handshake.NewRecordConn(a, handshake.Noise, noise.TransportCipherForTest(send), noise.TransportCipherForTest(send))
		go sender.Write([]byte("x"))
		go sender.Write([]byte("y"))
		f1, err := handshake.ReadFrame(b, nil, handshake.MaxFrameLen)
		Expect(err).NotTo(HaveOccurred())
		_, err = plain.Decrypt(nil, nil, f1)
		Expect(err).NotTo(HaveOccurred(), "the last message before the rekey")
		f2, err := handshake.ReadFrame(b, nil, handshake.MaxFrameLen)
		Expect(err).NotTo(HaveOccurred())
		_, err = plain.Decrypt(nil, nil, f2)
		Expect(err).To(HaveOccurred(), "the first message after the rekey needs the new key")
	})
})

// revokedCounters is a counter store whose devices were all revoked after
// their lookup, as a registry reports it.
type revokedCounters struct{}

func (revokedCounters) AcceptCounter(context.Context, string, uint64) error {
	return &handshake.Error{Profile: handshake.Noise, Stage: handshake.StageMsg1, Reason: handshake.ReasonRevoked, Err: errors.New("test: device revoked")}
}
