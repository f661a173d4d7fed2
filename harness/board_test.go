package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"go.bug.st/serial"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/harness/serialtest"
)

var _ = Describe("a virtual board over a pseudo-terminal", Label("board"), func() {
	Describe("info", func() {
		It("says who it is", func() {
			r := newRig(virtual.Config{Board: "test board", Chip: "test chip"})
			in, err := r.b.Info(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(in.Version).To(BeEquivalentTo(bp.Version))
			Expect(in.Board).To(Equal("test board"))
			Expect(in.Chip).To(Equal("test chip"))
			Expect(in.Serial).To(Equal(r.vb.Serial()))
			Expect(in.MaxPayload).To(BeEquivalentTo(bp.MaxPayload))
			Expect(in.Unit).To(Equal(bp.UnitNanoseconds))
			Expect(in.Caps & bp.CapRelay).NotTo(BeZero())
			Expect(in.Profiles).To(ConsistOf(handshake.Noise, handshake.Seed, handshake.PSK, handshake.TLS))
			Expect(in.Curves).To(ConsistOf(bp.CurveX25519, bp.CurveP256, bp.CurveSecp160r1))
			Expect(r.b.PortName()).To(Equal(r.vb.Path()))
			Expect(r.b.SerialNumber()).To(Equal(r.vb.Serial()))
		})

		It("greets with HELLO and saw the power-on BOOT", func() {
			r := newRig(virtual.Config{MaxPayload: 64})
			h, err := r.b.Hello(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(h.MaxPayload).To(BeEquivalentTo(64))
			Expect(h.State).To(Equal(bp.StateIdle))
			Eventually(func() bp.BootReason { boot, _ := r.b.LastBoot(); return boot.Reason }).Should(Equal(bp.BootPowerOn))
			Expect(r.b.MaxPayload()).To(Equal(64))
		})

		It("reads counters and the log", func() {
			r := newRig(virtual.Config{})
			cs, err := r.b.Counters(ctx())
			Expect(err).NotTo(HaveOccurred())
			boots, ok := cs.Get(bp.CounterBoots)
			Expect(ok).To(BeTrue())
			Expect(boots).To(BeEquivalentTo(1))
			frames, ok := cs.Get(bp.CounterFramesRx)
			Expect(ok).To(BeTrue())
			Expect(frames).To(BeNumerically(">=", 1))
			l, err := r.b.ReadLog(ctx(), 0)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(l.Text)).To(ContainSubstring("boot 1 (power_on)"))
			again, err := r.b.ReadLog(ctx(), l.Next)
			Expect(err).NotTo(HaveOccurred())
			Expect(again.Text).To(BeEmpty())
		})
	})

	Describe("bench", func() {
		It("times scalar multiplications, AEADs and hashes with the board's own counter", func() {
			r := newRig(virtual.Config{})
			for _, req := range []bp.BenchRequest{
				{Op: bp.BenchScalarMult, Param: byte(bp.CurveX25519), Iterations: 3},
				{Op: bp.BenchScalarMult, Param: byte(bp.CurveP256), Iterations: 2},
				{Op: bp.BenchScalarMult, Param: byte(bp.CurveSecp160r1), Iterations: 1},
				{Op: bp.BenchAEADSeal, Param: byte(bp.AEADChaCha20Poly1305), Size: 1024, Iterations: 4},
				{Op: bp.BenchAEADOpen, Param: byte(bp.AEADAES128GCM), Size: 64, Iterations: 4},
				{Op: bp.BenchSHA256, Size: 256, Iterations: 2},
			} {
				res, err := r.b.Bench(ctx(), req)
				Expect(err).NotTo(HaveOccurred(), "%s", req.Op)
				Expect(res.Unit).To(Equal(bp.UnitNanoseconds))
				Expect(res.Iterations).To(Equal(req.Iterations))
				Expect(res.Total).To(BeNumerically(">=", uint64(res.Max)))
				Expect(res.Min).To(BeNumerically("<=", res.Max))
			}
		})

		It("reports the profile's cost on a slow chip", func() {
			r := newRig(virtual.Config{Costs: map[string]time.Duration{"x25519": 30 * time.Millisecond}})
			res, err := r.b.Bench(ctx(), bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveX25519), Iterations: 2})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Min).To(BeNumerically(">=", uint32(30*time.Millisecond)))
		})

		It("refuses an unknown curve with a typed error", func() {
			r := newRig(virtual.Config{})
			_, err := r.b.Bench(ctx(), bp.BenchRequest{Op: bp.BenchScalarMult, Param: 9, Iterations: 1})
			Expect(reasonOf(err)).To(Equal(bp.StatusUnsupported.Reason()))
			Expect(isTyped(err)).To(BeTrue())
		})
	})

	Describe("console and resynchronisation", func() {
		noise := append([]byte{0xe0, 0x00, 0x8c, 0xfe, 0x12, 0x00, 0x80, 0x01, 0x00, 0x00}, bytes.Repeat([]byte{0x05, 0x01, 0xff}, 40)...)
		banner := "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nload 0x4010f000, len 3460, room 16\r\n"

		It("captures a boot banner and line noise and still talks", func() {
			r := newRig(virtual.Config{Faults: virtual.Faults{Noise: noise, Banner: banner}})
			Eventually(r.console).Should(gbytes.Say(`rst cause:2`))
			_, err := r.b.Info(ctx())
			Expect(err).NotTo(HaveOccurred())

			boot, err := r.b.Reset(ctx(), bp.ResetSoft)
			Expect(err).NotTo(HaveOccurred())
			Expect(boot.Reason).To(Equal(bp.BootSoft))
			Expect(boot.BootCount).To(BeEquivalentTo(2))
			Eventually(r.console).Should(gbytes.Say(`rst cause:2`))
			_, err = r.b.Info(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(r.b.Stats().BadFrames).To(BeNumerically(">=", 1))
			Expect(r.b.Console()).To(ContainSubstring("load 0x4010f000"))
		})

		It("retransmits a command whose response was damaged", func() {
			r := newRig(virtual.Config{})
			r.vb.SetFaults(virtual.Faults{DropResponses: 1})
			_, err := r.b.Info(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(r.b.Stats().Retransmits).To(BeEquivalentTo(1))

			// A mutation is not run twice: the board answers the
			// retransmission from memory.
			f := noiseFixture("dev-drop")
			r.vb.SetFaults(virtual.Faults{DropResponses: 1})
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			Expect(r.b.Stats().Retransmits).To(BeEquivalentTo(2))
		})

		It("gives up with no_response when the board stays silent", func() {
			r := newRig(virtual.Config{})
			r.vb.SetFaults(virtual.Faults{DropResponses: 10})
			_, err := r.b.Info(ctx())
			Expect(reasonOf(err)).To(Equal(handshake.ReasonNoResponse))
			Expect(r.b.Stats().Retransmits).To(BeEquivalentTo(bp.Retries))
		})
	})

	Describe("a board that disappears", func() {
		It("is found again by its serial number under a new path", func() {
			r := newRig(virtual.Config{})
			old := r.vb.Path()
			_, gen := r.b.LastBoot()
			path, err := r.vb.Replug()
			Expect(err).NotTo(HaveOccurred())
			Expect(path).NotTo(Equal(old))
			r.enum.Put(harness.PortInfo{Name: path, SerialNumber: r.vb.Serial()})

			boot, err := r.b.WaitBoot(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(boot.Reason).To(Equal(bp.BootExternal))
			_, now := r.b.LastBoot()
			Expect(now).To(Equal(gen + 1))
			in, err := r.b.Info(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(in.Serial).To(Equal(r.vb.Serial()))
			Expect(r.b.PortName()).To(Equal(path))
			Expect(r.b.Stats().Reconnects).To(BeEquivalentTo(1))
		})

		It("fails with link_lost when it does not come back", func() {
			r := newRig(virtual.Config{})
			r.enum.Remove(r.vb.Serial())
			_, err := r.vb.Replug()
			Expect(err).NotTo(HaveOccurred())
			_, err = r.b.Info(ctx())
			Expect(reasonOf(err)).To(Equal(handshake.ReasonLinkLost))
			Expect(isTyped(err)).To(BeTrue())
			Expect(reasonOf(r.b.Err())).To(Equal(handshake.ReasonLinkLost), "the link says why it stopped")
		})
	})

	Describe("reset through modem lines", func() {
		It("reports a pseudo-terminal's missing modem lines as reset not available", func() {
			vb, err := virtual.Start(virtual.Config{Serial: "VB-MODEM"})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(vb.Close)
			opts := testOptions(nil)
			opts.Reset = harness.ResetDTR
			b, err := harness.Open(ctx(), vb.Path(), opts)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(b.Close)
			done, err := b.HardReset(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(done).To(BeFalse())
			_, err = b.Info(ctx())
			Expect(err).NotTo(HaveOccurred())
		})

		It("fails when the profile requires a hardware reset", func() {
			vb, err := virtual.Start(virtual.Config{Serial: "VB-MODEM2"})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(vb.Close)
			opts := testOptions(nil)
			opts.Reset, opts.ResetRequired = harness.ResetESP, true
			b, err := harness.Open(ctx(), vb.Path(), opts)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(b.Close)
			_, err = b.HardReset(ctx())
			Expect(reasonOf(err)).To(Equal(handshake.ReasonResetUnavailable))
			Expect(err).To(MatchError(harness.ErrNoModemLines))
		})
	})
})

var _ = Describe("the link goroutine", Label("board"), func() {
	It("takes commands from many goroutines in turn while a session runs", func() {
		r, s, _ := pskSession("vb-many")
		DeferCleanup(s.Close)

		const workers, each = 4, 10
		errs := make(chan error, workers*each)
		var wg sync.WaitGroup
		c := ctx()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					_, err := r.b.Counters(c)
					errs <- err
				}
			}()
		}
		for i := range 5 {
			exchange(s, fmt.Sprintf("message %d", i))
		}
		wg.Wait()
		close(errs)
		n := 0
		for err := range errs {
			Expect(err).NotTo(HaveOccurred())
			n++
		}
		Expect(n).To(Equal(workers * each))
		Expect(r.b.Stats().FramesTx).To(BeNumerically(">=", workers*each+5))
	})

	It("drops a command whose context ends and goes on with the next", func() {
		r := newRig(virtual.Config{})
		r.vb.SetFaults(virtual.Faults{DropResponses: 1})
		c, cancel := context.WithCancel(ctx())
		res := make(chan error, 1)
		go func() {
			_, err := r.b.Info(c)
			res <- err
		}()
		Consistently(res, "30ms").ShouldNot(Receive())
		cancel()
		var err error
		Eventually(res).Should(Receive(&err))
		Expect(err).To(MatchError(context.Canceled))
		Expect(reasonOf(err)).To(Equal(handshake.ReasonIO))
		_, err = r.b.Info(ctx())
		Expect(err).NotTo(HaveOccurred())
	})

	It("stops with Close, which unblocks a waiting command and says why it stopped", func() {
		r := newRig(virtual.Config{})
		Expect(r.b.Err()).To(Succeed())
		r.vb.SetFaults(virtual.Faults{DropResponses: 10})
		res := make(chan error, 1)
		c := ctx()
		go func() {
			_, err := r.b.Info(c)
			res <- err
		}()
		Consistently(res, "30ms").ShouldNot(Receive())
		Expect(r.b.Close()).To(Succeed())
		var err error
		Eventually(res).Should(Receive(&err))
		Expect(isTyped(err)).To(BeTrue())
		Expect(err).To(MatchError(ContainSubstring("board closed")))
		Expect(r.b.Err()).To(MatchError(ContainSubstring("board closed")))
		Expect(r.b.Close()).To(Succeed(), "a second Close")
		_, err = r.b.Info(ctx())
		Expect(err).To(MatchError(ContainSubstring("board closed")))
	})

	It("ends a session's pending Receive when the board is closed", func() {
		r, s, _ := pskSession("vb-closed")
		res := make(chan error, 1)
		c := ctx()
		go func() {
			_, err := s.Receive(c)
			res <- err
		}()
		Consistently(res, "30ms").ShouldNot(Receive())
		Expect(r.b.Close()).To(Succeed())
		Eventually(res).Should(Receive(MatchError(io.EOF)))
		Expect(s.Done()).To(BeClosed())
		Expect(s.Close()).To(Succeed())
		Expect(s.Send(ctx(), []byte("late"))).To(MatchError(ContainSubstring("board closed")))
	})

	It("refuses a second handshake while a session is open, and takes one after it", func() {
		r, s, addr := pskSession("vb-busy")
		_, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: addr})
		Expect(reasonOf(err)).To(Equal(bp.StatusBusy.Reason()))
		exchange(s, "the first session is intact")
		Expect(s.Close()).To(Succeed())
		s, err = r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: addr})
		Expect(err).NotTo(HaveOccurred())
		exchange(s, "the second")
		Expect(s.Close()).To(Succeed())
	})
})

