package measure_test

import (
	"crypto/sha256"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	bp "shakedown/harness/boardproto"
	"shakedown/reports"
	"shakedown/suites/measure"
)

func TestMeasure(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "measure")
}

var set *fixtures.Set

var _ = BeforeSuite(func() {
	var err error
	set, err = fixtures.Build(fixtures.Options{Seed: "measure", DevicesPerProfile: 3})
	Expect(err).NotTo(HaveOccurred())
})

var _ = Describe("Provisioning", func() {
	It("gives a noise board its key and the server's static key", func() {
		d, err := measure.DeviceFor(set, handshake.Noise, "", 1)
		Expect(err).NotTo(HaveOccurred())
		p, err := measure.Provisioning(set, d)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Profile).To(Equal(handshake.Noise))
		Expect(p.DeviceID).To(Equal(d.ID))
		Expect(p.DeviceKey).To(Equal(d.Private))
		Expect(p.ServerKey).To(Equal(set.NoiseCurrent.Public))
	})

	DescribeTable("gives a seed board its curve",
		func(curve string, want bp.Curve) {
			d, err := measure.DeviceFor(set, handshake.Seed, curve, 1)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Curve).To(Equal(curve))
			p, err := measure.Provisioning(set, d)
			Expect(err).NotTo(HaveOccurred())
			Expect(p.Curve).To(Equal(want))
			Expect(p.DeviceKey).To(Equal(d.Private))
		},
		Entry("P-256", "p256", bp.CurveP256),
		Entry("secp160r1", "secp160r1", bp.CurveSecp160r1),
	)

	It("pins a tls board to the broker certificate's SPKI (RFC 7469 §2.4)", func() {
		d, err := measure.DeviceFor(set, handshake.TLS, "", 1)
		Expect(err).NotTo(HaveOccurred())
		p, err := measure.Provisioning(set, d)
		Expect(err).NotTo(HaveOccurred())
		spki := sha256.Sum256(set.Broker.Leaf.RawSubjectPublicKeyInfo)
		Expect(p.DeviceID).To(Equal(d.ID))
		Expect(p.DeviceKey).To(Equal(d.Private), "the seed of its client certificate's key")
		Expect(p.TLSVerify).To(Equal(bp.TLSVerifySPKI))
		Expect(p.TLSPin).To(Equal(spki[:]))
		Expect(p.ServerName).To(Equal(set.ServerName))
	})

	It("counts devices from the end and refuses one past the start", func() {
		all := set.DevicesOf(handshake.PSK)
		d, err := measure.DeviceFor(set, handshake.PSK, "", 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.ID).To(Equal(all[len(all)-1].ID))
		_, err = measure.DeviceFor(set, handshake.PSK, "", len(all)+1)
		Expect(err).To(MatchError(ContainSubstring("not %d", len(all)+1)))
		_, err = measure.DeviceFor(set, handshake.PSK, "", 0)
		Expect(err).To(HaveOccurred())
	})

	It("refuses a device of no known profile", func() {
		_, err := measure.Provisioning(set, fixtures.Device{ID: "x", Profile: "carrier-pigeon"})
		Expect(err).To(MatchError(ContainSubstring("unknown profile")))
	})
})

var _ = Describe("ProvisionOf", func() {
	provision := func(id string, o fixtures.ProvisionOptions) bp.Provision {
		GinkgoHelper()
		ident, err := fixtures.Provision(set, id, o)
		Expect(err).NotTo(HaveOccurred())
		p, err := measure.ProvisionOf(ident)
		Expect(err).NotTo(HaveOccurred())
		return p
	}

	It("carries the noise pattern and the pinned next server key, and leaves the counter and erase to the caller", func() {
		p := provision("noise-0001", fixtures.ProvisionOptions{NoisePattern: noise.KK, PinNext: true})
		Expect(p.NoisePattern).To(Equal(bp.NoiseKK))
		Expect(p.ServerKey).To(Equal(set.NoiseCurrent.Public))
		Expect(p.ServerKeyNext).To(Equal(set.NoiseNext.Public))
		Expect(p.Counter).To(BeNil())
		Expect(p.Erase).To(BeFalse())
		Expect(provision("noise-0001", fixtures.ProvisionOptions{}).NoisePattern).To(BeZero(), "the board's default, IK")
	})

	DescribeTable("carries each tls mode with its pin and the server name",
		func(mode tlsprofile.Mode, want bp.TLSVerify, pinned bool) {
			p := provision("tls-0001", fixtures.ProvisionOptions{TLSMode: mode, TLSPassword: true})
			Expect(p.TLSVerify).To(Equal(want))
			Expect(p.TLSPin).To(Equal(set.BrokerPin(mode)))
			Expect(p.TLSPin != nil).To(Equal(pinned))
			Expect(p.ServerName).To(Equal(set.ServerName))
			Expect(p.DeviceKey).To(BeNil(), "a board without a key logs in with its password")
		},
		Entry("none", tlsprofile.None, bp.TLSVerifyNone, false),
		Entry("fingerprint", tlsprofile.Fingerprint, bp.TLSVerifyFingerprint, true),
		Entry("spki", tlsprofile.SPKI, bp.TLSVerifySPKI, true),
		Entry("ca", tlsprofile.CA, bp.TLSVerifyCA, false),
		Entry("ca-noclock", tlsprofile.CANoClock, bp.TLSVerifyCANoClock, false),
	)

	It("refuses a device that skips point validation, which no board can be", func() {
		ident, err := fixtures.Provision(set, "seed-p256-0001", fixtures.ProvisionOptions{SkipPointCheck: true})
		Expect(err).NotTo(HaveOccurred())
		_, err = measure.ProvisionOf(ident)
		Expect(err).To(MatchError(ContainSubstring("skips point validation")))
	})
})

