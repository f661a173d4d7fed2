package emulated_test

import (
	"errors"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/emulated"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// benchJob is one BENCH request and its name in the report.
type benchJob struct {
	name string
	req  bp.BenchRequest
}

// Scalar multiplications on all three curves and ChaCha20-Poly1305 on two
// sizes (per byte is the slope between them: the per-message cost drops
// out). P-256 runs once: 300 M cycles on the ATmega328P.
var benchJobs = []benchJob{
	{"x25519", bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveX25519), Iterations: 2}},
	{"p256", bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveP256), Iterations: 1}},
	{"secp160r1", bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveSecp160r1), Iterations: 2}},
	{"chacha20poly1305 seal 64 B", bp.BenchRequest{Op: bp.BenchAEADSeal, Param: byte(bp.AEADChaCha20Poly1305), Size: 64, Iterations: 3}},
	{"chacha20poly1305 seal 128 B", bp.BenchRequest{Op: bp.BenchAEADSeal, Param: byte(bp.AEADChaCha20Poly1305), Size: 128, Iterations: 3}},
}

// What INFO's chip string names, per chip.
var chipNames = map[string]string{"atmega328p": "ATmega328P", "cortex-m3": "Cortex-M3", "nrf51": "nRF51822", "rv32": "RV32IMAC", "stm32f4": "STM32F405"}

// The altered bytes of message 2: inside noise's encrypted payload, and
// the last byte of y of seed's point (P-256: 65 bytes).
const (
	noiseTamperAt = 2 + 40
	seedTamperAt  = 2 + 65 - 1
)

