package hostagent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/seed"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// The host build of the agent announces the ATmega328P's sizes
// (agent/agent.h): max_payload 128, a 160-byte relay buffer.
const (
	maxPayload   = 128
	relayLen     = 160
	maxRecordLen = relayLen - 2 - 16 // application bytes in one server record
)

var _ = Describe("the C agent on a pseudo-terminal", Label("board"), func() {
	It("introduces itself: HELLO and INFO", func() {
		r := newRig()
		h, err := r.b.Hello(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Version).To(BeEquivalentTo(1))
		Expect(h.MaxPayload).To(BeEquivalentTo(maxPayload))
		Expect(h.State).To(Equal(bp.StateIdle))
		Expect(h.BootCount).To(BeEquivalentTo(1))
		in, err := r.b.Info(ctx())
		Expect(err).NotTo(HaveOccurred())
		// getrandom(2): the kernel's entropy, no seed from provisioning;
		// the host port has port/net.h.
		Expect(in.Caps).To(Equal(bp.CapRelay | bp.CapNetwork | bp.CapStorage | bp.CapEntropy))
		Expect(in.Unit).To(Equal(bp.UnitNanoseconds))
		Expect(in.Profiles).To(ConsistOf(handshake.Noise, handshake.Seed, handshake.PSK))
		Expect(in.Curves).To(ConsistOf(bp.CurveX25519, bp.CurveP256, bp.CurveSecp160r1))
		Expect(in.AEADs).To(ConsistOf(bp.AEADChaCha20Poly1305, bp.AEADAES128GCM, bp.AEADAES256GCM))
		Expect(in.Firmware).To(HavePrefix("shakedown agent"))
		Expect(in.Chip).To(Equal("host"))
		Expect(in.Serial).To(Equal(r.serial))
		boot, n := r.b.LastBoot()
		if n > 0 { // the BOOT the agent sent before the port was opened
			Expect(boot.Reason).To(Equal(bp.BootPowerOn))
		}
	})

	DescribeTable("times its own crypto: BENCH",
		func(req bp.BenchRequest) {
			r := newRig()
			res, err := r.b.Bench(ctx(), req)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Unit).To(Equal(bp.UnitNanoseconds))
			Expect(res.Iterations).To(Equal(req.Iterations))
			Expect(res.Min).To(BeNumerically(">", 0))
			Expect(res.Min).To(BeNumerically("<=", res.Max))
			Expect(res.Total).To(BeNumerically(">=", uint64(res.Min)*uint64(req.Iterations)))
			Expect(res.Total).To(BeNumerically("<=", uint64(res.Max)*uint64(req.Iterations)))
		},
		Entry("X25519", bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveX25519), Iterations: 4}),
		Entry("P-256", bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveP256), Iterations: 2}),
		Entry("secp160r1", bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveSecp160r1), Iterations: 2}),
		Entry("ChaCha20-Poly1305 seal", bp.BenchRequest{Op: bp.BenchAEADSeal, Param: byte(bp.AEADChaCha20Poly1305), Size: 64, Iterations: 8}),
		Entry("AES-128-GCM open", bp.BenchRequest{Op: bp.BenchAEADOpen, Param: byte(bp.AEADAES128GCM), Size: 128, Iterations: 8}),
		Entry("AES-256-GCM seal", bp.BenchRequest{Op: bp.BenchAEADSeal, Param: byte(bp.AEADAES256GCM), Size: 16, Iterations: 8}),
		Entry("SHA-256", bp.BenchRequest{Op: bp.BenchSHA256, Size: 1024, Iterations: 8}),
	)

	It("refuses a bench it cannot run, with the status as the reason", func() {
		r := newRig()
		_, err := r.b.Bench(ctx(), bp.BenchRequest{Op: bp.BenchAEADSeal, Param: byte(bp.AEADAES128GCM), Size: 4096, Iterations: 1})
		Expect(reasonOf(err)).To(Equal(bp.StatusTooLarge.Reason()))
		_, err = r.b.Bench(ctx(), bp.BenchRequest{Op: bp.BenchScalarMult, Param: 9, Iterations: 1})
		Expect(reasonOf(err)).To(Equal(bp.StatusUnsupported.Reason()))
	})

	DescribeTable("runs the device side in C against the Go server, then carries application bytes both ways",
		func(mk func() fixture, sent int) {
			f := mk()
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())

			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: f.prov.Profile, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Result.Reason).To(BeEmpty())
			Expect(s.Result.Profile).To(Equal(f.prov.Profile))
			Expect(s.Result.Unit).To(Equal(bp.UnitNanoseconds))
			Expect(s.Result.Total).To(BeNumerically(">", 0))
			Expect(s.Result.Total).To(BeNumerically(">=", s.Result.Crypto))
			Expect(int(s.Result.Sent)).To(Equal(sent))
			if f.prov.Profile != handshake.PSK {
				Expect(s.Result.Crypto).To(BeNumerically(">", 0))
			}

			exchange(s, "ping")
			// A whole SEND payload; the echo comes back in one record.
			exchange(s, strings.Repeat("m", maxPayload-10))
			// More than one SEND: the harness cuts it, the server echoes
			// each record it reads.
			Expect(s.Send(ctx(), bytes.Repeat([]byte("x"), 300))).To(Succeed())
			var echoed []byte
			for bytes.Count(echoed, []byte("x")) < 300 {
				m, err := s.Receive(ctx())
				Expect(err).NotTo(HaveOccurred())
				echoed = append(echoed, m...)
			}
			Expect(s.Close()).To(Succeed())
			Eventually(s.Done()).Should(BeClosed())

			Eventually(srv.Identities).Should(HaveLen(1))
			Expect(srv.Identities()[0].DeviceID).To(Equal(f.prov.DeviceID))
			Expect(srv.Refused()).To(BeEmpty())
			Expect(counter(r.b, bp.CounterHandshakesOK)).To(BeEquivalentTo(1))
			Expect(counter(r.b, bp.CounterMessagesSent)).To(BeNumerically(">=", 5))
			h, err := r.b.Hello(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(h.State).To(Equal(bp.StateIdle))
		},
		Entry("noise IK", func() fixture { return newNoiseFixture("c-noise") }, 2+noise.MsgLenIK1),
		Entry("seed on P-256", func() fixture { return seedFixture("c-seed256", seed.P256, bp.CurveP256) }, 2+3+9),
		Entry("seed on secp160r1", func() fixture { return seedFixture("c-seed160", seed.Secp160r1, bp.CurveSecp160r1) }, 2+3+9),
		Entry("psk", func() fixture { return pskFixture("c-psk") }, 2+2+5),
	)

	It("sends a greater message-1 counter every handshake, across resets and restarts", func() {
		f := newNoiseFixture("c-counter")
		srv := startServer(f)
		r := newRig()
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		handshakeOnce := func() uint64 {
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			exchange(s, "counter")
			Expect(s.Close()).To(Succeed())
			return s.Result.Counter
		}
		Expect(handshakeOnce()).To(BeEquivalentTo(1))
		Expect(handshakeOnce()).To(BeEquivalentTo(2))
		// A reset skips the rest of the block reserved in storage (16).
		boot, err := r.b.Reset(ctx(), bp.ResetSoft)
		Expect(err).NotTo(HaveOccurred())
		Expect(boot.Reason).To(Equal(bp.BootSoft))
		Expect(handshakeOnce()).To(BeEquivalentTo(17))
		boot, err = r.b.Reset(ctx(), bp.ResetReboot)
		Expect(err).NotTo(HaveOccurred())
		Expect(boot.Reason).To(Equal(bp.BootWatchdog))
		Expect(handshakeOnce()).To(BeEquivalentTo(33))
		// A killed process is a power cut: storage is all that is left.
		r.restart()
		h, err := r.b.Hello(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(h.BootCount).To(BeEquivalentTo(4))
		Expect(handshakeOnce()).To(BeEquivalentTo(49))
		Expect(counter(r.b, bp.CounterMessageCounter)).To(BeEquivalentTo(49))
		// The server stored each one; none was refused as a replay.
		Expect(srv.Directory.Counter("c-counter")).To(BeEquivalentTo(49))
		Expect(srv.Refused()).To(BeEmpty())
		Expect(srv.Identities()).To(HaveLen(5))
	})

	It("learns the next server key from message 2 and follows the rollover", func() {
		current, err := noise.GenerateKeypair(rand.Reader)
		Expect(err).NotTo(HaveOccurred())
		next, err := noise.GenerateKeypair(rand.Reader)
		Expect(err).NotTo(HaveOccurred())
		// The server announces next while it still answers to current.
		f := noiseFixture("c-rollover", noise.ServerKeys{Current: current, Next: next})
		srv := startServer(f)
		r := newRig()
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Close()).To(Succeed())

		// The operator promotes next: the server knows only next.
		srv.SetNoiseKeys(noise.ServerKeys{Current: next})
		s, err = r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		exchange(s, "after the rollover")
		Expect(s.Close()).To(Succeed())

		// A board that never heard the announcement is locked out.
		g := noiseFixture("c-stale", noise.ServerKeys{Current: current})
		stale := newRig()
		Expect(stale.b.Provision(ctx(), g.prov)).To(Succeed())
		locked := startServer(g)
		locked.SetNoiseKeys(noise.ServerKeys{Current: next})
		_, err = stale.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: locked.addr})
		Expect(err).To(HaveOccurred())
		Expect(reasonOf(err)).To(BeElementOf(handshake.ReasonIO, handshake.ReasonShortFrame))
		Eventually(locked.Refused).Should(Equal([]handshake.Reason{handshake.ReasonDecrypt}))
	})

	It("puts fresh bytes on the wire in every handshake", func() {
		f := newNoiseFixture("c-fresh")
		srv := startServer(f)
		r := newRig()
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		seen := map[string]bool{}
		for range 10 {
			rec := newRecorder()
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: rec.tap()})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Close()).To(Succeed())
			msg1 := rec.bytes(harness.BoardToServer)
			Expect(len(msg1)).To(BeNumerically(">=", 2+noise.MsgLenIK1))
			Expect(msg1[:2]).To(Equal([]byte{0, noise.MsgLenIK1}))
			e := string(msg1[2 : 2+32]) // the ephemeral, in clear
			Expect(seen).NotTo(HaveKey(e))
			seen[e] = true
		}
	})

	Describe("on hostile paths", func() {
		It("refuses a message 2 altered on the way, in the C agent itself", func() {
			f := newNoiseFixture("c-mitm")
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			for _, at := range []int{2, 40, 2 + noise.MsgLenIK2 - 1} { // e, the payload, the tag
				rec := newRecorder()
				rec.alter = func(dir harness.Direction, offset int, chunk []byte) []byte {
					if dir == harness.ServerToBoard && at >= offset && at < offset+len(chunk) {
						chunk[at-offset] ^= 0x01
					}
					return chunk
				}
				_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: rec.tap()})
				var he *handshake.Error
				Expect(err).To(BeAssignableToTypeOf(he))
				he = err.(*handshake.Error)
				Expect(he.Reason).To(Equal(handshake.ReasonDecrypt))
				Expect(he.Stage).To(Equal(handshake.StageMsg2))
				Expect(he.Profile).To(Equal(handshake.Noise))
				// The verdict is the board's own HANDSHAKE_DONE.
				Expect(he.Err).To(MatchError(ContainSubstring("the board reported a failed handshake")))
			}
			Expect(counter(r.b, bp.CounterHandshakesFailed)).To(BeEquivalentTo(3))
			Expect(counter(r.b, bp.CounterLastFailureReason)).To(BeEquivalentTo(bp.ReasonCode(handshake.ReasonDecrypt)))
			// Unaltered, the next handshake goes through.
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			exchange(s, "after the attack")
			Expect(s.Close()).To(Succeed())
		})

		It("refuses a seed point moved off the curve", func() {
			f := seedFixture("c-badpoint", seed.Secp160r1, bp.CurveSecp160r1)
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			last := 2 + 41 - 1 // the last byte of y
			rec := newRecorder()
			rec.alter = func(dir harness.Direction, offset int, chunk []byte) []byte {
				if dir == harness.ServerToBoard && last >= offset && last < offset+len(chunk) {
					chunk[last-offset] ^= 0x01
				}
				return chunk
			}
			_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Seed, Server: srv.addr, Tap: rec.tap()})
			Expect(reasonOf(err)).To(Equal(handshake.ReasonBadPoint))
			Expect(err.(*handshake.Error).Stage).To(Equal(handshake.StageMsg2))
		})

		It("refuses a message 2 cut short when the path closes", func() {
			f := newNoiseFixture("c-cut")
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			// Message 1 through, the first 50 bytes of message 2, then the
			// path closes; the harness sends RELAY_CLOSE.
			cut := harness.TapFunc(func(_ context.Context, board, server net.Conn) error {
				defer board.Close()
				defer server.Close()
				msg1 := make([]byte, 2+noise.MsgLenIK1)
				if _, err := io.ReadFull(board, msg1); err != nil {
					return err
				}
				if _, err := server.Write(msg1); err != nil {
					return err
				}
				part := make([]byte, 50)
				if _, err := io.ReadFull(server, part); err != nil {
					return err
				}
				_, err := board.Write(part)
				return err
			})
			_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: cut})
			Expect(reasonOf(err)).To(Equal(handshake.ReasonShortFrame))
			Expect(err.(*handshake.Error).Stage).To(Equal(handshake.StageMsg2))
		})

		It("ends a session whose record is longer than it can hold", func() {
			f := pskFixture("c-flood")
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			// A whole SEND payload: its echo, 5 bytes longer, still fits one
			// record, and comes back as two MESSAGE events.
			Expect(maxPayload + len("pong:")).To(BeNumerically("<=", maxRecordLen))
			msg := strings.Repeat("y", maxPayload)
			Expect(s.Send(ctx(), []byte(msg))).To(Succeed())
			first, err := s.Receive(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(first).To(HaveLen(maxPayload))
			rest, err := s.Receive(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(string(first) + string(rest)).To(Equal("pong:" + msg))
			Expect(s.Send(ctx(), []byte(flood))).To(Succeed())
			_, err = s.Receive(ctx())
			Expect(reasonOf(err)).To(Equal(handshake.ReasonOversizeFrame))
			Eventually(s.Done()).Should(BeClosed())
			h, err := r.b.Hello(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(h.State).To(Equal(bp.StateIdle))
			Expect(s.Close()).To(Succeed())
		})

		It("ends a session on a record altered on the way", func() {
			f := seedFixture("c-record", seed.P256, bp.CurveP256)
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			rec := newRecorder()
			msg2 := 2 + 65
			rec.alter = func(dir harness.Direction, offset int, chunk []byte) []byte {
				// The third byte of the first record from the server.
				at := msg2 + 2 + 2
				if dir == harness.ServerToBoard && at >= offset && at < offset+len(chunk) {
					chunk[at-offset] ^= 0x80
				}
				return chunk
			}
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Seed, Server: srv.addr, Tap: rec.tap()})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Send(ctx(), []byte("tamper me"))).To(Succeed())
			_, err = s.Receive(ctx())
			Expect(reasonOf(err)).To(Equal(handshake.ReasonDecrypt))
			Expect(s.Close()).To(Succeed())
		})
	})
})
