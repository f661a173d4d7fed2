package seed_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/seed"
)

var _ = Describe("handshake", func() {
	for _, c := range seed.Curves {
		It("connects a device over net.Pipe and carries bytes both ways ("+string(c)+")", func() {
			f := newFixture(c, "pipe")
			ctx, cancel := testCtx()
			defer cancel()
			devRaw, srvRaw := net.Pipe()
			r := handshakePair(ctx, f.dev, f.srv, devRaw, srvRaw)
			Expect(r.devErr).NotTo(HaveOccurred())
			Expect(r.srvErr).NotTo(HaveOccurred())
			defer r.devConn.Close()
			defer r.srvConn.Close()
			Expect(r.id).To(Equal(handshake.Identity{Profile: handshake.Seed, DeviceID: testID}))
			up, down, errUp, errDown := exchange(r.devConn, r.srvConn, []byte("publish t/1 21.5"), bytes.Repeat([]byte{0xA5}, 70000))
			Expect(errUp).NotTo(HaveOccurred())
			Expect(errDown).NotTo(HaveOccurred())
			Expect(up).To(Equal([]byte("publish t/1 21.5")))
			Expect(down).To(Equal(bytes.Repeat([]byte{0xA5}, 70000)))
		})

		It("connects a device over TCP with handshake.Dial ("+string(c)+")", func() {
			f := newFixture(c, "tcp")
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			defer ln.Close()
			ctx, cancel := testCtx()
			defer cancel()
			type result struct {
				conn net.Conn
				id   handshake.Identity
				err  error
			}
			accepted := make(chan result, 1)
			go func() {
				raw, err := ln.Accept()
				if err != nil {
					accepted <- result{err: err}
					return
				}
				conn, id, err := f.srv.Handshake(ctx, raw)
				if err != nil {
					raw.Close()
				}
				accepted <- result{conn, id, err}
			}()
			devConn, err := handshake.Dial(ctx, f.dev, "tcp", ln.Addr().String())
			Expect(err).NotTo(HaveOccurred())
			defer devConn.Close()
			var srv result
			Eventually(accepted).Should(Receive(&srv))
			Expect(srv.err).NotTo(HaveOccurred())
			defer srv.conn.Close()
			Expect(srv.id.DeviceID).To(Equal(testID))
			up, down, errUp, errDown := exchange(devConn, srv.conn, []byte("up"), []byte("down"))
			Expect(errUp).NotTo(HaveOccurred())
			Expect(errDown).NotTo(HaveOccurred())
			Expect(string(up) + string(down)).To(Equal("updown"))
		})

		It("never repeats the server's bytes on the wire in ten handshakes ("+string(c)+")", func() {
			f := newFixture(c, "fresh")
			seen := map[string]bool{}
			for range 10 {
				ctx, cancel := testCtx()
				devRaw, srvRaw := net.Pipe()
				rec := &recordingConn{Conn: srvRaw}
				r := handshakePair(ctx, f.dev, f.srv, devRaw, rec)
				cancel()
				Expect(r.devErr).NotTo(HaveOccurred())
				Expect(r.srvErr).NotTo(HaveOccurred())
				r.devConn.Close()
				r.srvConn.Close()
				msg2 := string(rec.log()[0])
				Expect(seen).NotTo(HaveKey(msg2))
				seen[msg2] = true
			}
		})
	}
})