var _ = Describe("an emulated chip running the agent", Label("emulated"), func() {
	for i, chip := range emulated.Chips() {
		// One device of each profile per chip: the server keeps each
		// device's message-1 counter, and every chip starts its own at 0.
		noiseID := fmt.Sprintf("noise-%04d", i+1)
		seedID := fmt.Sprintf("seed-p256-%04d", i+1)

		Describe(chip, Ordered, func() {
			var (
				r     *rig
				bench = map[string]bp.BenchResult{}
			)

			BeforeAll(func() {
				requireEmulator(chip)
				r = startRig(chip)
			})

			It("introduces itself through the harness: HELLO and INFO", func() {
				h, err := r.h.Hello(ctx())
				Expect(err).NotTo(HaveOccurred())
				Expect(h.Version).To(BeEquivalentTo(bp.Version))
				Expect(int(h.MaxPayload)).To(Equal(r.profile.Agent.MaxPayload))
				Expect(h.State).To(Equal(bp.StateIdle))
				in, err := r.h.Info(ctx())
				Expect(err).NotTo(HaveOccurred())
				Expect(in.Caps & bp.CapRelay).NotTo(BeZero())
				Expect(in.ClockHz).To(Equal(r.profile.ClockHz))
				Expect(in.Unit).To(Equal(r.profile.Unit()))
				var profiles []string
				for _, p := range in.Profiles {
					profiles = append(profiles, string(p))
				}
				Expect(profiles).To(ConsistOf(r.profile.Agent.Profiles))
				Expect(in.Profiles).To(ContainElements(handshake.Noise, handshake.Seed))
				Expect(in.Curves).To(ConsistOf(bp.CurveX25519, bp.CurveP256, bp.CurveSecp160r1))
				Expect(in.AEADs).To(ContainElement(bp.AEADChaCha20Poly1305))
				Expect(in.Chip).To(ContainSubstring(chipNames[chip]))
				Expect(in.Firmware).To(HavePrefix("shakedown agent"))
				Expect(in.Serial).NotTo(BeEmpty())
				AddReportEntry(chip+" INFO", fmt.Sprintf("%s, %s, %s, serial %s, %d Hz, unit %s",
					in.Board, in.Chip, in.Firmware, in.Serial, in.ClockHz, in.Unit))
			})

			It("times its crypto with its own counter: the same count for every run of an operation", func() {
				var lines []string
				for _, j := range benchJobs {
					res, err := r.h.Bench(ctx(), j.req)
					Expect(err).NotTo(HaveOccurred(), j.name)
					Expect(res.Unit).To(Equal(r.profile.Unit()), j.name)
					Expect(res.Iterations).To(Equal(j.req.Iterations), j.name)
					Expect(res.Min).To(BeNumerically(">", 0), j.name)
					// Each iteration starts wherever the chip's timer
					// stands; the count must not depend on it.
					Expect(res.Max).To(Equal(res.Min), j.name)
					Expect(res.Total).To(Equal(uint64(res.Min)*uint64(j.req.Iterations)), j.name)
					bench[j.name] = res
					lines = append(lines, fmt.Sprintf("%s %d", j.name, res.Min))
				}
				// Once more, after other work has moved the timer on.
				again, err := r.h.Bench(ctx(), benchJobs[0].req)
				Expect(err).NotTo(HaveOccurred())
				Expect(again.Min).To(Equal(bench[benchJobs[0].name].Min))
				perByte := float64(bench[benchJobs[4].name].Min-bench[benchJobs[3].name].Min) / 64
				lines = append(lines, fmt.Sprintf("chacha20poly1305 per byte %.2f", perByte))
				AddReportEntry(chip+" BENCH ("+r.profile.Agent.Unit+")", strings.Join(lines, "; "))
			})

			It("relays a noise handshake to the server, then MQTT over the board's session", func() {
				d := lab.device(noiseID)
				r.provision(d)
				s, err := r.handshake(d, nil)
				Expect(err).NotTo(HaveOccurred())
				DeferCleanup(s.Close)
				Expect(s.Result.Reason).To(BeEmpty())
				Expect(s.Result.Profile).To(Equal(handshake.Noise))
				Expect(s.Result.Unit).To(Equal(r.profile.Unit()))
				Expect(s.Result.Counter).To(BeNumerically(">", 0))
				Expect(int(s.Result.Sent)).To(Equal(2 + noise.MsgLenIK1))
				Expect(int(s.Result.Received)).To(Equal(2 + noise.MsgLenIK2))
				Expect(s.Result.Crypto).To(BeNumerically(">", 0))
				Expect(s.Result.Total).To(BeNumerically(">=", s.Result.Crypto))
				reportHandshake(r, "noise, first (derives the static public key)", s.Result)

				c := connectOverBoard(s, d)
				exchange(c, "noise on "+chip)
				c.Disconnect(250)
				Eventually(s.Done()).Should(BeClosed())
				expectIdle(r)
			})

			It("relays a seed handshake on P-256 to the server, then MQTT over the board's session", func() {
				d := lab.device(seedID)
				r.provision(d)
				s, err := r.handshake(d, nil)
				Expect(err).NotTo(HaveOccurred())
				DeferCleanup(s.Close)
				Expect(s.Result.Reason).To(BeEmpty())
				Expect(s.Result.Profile).To(Equal(handshake.Seed))
				Expect(int(s.Result.Sent)).To(Equal(2 + 3 + len(d.ID)))
				Expect(int(s.Result.Received)).To(Equal(2 + 65))
				Expect(s.Result.Crypto).To(BeNumerically(">", 0))
				reportHandshake(r, "seed P-256", s.Result)

				c := connectOverBoard(s, d)
				exchange(c, "seed on "+chip)
				c.Disconnect(250)
				Eventually(s.Done()).Should(BeClosed())
				expectIdle(r)
			})

			It("refuses a message 2 altered on the way, with its own reason", func() {
				for _, tc := range []struct {
					id     string
					at     int
					reason handshake.Reason
				}{
					{noiseID, noiseTamperAt, handshake.ReasonDecrypt},
					{seedID, seedTamperAt, handshake.ReasonBadPoint},
				} {
					d := lab.device(tc.id)
					rec := newRecorder()
					rec.alter = flipAt(tc.at)
					_, err := r.handshake(d, rec.tap())
					var he *handshake.Error
					Expect(errors.As(err, &he)).To(BeTrue(), "%v", err)
					Expect(he.Profile).To(Equal(d.Profile))
					Expect(he.Stage).To(Equal(handshake.StageMsg2))
					Expect(he.Reason).To(Equal(tc.reason))
					// The verdict is the board's own HANDSHAKE_DONE.
					Expect(he.Err).To(MatchError(ContainSubstring("the board reported a failed handshake")))
					last, ok := r.counter(bp.CounterLastFailureReason)
					Expect(ok).To(BeTrue())
					Expect(byte(last)).To(Equal(bp.ReasonCode(tc.reason)))
					expectIdle(r)
				}
			})

			It("puts a fresh ephemeral key on the wire in each of ten noise handshakes, across a reboot", func() {
				d := lab.device(noiseID)
				seen := map[string]bool{}
				var last uint64
				var totals, cryptos []uint64
				for i := range 10 {
					if i == 5 {
						// The random generator's state is in RAM: a
						// reboot starts it from storage again.
						boot, err := r.h.Reset(ctx(), bp.ResetReboot)
						Expect(err).NotTo(HaveOccurred())
						Expect(boot.Reason).To(BeElementOf(bp.BootWatchdog, bp.BootSoft))
					}
					rec := newRecorder()
					s, err := r.handshake(d, rec.tap())
					Expect(err).NotTo(HaveOccurred())
					Expect(s.Close()).To(Succeed())
					Expect(s.Result.Counter).To(BeNumerically(">", last))
					last = s.Result.Counter
					msg1 := rec.bytes(harness.BoardToServer)
					Expect(len(msg1)).To(BeNumerically(">=", 2+noise.MsgLenIK1))
					e := string(msg1[2 : 2+noise.KeyLen]) // the ephemeral, in clear
					Expect(seen).NotTo(HaveKey(e), "handshake %d repeated an ephemeral", i+1)
					seen[e] = true
					totals = append(totals, s.Result.Total)
					cryptos = append(cryptos, s.Result.Crypto)
				}
				AddReportEntry(chip+" noise handshake, steady state ("+r.profile.Agent.Unit+")",
					fmt.Sprintf("total %d-%d, crypto %d-%d over 10 handshakes",
						minOf(totals), maxOf(totals), minOf(cryptos), maxOf(cryptos)))
			})

			It("counts the same on a board started afresh", func() {
				fresh := startRig(chip)
				for _, j := range []benchJob{benchJobs[0], benchJobs[2], benchJobs[3]} {
					res, err := fresh.h.Bench(ctx(), j.req)
					Expect(err).NotTo(HaveOccurred(), j.name)
					Expect(res.Min).To(Equal(bench[j.name].Min), j.name)
				}
			})

			AfterAll(func() {
				if r == nil {
					return
				}
				if free, ok := r.counter(bp.CounterStackFree); ok {
					AddReportEntry(chip+" least free stack since boot", fmt.Sprintf("%d B", free))
					Expect(free).To(BeNumerically(">", 0), "the stack reached static RAM")
				}
			})
		})
	}
})

// reportHandshake records a handshake's cost as the board counted it and
// its stack peak as the board logged it.
func reportHandshake(r *rig, what string, res bp.HandshakeDone) {
	peak := r.lastStackPeak()
	free, ok := r.counter(bp.CounterStackFree)
	Expect(ok).To(BeTrue(), "the agent reports stack_free")
	Expect(free).To(BeNumerically(">", 0), "the stack reached static RAM")
	AddReportEntry(r.chip+" "+what+" ("+r.profile.Agent.Unit+")",
		fmt.Sprintf("total %d, crypto %d, sent %d B, received %d B, stack peak %d B, least free %d B",
			res.Total, res.Crypto, res.Sent, res.Received, peak, free))
}

func expectIdle(r *rig) {
	GinkgoHelper()
	h, err := r.h.Hello(ctx())
	Expect(err).NotTo(HaveOccurred())
	Expect(h.State).To(Equal(bp.StateIdle))
}

func minOf(v []uint64) uint64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []uint64) uint64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