var _ = Describe("a relay's credit", func() {
	It("holds the server's bytes until the board grants credit; a write deadline ends the wait", func() {
		relayed := make(chan string, 4)
		port, boardEnd := serialtest.NewPort()
		agent := startFakeAgent(boardEnd, func(a *fakeAgent, cmd bp.Frame) {
			if cmd.Type == bp.CmdRelayData {
				relayed <- string(cmd.Payload)
			}
			a.respond(cmd, nil) // HANDSHAKE, RELAY_DATA, RELAY_CLOSE, CLOSE
			if cmd.Type == bp.CmdClose {
				a.event(bp.EvtClosed, bp.AppendReason(nil, ""))
			}
		})
		opts := testOptions(nil)
		opts.Opener = func(string, *serial.Mode) (serial.Port, error) { return port, nil }
		b, err := harness.Open(ctx(), "fake", opts)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		ln, err := net.Listen("tcp", "127.0.0.1:0") // the kernel accepts; the tap never uses the server
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)

		writes := make(chan error, 2)
		granted := make(chan struct{})
		grant := sync.OnceFunc(func() { close(granted) })
		DeferCleanup(grant)
		tap := harness.TapFunc(func(c context.Context, board, server net.Conn) error {
			defer server.Close()
			defer board.Close()
			board.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := board.Write([]byte("msg2"))
			writes <- err
			select {
			case <-granted:
			case <-c.Done():
				return c.Err()
			}
			board.SetWriteDeadline(time.Time{})
			_, err = board.Write([]byte("msg2"))
			writes <- err
			_, err = io.Copy(io.Discard, board) // until the relay ends
			return err
		})
		type outcome struct {
			s   *harness.Session
			err error
		}
		hs := make(chan outcome, 1)
		c := ctx()
		go func() {
			s, err := b.Handshake(c, harness.HandshakeOptions{Profile: handshake.Noise, Server: ln.Addr().String(), Tap: tap})
			hs <- outcome{s, err}
		}()

		Eventually(writes).Should(Receive(MatchError(os.ErrDeadlineExceeded)), "no credit yet: the deadline ends the write")
		agent.event(bp.EvtRelayCredit, bp.Credit(3).Append(nil))
		grant()
		Eventually(relayed).Should(Receive(Equal("msg")), "as much as the credit allows")
		Consistently(writes, "30ms").ShouldNot(Receive())
		agent.event(bp.EvtRelayCredit, bp.Credit(8).Append(nil))
		Eventually(relayed).Should(Receive(Equal("2")))
		Eventually(writes).Should(Receive(BeNil()))

		agent.event(bp.EvtHandshakeDone, bp.HandshakeDone{Profile: handshake.Noise, Unit: bp.UnitNanoseconds}.Append(nil))
		var out outcome
		Eventually(hs).Should(Receive(&out))
		Expect(out.err).NotTo(HaveOccurred())
		Expect(out.s.Close()).To(Succeed())
		Expect(out.s.Done()).To(BeClosed())
		Expect(relayed).NotTo(Receive(), "the write that timed out sent nothing")
	})
})

// pskSession is a virtual board in a relay-mode psk session with an echo
// server at addr.
func pskSession(id string) (r *rig, s *harness.Session, addr string) {
	f := pskFixture(id)
	srv := startServer(f)
	r = newRig(virtual.Config{})
	Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
	s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: srv.addr})
	Expect(err).NotTo(HaveOccurred())
	return r, s, srv.addr
}