var _ = Describe("tampering", func() {
	for _, c := range seed.Curves {
		It("lets an untouched relay through ("+string(c)+")", func() {
			f := newFixture(c, "relay")
			up, down, errUp, errDown, hsErr := runRelayed(f, func(_ int, m []byte) []byte { return m })
			Expect(hsErr).NotTo(HaveOccurred())
			Expect(errUp).NotTo(HaveOccurred())
			Expect(errDown).NotTo(HaveOccurred())
			Expect(string(up) + string(down)).To(Equal("pingpong"))
		})

		It("fails the session for every altered byte of msg1 and msg2 ("+string(c)+")", func() {
			f := newFixture(c, "tamper")
			lens := []int{3 + len(testID), c.PointLen()}
			for msg, n := range lens {
				for pos := range n {
					_, _, errUp, errDown, hsErr := runRelayed(f, func(i int, m []byte) []byte {
						if i == msg {
							m[pos] ^= 0x01
						}
						return m
					})
					failed := hsErr != nil || (errUp != nil && errDown != nil)
					Expect(failed).To(BeTrue(), "msg%d byte %d altered and the session worked", msg+1, pos)
				}
			}
		})

		It("shows a substituted server point only at the first record: no handshake integrity ("+string(c)+")", func() {
			f := newFixture(c, "substitute")
			_, mitmPub, err := seed.GenerateKey(c, nil)
			Expect(err).NotTo(HaveOccurred())
			_, _, errUp, errDown, hsErr := runRelayed(f, func(i int, m []byte) []byte {
				if i == 1 {
					return mitmPub
				}
				return m
			})
			Expect(hsErr).NotTo(HaveOccurred(), "both handshakes complete: nothing authenticates msg2")
			Expect(reasonOf(errUp)).To(Equal(handshake.ReasonDecrypt))
			Expect(reasonOf(errDown)).To(Equal(handshake.ReasonDecrypt))
		})
	}
})

// runRelayed runs one handshake through relay with mutate and, when both
// sides succeed, one record each way ("ping" up, "pong" down). hsErr is the
// first handshake error of either side.
func runRelayed(f *fixture, mutate func(int, []byte) []byte) (up, down []byte, errUp, errDown, hsErr error) {
	ctx, cancel := testCtx()
	defer cancel()
	devRaw, devSide := net.Pipe()
	srvRaw, srvSide := net.Pipe()
	done := relay(devSide, srvSide, mutate)
	defer func() { <-done }()
	defer devRaw.Close()
	defer srvRaw.Close()
	r := handshakePair(ctx, f.dev, f.srv, devRaw, srvRaw)
	if hsErr = errors.Join(r.devErr, r.srvErr); hsErr != nil {
		var he *handshake.Error
		ExpectWithOffset(1, errors.As(hsErr, &he)).To(BeTrue())
		return nil, nil, nil, nil, hsErr
	}
	up, down, errUp, errDown = exchange(r.devConn, r.srvConn, []byte("ping"), []byte("pong"))
	return up, down, errUp, errDown, nil
}

var _ = Describe("refusals", func() {
	refuse := func(c seed.Curve, rec func(*handshake.DeviceRecord), st handshake.Stage, want handshake.Reason) {
		f := newFixture(c, "refuse")
		r0, err := f.dir.DeviceByID(context.Background(), testID)
		Expect(err).NotTo(HaveOccurred())
		rec(&r0)
		srv, err := seed.NewServer(seed.ServerConfig{Directory: handshaketest.NewDirectory(r0)})
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := testCtx()
		defer cancel()
		devRaw, srvRaw := net.Pipe()
		r := handshakePair(ctx, f.dev, srv, devRaw, srvRaw)
		expectSeedError(r.srvErr, st, want)
		Expect(reasonOf(r.devErr)).To(Equal(handshake.ReasonIO), "the device sees only a closed conn")
		Expect(r.srvErr.Error()).NotTo(ContainSubstring(testID))
	}
	for _, c := range seed.Curves {
		DescribeTable("the server refuses a device ("+string(c)+")",
			func(rec func(*handshake.DeviceRecord), want handshake.Reason) {
				refuse(c, rec, handshake.StageLookup, want)
			},
			Entry("unknown", func(r *handshake.DeviceRecord) { r.ID = "another" }, handshake.ReasonUnknownDevice),
			Entry("revoked", func(r *handshake.DeviceRecord) { r.Revoked = true }, handshake.ReasonRevoked),
			Entry("of another profile", func(r *handshake.DeviceRecord) { r.Profile = handshake.PSK }, handshake.ReasonWrongProfile),
			Entry("of another curve", func(r *handshake.DeviceRecord) {
				r.Curve = string(otherCurve(seed.Curve(r.Curve)))
				_, r.Key, _ = seed.GenerateKey(seed.Curve(r.Curve), nil)
			}, handshake.ReasonMalformed),
			Entry("whose registered key is not a point", func(r *handshake.DeviceRecord) { r.Key = []byte{4, 1, 2} }, handshake.ReasonRegistry),
		)
	}
	It("refuses an unknown device even when the directory holds only other IDs", func() {
		f := newFixture(seed.P256, "unknown")
		dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: "ghost.device_7", Curve: seed.P256, Private: f.priv})
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := testCtx()
		defer cancel()
		devRaw, srvRaw := net.Pipe()
		r := handshakePair(ctx, dev, f.srv, devRaw, srvRaw)
		expectSeedError(r.srvErr, handshake.StageLookup, handshake.ReasonUnknownDevice)
		Expect(r.srvErr).To(MatchError(handshake.ErrUnknownDevice))
		Expect(r.srvErr.Error()).NotTo(ContainSubstring("ghost"))
	})
})