var _ = Describe("BenchPlan", func() {
	in := bp.Info{Curves: []bp.Curve{bp.CurveX25519, bp.CurveP256}, AEADs: []bp.AEAD{bp.AEADChaCha20Poly1305}}

	It("plans what the board lists: a scalar mult per curve, then seal, open and SHA-256 per size", func() {
		plan, err := measure.BenchPlan(in, measure.BenchSpec{Sizes: []int{64, 1024}, Iterations: 3})
		Expect(err).NotTo(HaveOccurred())
		var ops []string
		for _, it := range plan {
			ops = append(ops, it.Op())
			Expect(it.Request.Iterations).To(Equal(byte(3)))
		}
		Expect(ops).To(Equal([]string{"x25519", "ecdh_p256",
			"seal_chacha20poly1305", "open_chacha20poly1305", "sha256",
			"seal_chacha20poly1305", "open_chacha20poly1305", "sha256"}))
		Expect(plan[len(plan)-1].Request.Size).To(Equal(uint16(1024)))
	})

	It("takes named curves and AEADs instead", func() {
		plan, err := measure.BenchPlan(in, measure.BenchSpec{Curves: []string{"secp160r1"}, AEADs: []string{"aes128gcm"}, Iterations: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(plan).To(HaveLen(1))
		Expect(plan[0].Op()).To(Equal("ecdh_secp160r1"))
	})

	DescribeTable("refuses what it cannot plan",
		func(spec measure.BenchSpec, msg string) {
			_, err := measure.BenchPlan(in, spec)
			Expect(err).To(MatchError(ContainSubstring(msg)))
		},
		Entry("no iterations", measure.BenchSpec{}, "iterations"),
		Entry("an unknown curve", measure.BenchSpec{Curves: []string{"ed448"}, Iterations: 1}, "unknown curve"),
		Entry("an unknown AEAD", measure.BenchSpec{AEADs: []string{"rot13"}, Iterations: 1}, "unknown AEAD"),
		Entry("a size beyond 16 bits", measure.BenchSpec{Sizes: []int{70000}, Iterations: 1}, "outside"),
	)

	It("reports a result in the reports model", func() {
		it := measure.BenchItem{Request: bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveX25519), Iterations: 2}}
		rb := it.Report(bp.BenchResult{Iterations: 2, Unit: bp.UnitCycles, Min: 10, Max: 12, Total: 22})
		Expect(rb).To(Equal(reports.Bench{Op: "x25519", Iterations: 2, Mean: 11, Min: 10, Max: 12, Unit: "cycles"}))
	})
})

var _ = DescribeTable("AsDuration converts what a unit allows",
	func(v float64, u bp.Unit, hz uint32, want time.Duration, ok bool) {
		d, got := measure.AsDuration(v, u, hz)
		Expect(got).To(Equal(ok))
		Expect(d).To(Equal(want))
	},
	Entry("cycles at 16 MHz", 16e6, bp.UnitCycles, uint32(16_000_000), time.Second, true),
	Entry("cycles without a clock", 16e6, bp.UnitCycles, uint32(0), time.Duration(0), false),
	Entry("nanoseconds", 1500.0, bp.UnitNanoseconds, uint32(0), 1500*time.Nanosecond, true),
	Entry("microseconds", 3.0, bp.UnitMicroseconds, uint32(0), 3*time.Microsecond, true),
	Entry("instructions", 5e6, bp.UnitInstructions, uint32(25_000_000), time.Duration(0), false),
)

var _ = Describe("BoardDuration", func() {
	It("prefers the board's own time and falls back to the wall time", func() {
		Expect(measure.BoardDuration(reports.Handshake{BoardMS: 870, WallMS: 900})).To(Equal(870 * time.Millisecond))
		Expect(measure.BoardDuration(reports.Handshake{WallMS: 2.5})).To(Equal(2500 * time.Microsecond))
	})
})
