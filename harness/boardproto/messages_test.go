package boardproto_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	bp "shakedown/harness/boardproto"
)

func u64p(v uint64) *uint64 { return &v }

var _ = Describe("payloads", func() {
	DescribeTable("round-trip",
		func(appendFn func([]byte) []byte, parse func([]byte) (any, error), want any) {
			p := appendFn(nil)
			got, err := parse(p)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("hello request", bp.HelloRequest{MinVersion: 1, MaxVersion: 1}.Append,
			func(p []byte) (any, error) { return bp.ParseHelloRequest(p) }, bp.HelloRequest{MinVersion: 1, MaxVersion: 1}),
		Entry("hello", bp.Hello{Version: 1, MaxPayload: 200, State: bp.StateSession, BootCount: 7}.Append,
			func(p []byte) (any, error) { return bp.ParseHello(p) }, bp.Hello{Version: 1, MaxPayload: 200, State: bp.StateSession, BootCount: 7}),
		Entry("info", infoExample.Append, func(p []byte) (any, error) { return bp.ParseInfo(p) }, infoExample),
		Entry("bench request", bp.BenchRequest{Op: bp.BenchAEADSeal, Param: 1, Size: 1024, Iterations: 9}.Append,
			func(p []byte) (any, error) { return bp.ParseBenchRequest(p) }, bp.BenchRequest{Op: bp.BenchAEADSeal, Param: 1, Size: 1024, Iterations: 9}),
		Entry("bench result", bp.BenchResult{Unit: bp.UnitCycles, Iterations: 2, Total: 30, Min: 10, Max: 20}.Append,
			func(p []byte) (any, error) { return bp.ParseBenchResult(p) }, bp.BenchResult{Unit: bp.UnitCycles, Iterations: 2, Total: 30, Min: 10, Max: 20}),
		Entry("handshake relay", relayReq.Append, func(p []byte) (any, error) { return bp.ParseHandshakeRequest(p) }, relayReq),
		Entry("handshake network", netReq.Append, func(p []byte) (any, error) { return bp.ParseHandshakeRequest(p) }, netReq),
		Entry("handshake done", doneExample.Append, func(p []byte) (any, error) { return bp.ParseHandshakeDone(p) }, doneExample),
		Entry("credit", bp.Credit(512).Append, func(p []byte) (any, error) { return bp.ParseCredit(p) }, bp.Credit(512)),
		Entry("boot", bp.Boot{Reason: bp.BootWatchdog, Version: 1, MaxPayload: 64, BootCount: 1}.Append,
			func(p []byte) (any, error) { return bp.ParseBoot(p) }, bp.Boot{Reason: bp.BootWatchdog, Version: 1, MaxPayload: 64, BootCount: 1}),
		Entry("counters", bp.Counters{{ID: bp.CounterBoots, Value: 3}, {ID: 0xEE, Value: 1 << 40}}.Append,
			func(p []byte) (any, error) { return bp.ParseCounters(p) }, bp.Counters{{ID: bp.CounterBoots, Value: 3}, {ID: 0xEE, Value: 1 << 40}}),
		Entry("log", bp.Log{First: 10, Next: 13, Text: []byte("abc")}.Append,
			func(p []byte) (any, error) { return bp.ParseLog(p) }, bp.Log{First: 10, Next: 13, Text: []byte("abc")}),
		Entry("log request", bp.LogRequest(77).Append, func(p []byte) (any, error) { return bp.ParseLogRequest(p) }, bp.LogRequest(77)),
	)

	DescribeTable("refuse bad input with a typed error",
		func(parse func([]byte) error, p []byte) {
			err := parse(p)
			Expect(err).To(HaveOccurred())
			var he *handshake.Error
			Expect(err).To(BeAssignableToTypeOf(he))
		},
		Entry("hello too short", func(p []byte) error { _, err := bp.ParseHello(p); return err }, []byte{1, 200}),
		Entry("hello max payload below 64", func(p []byte) error { _, err := bp.ParseHello(p); return err }, []byte{1, 10, 0, 0, 0, 0, 0}),
		Entry("info string not printable", func(p []byte) error { _, err := bp.ParseInfo(p); return err },
			append(infoExample.Append(nil)[:11], 2, 'a', 0x07, 0, 0, 0)),
		Entry("info string longer than its field", func(p []byte) error { _, err := bp.ParseInfo(p); return err },
			append(infoExample.Append(nil)[:11], 40)),
		Entry("info trailing bytes", func(p []byte) error { _, err := bp.ParseInfo(p); return err },
			append(infoExample.Append(nil), 1)),
		Entry("bench zero iterations", func(p []byte) error { _, err := bp.ParseBenchRequest(p); return err }, []byte{1, 1, 0, 0, 0}),
		Entry("bench min above max", func(p []byte) error { _, err := bp.ParseBenchResult(p); return err },
			bp.BenchResult{Unit: 1, Iterations: 1, Min: 2, Max: 1}.Append(nil)),
		Entry("handshake unknown profile", func(p []byte) error { _, err := bp.ParseHandshakeRequest(p); return err }, []byte{1, 9, 0, 0}),
		Entry("handshake unknown mode", func(p []byte) error { _, err := bp.ParseHandshakeRequest(p); return err }, []byte{3, 1, 0, 0}),
		Entry("handshake network without host", func(p []byte) error { _, err := bp.ParseHandshakeRequest(p); return err }, []byte{2, 1, 0, 0, 0x22, 0xB5, 0}),
		Entry("done unknown reason", func(p []byte) error { _, err := bp.ParseHandshakeDone(p); return err },
			append([]byte{0xF0, 0, 1, 1}, make([]byte, 28)...)),
		Entry("counters ragged", func(p []byte) error { _, err := bp.ParseCounters(p); return err }, []byte{1, 2, 3}),
		Entry("log length disagrees", func(p []byte) error { _, err := bp.ParseLog(p); return err }, []byte{0, 0, 0, 0, 0, 0, 0, 5, 'a'}),
		Entry("reset kind", func(p []byte) error { _, err := bp.ParseResetKind(p); return err }, []byte{7}),
		Entry("reason code", func(p []byte) error { _, err := bp.ParseReason(p); return err }, []byte{0xF0}),
	)

	It("maps statuses to typed errors with stable reasons", func() {
		Expect(bp.StatusOK.Err()).To(Succeed())
		err := bp.StatusBusy.Err()
		Expect(handshake.ReasonOf(err)).To(Equal(handshake.Reason("board_busy")))
		Expect(err).To(MatchError(bp.StatusBusy))
		Expect(bp.Status(0x77).String()).To(Equal("status_0x77"))
	})

	It("keeps the reason of every wire code and status (docs/board-protocol.md §6.1, §6.2)", func() {
		wire := []string{"", "io", "timeout", "short_frame", "oversize_frame", "malformed", "decrypt_failed",
			"bad_point", "unknown_server", "cert_rejected", "internal", "board_reset", "time_unavailable", "time_rejected"}
		for c, want := range wire {
			r, ok := bp.ReasonOfCode(byte(c))
			Expect(ok).To(BeTrue())
			Expect(string(r)).To(Equal(want), "wire code %d", c)
		}
		_, ok := bp.ReasonOfCode(byte(len(wire)))
		Expect(ok).To(BeFalse(), "a code past the table")
		statuses := []string{"", "board_unknown_command", "board_bad_length", "board_bad_value", "board_unsupported",
			"board_busy", "board_not_provisioned", "board_no_session", "board_storage", "board_unsupported_version",
			"board_no_credit", "board_too_large", "board_internal", "board_status_0x0D"}
		for c, want := range statuses {
			Expect(string(bp.Status(c).Reason())).To(Equal(want), "status 0x%02X", c)
			if c > 0 && c < len(statuses)-1 {
				Expect(string(bp.Status(c).Reason())).To(Equal("board_"+bp.Status(c).String()), "the rule of §6.1")
			}
		}
	})

	It("maps every wire reason both ways", func() {
		for c := byte(0); c < 12; c++ {
			r, ok := bp.ReasonOfCode(c)
			Expect(ok).To(BeTrue())
			if r != "" {
				Expect(bp.ReasonCode(r)).To(Equal(c))
			}
		}
		Expect(bp.ReasonCode(handshake.ReasonRegistry)).To(Equal(bp.ReasonCode(handshake.ReasonInternal)))
	})

	Describe("PROVISION", func() {
		full := bp.Provision{Erase: true, Profile: handshake.Noise, DeviceID: "dev-0001",
			DeviceKey: run(1, 32), ServerKey: run(0x41, 32), ServerKeyNext: run(0x61, 32),
			Counter: u64p(41), NoisePattern: bp.NoiseIK, RNGSeed: run(0x81, bp.RNGSeedLen)}

		It("splits fields over payloads of the board's size and reassembles them", func() {
			for _, max := range []int{64, 128, 255} {
				payloads, err := full.Payloads(max)
				Expect(err).NotTo(HaveOccurred())
				var got bp.Provision
				for _, p := range payloads {
					Expect(len(p)).To(BeNumerically("<=", max))
					var tag byte
					got, tag, err = bp.ParseProvision(p, got)
					Expect(err).NotTo(HaveOccurred())
					Expect(tag).To(BeZero())
				}
				Expect(got).To(Equal(full))
			}
		})
		DescribeTable("names the refused field",
			func(p []byte, wantTag byte) {
				before := bp.Provision{DeviceID: "keep"}
				got, tag, err := bp.ParseProvision(p, before)
				Expect(err).To(HaveOccurred())
				Expect(tag).To(Equal(wantTag))
				Expect(got).To(Equal(before))
			},
			Entry("short key", []byte{bp.TagDeviceKey, 3, 1, 2, 3}, byte(bp.TagDeviceKey)),
			Entry("bad device id", []byte{bp.TagDeviceID, 3, 'a', ' ', 'b'}, byte(bp.TagDeviceID)),
			Entry("unknown tag after a good one", []byte{bp.TagDeviceID, 1, 'x', 0x55, 0}, byte(0x55)),
			Entry("truncated field", []byte{bp.TagDeviceID, 9, 'x'}, byte(0)),
			Entry("short random seed", append([]byte{bp.TagRNGSeed, bp.RNGSeedLen - 1}, run(1, bp.RNGSeedLen-1)...), byte(bp.TagRNGSeed)),
		)
		It("makes a fresh random seed each time", func() {
			a, err := bp.NewRNGSeed()
			Expect(err).NotTo(HaveOccurred())
			b, err := bp.NewRNGSeed()
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(HaveLen(bp.RNGSeedLen))
			Expect(a).NotTo(Equal(b))
		})
		It("names the tls modes as package tlsprofile does and the patterns as package noise does", func() {
			codes := map[byte]bool{}
			for _, m := range tlsprofile.Modes {
				v, ok := bp.ParseTLSVerify(string(m))
				Expect(ok).To(BeTrue(), string(m))
				Expect(v.String()).To(Equal(string(m)))
				codes[byte(v)] = true
			}
			for _, p := range []noise.Pattern{noise.IK, noise.XK, noise.KK} {
				v, ok := bp.ParseNoisePattern(string(p))
				Expect(ok).To(BeTrue(), string(p))
				Expect(v.String()).To(Equal(string(p)))
			}
			Expect(codes).To(HaveLen(len(tlsprofile.Modes)))
			Expect(codes).NotTo(HaveKey(byte(0)))
			for _, s := range []string{"", "CA", "ik", "trust-me"} {
				_, ok := bp.ParseTLSVerify(s)
				Expect(ok).To(BeFalse(), s)
				_, ok = bp.ParseNoisePattern(s)
				Expect(ok).To(BeFalse(), s)
			}
			Expect(bp.TLSVerify(0).String()).To(Equal("tlsverify_0x00"))
			Expect(bp.NoisePattern(0x2A).String()).To(Equal("pattern_0x2A"))
		})
	})
})

var (
	infoExample = bp.Info{Version: 1, MaxPayload: 128, Caps: bp.CapRelay | bp.CapStorage, ClockHz: 16_000_000,
		Unit: bp.UnitCycles, Profiles: []handshake.Name{handshake.Noise, handshake.Seed, handshake.PSK},
		Curves: []bp.Curve{bp.CurveX25519, bp.CurveP256, bp.CurveSecp160r1},
		AEADs:  []bp.AEAD{bp.AEADChaCha20Poly1305, bp.AEADAES128GCM},
		Board:  "Arduino Uno", Chip: "ATmega328P", Firmware: "agent 0.1.0", Serial: "85735313233351D0E1A1"}
	relayReq    = bp.HandshakeRequest{Mode: bp.ModeRelay, Profile: handshake.Noise, Timeout: 5 * time.Second}
	netReq      = bp.HandshakeRequest{Mode: bp.ModeNetwork, Profile: handshake.PSK, Timeout: time.Second, Host: "gw.example.net", Port: 8887}
	doneExample = bp.HandshakeDone{Reason: handshake.ReasonDecrypt, Stage: handshake.StageMsg2, Profile: handshake.Noise,
		Unit: bp.UnitCycles, Counter: 43, Total: 100, Crypto: 90, Sent: 106, Received: 115}
)