func otherCurve(c seed.Curve) seed.Curve {
	if c == seed.P256 {
		return seed.Secp160r1
	}
	return seed.P256
}

var _ = Describe("hostile frames", func() {
	f := newFixtureLazy(seed.Secp160r1)
	id := []byte(testID)
	msg1 := func(v, c, n byte, id []byte) []byte { return append([]byte{v, c, n}, id...) }

	DescribeTable("the server answers bad msg1 streams with typed errors",
		func(stream func() []byte, want handshake.Reason) {
			_, _, err := f().srv.Handshake(context.Background(), newScriptConn(stream()))
			expectSeedError(err, handshake.StageMsg1, want)
		},
		Entry("no bytes", func() []byte { return nil }, handshake.ReasonIO),
		Entry("half a header", func() []byte { return []byte{0} }, handshake.ReasonShortFrame),
		Entry("empty frame", func() []byte { return []byte{0, 0} }, handshake.ReasonShortFrame),
		Entry("truncated body", func() []byte { return []byte{0, 12, 1, 2, 9, 's'} }, handshake.ReasonShortFrame),
		Entry("two bytes", func() []byte { return frame([]byte{1, 2}) }, handshake.ReasonShortFrame),
		Entry("oversize frame", func() []byte { return frame(make([]byte, 68)) }, handshake.ReasonOversizeFrame),
		Entry("maximum frame length", func() []byte { return []byte{0xff, 0xff} }, handshake.ReasonOversizeFrame),
		Entry("version 2", func() []byte { return frame(msg1(2, 2, 9, id)) }, handshake.ReasonMalformed),
		Entry("curve 0", func() []byte { return frame(msg1(1, 0, 9, id)) }, handshake.ReasonMalformed),
		Entry("curve 3", func() []byte { return frame(msg1(1, 3, 9, id)) }, handshake.ReasonMalformed),
		Entry("idlen 0", func() []byte { return frame(msg1(1, 2, 0, nil)) }, handshake.ReasonMalformed),
		Entry("idlen 65", func() []byte { return frame(msg1(1, 2, 65, bytes.Repeat([]byte("a"), 64))) }, handshake.ReasonMalformed),
		Entry("idlen above the body", func() []byte { return frame(msg1(1, 2, 10, id)) }, handshake.ReasonShortFrame),
		Entry("idlen below the body", func() []byte { return frame(msg1(1, 2, 8, id)) }, handshake.ReasonMalformed),
		Entry("ID with a space", func() []byte { return frame(msg1(1, 2, 9, []byte("sensor 01"))) }, handshake.ReasonMalformed),
		Entry("ID with a NUL", func() []byte { return frame(msg1(1, 2, 9, []byte("sensor\x0001"))) }, handshake.ReasonMalformed),
		Entry("ID with UTF-8", func() []byte { return frame(msg1(1, 2, 9, []byte("sens\xc3\xb6r01"))) }, handshake.ReasonMalformed),
	)

	DescribeTable("a device answers bad msg2 streams with typed errors",
		func(c seed.Curve, stream func(c seed.Curve) []byte, want handshake.Reason) {
			f := newFixture(c, "msg2")
			for _, skip := range []bool{false, true} {
				dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: f.priv, SkipPointCheck: skip})
				Expect(err).NotTo(HaveOccurred())
				_, err = dev.Handshake(context.Background(), newScriptConn(stream(c)))
				expectSeedError(err, handshake.StageMsg2, want)
			}
		},
		Entry("no reply", seed.P256, func(seed.Curve) []byte { return nil }, handshake.ReasonIO),
		Entry("empty frame", seed.P256, func(seed.Curve) []byte { return []byte{0, 0} }, handshake.ReasonShortFrame),
		Entry("truncated point", seed.Secp160r1, func(c seed.Curve) []byte { return frame(make([]byte, c.PointLen()-1)) }, handshake.ReasonShortFrame),
		Entry("oversize point", seed.P256, func(c seed.Curve) []byte { return frame(make([]byte, c.PointLen()+1)) }, handshake.ReasonOversizeFrame),
		Entry("a P-256 point to a secp160r1 device", seed.Secp160r1, func(seed.Curve) []byte { _, p, _ := seed.GenerateKey(seed.P256, nil); return frame(p) }, handshake.ReasonOversizeFrame),
		Entry("compressed prefix", seed.P256, func(c seed.Curve) []byte { _, p, _ := seed.GenerateKey(c, nil); p[0] = 2; return frame(p) }, handshake.ReasonBadPoint),
		Entry("all-zero point", seed.Secp160r1, func(c seed.Curve) []byte { return frame(make([]byte, c.PointLen())) }, handshake.ReasonBadPoint),
		Entry("one byte that is not 0x00", seed.Secp160r1, func(seed.Curve) []byte { return frame([]byte{4}) }, handshake.ReasonShortFrame),
	)

	It("never panics on a server stream cut at every length", func() {
		full := frame(msg1(1, 2, 9, id))
		for n := range len(full) {
			_, _, err := f().srv.Handshake(context.Background(), newScriptConn(full[:n]))
			Expect(err).To(HaveOccurred())
			Expect(handshake.ReasonOf(err)).To(BeElementOf(handshake.ReasonIO, handshake.ReasonShortFrame))
		}
	})
})

