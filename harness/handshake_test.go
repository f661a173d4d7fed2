package harness_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/handshake/seed"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// exchange sends one message through the session and expects the server's
// echo.
func exchange(s *harness.Session, msg string) {
	Expect(s.Send(ctx(), []byte(msg))).To(Succeed())
	got, err := s.Receive(ctx())
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal("pong:" + msg))
}

var _ = Describe("relay handshakes", Label("board"), func() {
	DescribeTable("run the device side on the board, the harness carrying its bytes to the server",
		func(mk func() fixture, wantID string) {
			f := mk()
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())

			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: f.prov.Profile, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Attempts).To(Equal(1))
			Expect(s.Result.Reason).To(BeEmpty())
			Expect(s.Result.Profile).To(Equal(f.prov.Profile))
			Expect(s.Result.Unit).To(Equal(bp.UnitNanoseconds))
			Expect(s.Result.Total).To(BeNumerically(">", 0))
			Expect(s.Result.Sent).To(BeNumerically(">", 0))

			exchange(s, "ping")
			// More than one frame each way: SEND is cut to the board's payload
			// limit, and the replies come back as several MESSAGE events.
			Expect(s.Send(ctx(), bytes.Repeat([]byte("x"), 600))).To(Succeed())
			var echoed []byte
			for bytes.Count(echoed, []byte("x")) < 600 {
				m, err := s.Receive(ctx())
				Expect(err).NotTo(HaveOccurred())
				Expect(len(m)).To(BeNumerically("<=", bp.MaxPayload))
				echoed = append(echoed, m...)
			}
			Expect(bytes.Count(echoed, []byte("pong:"))).To(BeNumerically(">=", 3))
			Expect(s.Close()).To(Succeed())
			Eventually(s.Done()).Should(BeClosed())

			Eventually(srv.Identities).Should(HaveLen(1))
			Expect(srv.Identities()[0].DeviceID).To(Equal(wantID))
			Expect(srv.Refused()).To(BeEmpty())
			h, err := r.b.Hello(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(h.State).To(Equal(bp.StateIdle))
		},
		Entry("noise", func() fixture { return noiseFixture("vb-noise") }, "vb-noise"),
		Entry("psk", func() fixture { return pskFixture("vb-psk") }, "vb-psk"),
		Entry("seed on P-256", func() fixture { return seedFixture("vb-seed", seed.P256, bp.CurveP256) }, "vb-seed"),
		Entry("seed on secp160r1", func() fixture { return seedFixture("vb-seed160", seed.Secp160r1, bp.CurveSecp160r1) }, "vb-seed160"),
		Entry("tls", tlsFixture, ""),
	)

	It("sends a greater message-1 counter every time, from the board's storage", func() {
		f := noiseFixture("vb-counter")
		srv := startServer(f)
		r := newRig(virtual.Config{})
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		for want := uint64(1); want <= 3; want++ {
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Result.Counter).To(Equal(want))
			Expect(s.Close()).To(Succeed())
		}
		Expect(srv.Directory.Counter("vb-counter")).To(BeEquivalentTo(3))
		cs, err := r.b.Counters(ctx())
		Expect(err).NotTo(HaveOccurred())
		ok, _ := cs.Get(bp.CounterHandshakesOK)
		Expect(ok).To(BeEquivalentTo(3))
	})

	It("refuses a handshake for a profile the board holds no identity for", func() {
		r := newRig(virtual.Config{})
		_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: "127.0.0.1:1"})
		Expect(err).To(HaveOccurred()) // nothing listens on port 1: the dial fails first
		Expect(isTyped(err)).To(BeTrue())

		srv := startServer(noiseFixture("x"))
		_, err = r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
		Expect(reasonOf(err)).To(Equal(bp.StatusNotProvisioned.Reason()))
	})

	Describe("the relay's byte path", func() {
		It("is open to a tap that watches every byte", func() {
			f := noiseFixture("vb-tap")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			var mu sync.Mutex
			seen := map[harness.Direction]*bytes.Buffer{harness.BoardToServer: {}, harness.ServerToBoard: {}}
			tap := harness.ChunkTap(func(dir harness.Direction, chunk []byte) []byte {
				mu.Lock()
				defer mu.Unlock()
				seen[dir].Write(chunk)
				return chunk
			})
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: tap})
			Expect(err).NotTo(HaveOccurred())
			exchange(s, "ping")
			Expect(s.Close()).To(Succeed())
			mu.Lock()
			defer mu.Unlock()
			// Noise IK message 1: a 2-byte length, then e, s and the counter payload.
			msg1 := seen[harness.BoardToServer].Bytes()
			Expect(len(msg1)).To(BeNumerically(">=", 2+104))
			Expect(msg1[:2]).To(Equal([]byte{0, 104}))
			Expect(seen[harness.ServerToBoard].Len()).To(BeNumerically(">", 0))
			Expect(seen[harness.BoardToServer].String()).NotTo(ContainSubstring("ping"))
		})

		It("lets a tap alter message 2, and the board refuses the handshake", func() {
			f := noiseFixture("vb-mitm")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			flipped := false
			tap := harness.ChunkTap(func(dir harness.Direction, chunk []byte) []byte {
				if dir == harness.ServerToBoard && !flipped && len(chunk) > 40 {
					flipped = true
					chunk[40] ^= 0x01
				}
				return chunk
			})
			_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: tap})
			Expect(reasonOf(err)).To(Equal(handshake.ReasonDecrypt))
			var he *handshake.Error
			Expect(err).To(BeAssignableToTypeOf(he))
			Expect(err.(*handshake.Error).Stage).To(Equal(handshake.StageMsg2))
			Expect(err.(*handshake.Error).Profile).To(Equal(handshake.Noise))
			t, ok := harness.RelayTraceOf(err)
			Expect(ok).To(BeTrue(), "the relay's trace rides under the board's reason")
			Expect(t.FromServer).To(BeNumerically(">", 0), "the server answered; the board could not decrypt it")
			Eventually(func() (bp.State, error) {
				h, err := r.b.Hello(ctx())
				return h.State, err
			}).Should(Equal(bp.StateIdle))
		})

		It("leaves nothing of a refused handshake to end the next one", func() {
			// After a refused relay handshake the board's CLOSED follows its
			// HANDSHAKE_DONE; Handshake returns only once it has arrived, so it
			// cannot end the relay of the next handshake.
			f := noiseFixture("vb-again")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			for i := range 20 {
				flip := harness.ChunkTap(func(dir harness.Direction, chunk []byte) []byte {
					if dir == harness.ServerToBoard {
						chunk[len(chunk)-1] ^= 0x80
					}
					return chunk
				})
				_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: flip})
				Expect(err).To(HaveOccurred(), "round %d: the tampered handshake", i)
				Expect(r.b.WaitIdle(ctx())).To(Succeed(), "round %d: the board may still be finishing the run", i)
				s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
				Expect(err).NotTo(HaveOccurred(), "round %d: the clean handshake after it", i)
				Expect(s.Close()).To(Succeed())
			}
		})

		It("says what the relay saw when the server refuses without a word", func() {
			f := noiseFixture("vb-refused")
			// A server that reads message 1 and hangs up, as the reference
			// server does with a handshake it refuses.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(ln.Close)
			read := make(chan int, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 2+104)
				n, _ := io.ReadFull(c, buf)
				read <- n
				c.Close()
			}()
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			_, err = r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: ln.Addr().String()})
			Expect(err).To(HaveOccurred())
			Expect(read).To(Receive(Equal(2 + 104)))
			var he *handshake.Error
			Expect(errors.As(err, &he)).To(BeTrue())
			Expect(he.Profile).To(Equal(handshake.Noise))
			Expect(he.Stage).To(Equal(handshake.StageMsg2), "the board's own account: no message 2")
			t, ok := harness.RelayTraceOf(err)
			Expect(ok).To(BeTrue())
			Expect(t.ToServer).To(BeNumerically(">=", 2+104))
			Expect(t.FromServer).To(BeZero())
			Expect(t.ServerClosed).To(BeTrue())
			Expect(err.Error()).To(ContainSubstring("the server closed the connection without answering"))
		})

		It("lets a tap cut the connection, and the board reports it", func() {
			f := noiseFixture("vb-cut")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			tap := harness.TapFunc(func(_ context.Context, board, server net.Conn) error {
				board.Close()
				server.Close()
				return nil
			})
			_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Tap: tap})
			Expect(isTyped(err)).To(BeTrue())
			Expect(reasonOf(err)).To(BeElementOf(handshake.ReasonIO, handshake.ReasonShortFrame))
		})
	})

	It("ends the session when the server goes away, and the board is free again", func() {
		f := pskFixture("vb-gone")
		srv := startServer(f)
		r := newRig(virtual.Config{})
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		cut := make(chan struct{})
		closeCut := sync.OnceFunc(func() { close(cut) })
		DeferCleanup(closeCut)
		tap := harness.TapFunc(func(ctx context.Context, board, server net.Conn) error {
			go func() {
				<-cut
				server.Close()
			}()
			return harness.Pipe.Carry(ctx, board, server)
		})
		s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: srv.addr, Tap: tap})
		Expect(err).NotTo(HaveOccurred())
		exchange(s, "before")
		closeCut()
		Eventually(s.Done()).Should(BeClosed())
		_, err = s.Receive(ctx())
		Expect(err).To(HaveOccurred())

		s2, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		exchange(s2, "after")
		Expect(s2.Close()).To(Succeed())
	})

	Describe("a reset in the middle of a handshake", func() {
		It("fails the attempt with board_reset", func() {
			f := noiseFixture("vb-reset1")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			r.vb.SetFaults(virtual.Faults{ResetInHandshake: 1, Banner: "\r\nrebooting after a watchdog reset\r\n"})
			_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
			Expect(reasonOf(err)).To(Equal(handshake.ReasonBoardReset))
			Eventually(r.console).Should(gbytes.Say("rebooting after a watchdog reset"))
		})

		It("is recovered: the harness greets the board again and the next attempt succeeds", func() {
			f := noiseFixture("vb-reset2")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			r.vb.SetFaults(virtual.Faults{ResetInHandshake: 1})
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr, Attempts: 2})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Attempts).To(Equal(2))
			// The first attempt used counter 1 before the reset: the board
			// persisted it, so the second sends 2 and the server accepts it.
			Expect(s.Result.Counter).To(BeEquivalentTo(2))
			exchange(s, "after the reset")
			Expect(s.Close()).To(Succeed())
			boot, _ := r.b.LastBoot()
			Expect(boot.Reason).To(Equal(bp.BootWatchdog))
			Expect(r.b.Stats().BadFrames).To(BeNumerically(">=", 1)) // the frame cut in half
			Eventually(srv.Refused).Should(HaveLen(1))               // the first connection, cut short
			Expect(srv.Identities()).To(HaveLen(1))
		})
	})

	Describe("network mode", func() {
		It("lets the board connect by itself while the harness only observes", func() {
			f := pskFixture("vb-net")
			srv := startServer(f)
			r := newRig(virtual.Config{})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Mode: bp.ModeNetwork, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			exchange(s, "over the board's own network")
			Expect(s.Close()).To(Succeed())
			Eventually(srv.Identities).Should(HaveLen(1))
		})

		It("is refused by a board without a network", func() {
			r := newRig(virtual.Config{NoNetwork: true})
			Expect(r.b.Provision(ctx(), pskFixture("vb-nonet").prov)).To(Succeed())
			_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Mode: bp.ModeNetwork, Server: "127.0.0.1:9"})
			Expect(reasonOf(err)).To(Equal(bp.StatusUnsupported.Reason()))
		})
	})

	It("keeps a slow chip's pace and reports it", func() {
		f := noiseFixture("vb-slow")
		srv := startServer(f)
		r := newRig(virtual.Config{Costs: map[string]time.Duration{"x25519": 20 * time.Millisecond}})
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Result.Crypto).To(BeEquivalentTo(5 * 20 * time.Millisecond))
		Expect(s.Result.Total).To(BeNumerically(">=", s.Result.Crypto))
		Expect(s.Close()).To(Succeed())
	})
})