// newFixtureLazy defers building a fixture until a spec runs.
func newFixtureLazy(c seed.Curve) func() *fixture {
	var f *fixture
	return func() *fixture {
		if f == nil {
			f = newFixture(c, "lazy")
		}
		return f
	}
}

var _ = Describe("deadlines", func() {
	It("bounds the device's handshake with a silent server", func() {
		f := newFixture(seed.Secp160r1, "silent")
		devRaw, peer := net.Pipe()
		defer peer.Close()
		go io.Copy(io.Discard, peer) // reads msg1, never answers
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := f.dev.Handshake(ctx, devRaw)
		expectSeedError(err, handshake.StageMsg2, handshake.ReasonTimeout)
		devRaw.Close()
	})

	It("bounds the server's handshake with a silent device", func() {
		f := newFixture(seed.P256, "silent")
		srvRaw, peer := net.Pipe()
		defer peer.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _, err := f.srv.Handshake(ctx, srvRaw)
		expectSeedError(err, handshake.StageMsg1, handshake.ReasonTimeout)
		srvRaw.Close()
	})

	It("unblocks a handshake whose context is cancelled", func() {
		f := newFixture(seed.P256, "cancel")
		srvRaw, peer := net.Pipe()
		defer peer.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 1)
		go func() {
			_, _, err := f.srv.Handshake(ctx, srvRaw)
			errs <- err
		}()
		cancel()
		var err error
		Eventually(errs).Should(Receive(&err))
		Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonTimeout))
		srvRaw.Close()
	})

	It("clears the deadline after a successful handshake", func() {
		f := newFixture(seed.Secp160r1, "clear")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		devRaw, srvRaw := net.Pipe()
		r := handshakePair(ctx, f.dev, f.srv, devRaw, srvRaw)
		cancel()
		Expect(r.devErr).NotTo(HaveOccurred())
		Expect(r.srvErr).NotTo(HaveOccurred())
		defer r.devConn.Close()
		defer r.srvConn.Close()
		_, _, errUp, errDown := exchange(r.devConn, r.srvConn, []byte("after"), []byte("cancel"))
		Expect(errUp).NotTo(HaveOccurred())
		Expect(errDown).NotTo(HaveOccurred())
	})
})
