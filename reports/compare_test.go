package reports_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

var _ = Describe("Compare", func() {
	var base *reports.Run
	BeforeEach(func() { base = sampleRun() })

	It("finds no regression in a run against itself", func() {
		c := reports.Compare(base, clone(base), reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeFalse())
		Expect(c.Deltas).NotTo(BeEmpty())
		for _, d := range c.Deltas {
			Expect(d.Status).To(Equal(reports.StatusOK), d.Key)
		}
	})

	It("finds no regression in a run with several handshakes per profile against itself", func() {
		// shakedown test --runs 3: the first handshake of an emulated chip
		// computes its static public key too; wall-clock samples spread.
		run := withRuns(base)
		c := reports.Compare(run, clone(run), reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeFalse())
		keys := map[string]int{}
		for _, d := range c.Deltas {
			Expect(d.Status).To(Equal(reports.StatusOK), d.Key)
			keys[d.Key]++
		}
		for k, n := range keys {
			Expect(n).To(Equal(1), "figure %s compared %d times", k, n)
		}
		Expect(keys).To(HaveKey("board/virtual/handshake/noise/total"))
		Expect(keys).To(HaveKey("board/cortex-m3/handshake/noise/crypto"))
	})

	It("fails a run in which an emulated chip's cycle count grew by one cycle", func() {
		run := clone(base)
		bench(run, "atmega328p", "x25519").Mean++
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeTrue())
		reg := c.Regressions()
		Expect(reg).To(HaveLen(1))
		Expect(reg[0].Key).To(Equal("board/atmega328p/bench/x25519"))
		Expect(reg[0].Exact).To(BeTrue())
		Expect(reg[0].AllowedPercent).To(BeZero())
	})

	It("calls a smaller cycle count an improvement", func() {
		run := clone(base)
		bench(run, "cortex-m3", "ecdh_p256").Mean -= 40
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeFalse())
		var statuses []string
		for _, d := range c.Deltas {
			if d.Key == "board/cortex-m3/bench/ecdh_p256" {
				statuses = append(statuses, d.Status)
			}
		}
		Expect(statuses).To(Equal([]string{reports.StatusImproved}))
	})

	DescribeTable("holds wall-clock figures to the stated percentage",
		func(factor float64, regressed bool) {
			run := clone(base)
			bench(run, "virtual", "x25519").Mean *= factor
			c := reports.Compare(base, run, reports.Tolerances{Exact: 0, WallPercent: 25})
			Expect(c.Regressed()).To(Equal(regressed))
		},
		Entry("20 % slower is within 25 %", 1.20, false),
		Entry("30 % slower is beyond 25 %", 1.30, true),
		Entry("half the time is an improvement", 0.5, false),
	)

	It("compares wall-clock figures by their medians: one slow sample of three is not a regression", func() {
		base := withRuns(base)
		run := clone(base)
		handshakes(run, "virtual", "noise")[0].Total *= 3 // the slowest sample, slower still
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeFalse())
		d := delta(c, "board/virtual/handshake/noise/total")
		Expect(d.Statistic).To(Equal(reports.StatMedian))
		Expect(d.Status).To(Equal(reports.StatusOK))
		Expect(d.Samples).To(HaveLen(3))
		Expect(d.BaselineSamples).To(HaveLen(3))

		for i := range handshakes(run, "virtual", "noise") {
			handshakes(run, "virtual", "noise")[i].Total = handshakes(base, "virtual", "noise")[i].Total * 13 / 10
		}
		c = reports.Compare(base, run, reports.DefaultTolerances())
		Expect(delta(c, "board/virtual/handshake/noise/total").Status).To(Equal(reports.StatusRegressed))
	})

	It("calls a wall-clock figure that moved the right way within the tolerance ok, not improved", func() {
		run := clone(base)
		bench(run, "virtual", "x25519").Mean *= 0.9
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(delta(c, "board/virtual/bench/x25519").Status).To(Equal(reports.StatusOK))
	})

	It("holds both ends of an exact figure's samples: the dearer first handshake may not grow either", func() {
		base := withRuns(base)
		run := clone(base)
		handshakes(run, "cortex-m3", "noise")[0].Crypto++
		c := reports.Compare(base, run, reports.DefaultTolerances())
		reg := c.Regressions()
		Expect(reg).To(HaveLen(1))
		Expect(reg[0].Key).To(Equal("board/cortex-m3/handshake/noise/crypto"))
		Expect(reg[0].Statistic).To(Equal(reports.StatWorst))
		Expect(reg[0].Value - reg[0].Baseline).To(Equal(1.0))
	})

	It("compares an emulated chip's handshake total, which moves with the UART, with the wall-clock tolerance", func() {
		base := withRuns(base)
		run := clone(base)
		for i := range handshakes(run, "cortex-m3", "noise") {
			handshakes(run, "cortex-m3", "noise")[i].Total += 3_000
		}
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeFalse())
		Expect(delta(c, "board/cortex-m3/handshake/noise/total").Exact).To(BeFalse())
		Expect(delta(c, "board/cortex-m3/handshake/noise/crypto").Exact).To(BeTrue())
	})

	It("fails a run in which a handshake that succeeded in the baseline failed", func() {
		base := withRuns(base)
		run := clone(base)
		h := &handshakes(run, "virtual", "noise")[2]
		h.OK, h.Reason = false, "decrypt_failed"
		c := reports.Compare(base, run, reports.DefaultTolerances())
		reg := c.Regressions()
		Expect(reg).To(HaveLen(1))
		Expect(reg[0].Key).To(Equal("board/virtual/handshake/noise/failed"))
		Expect(reg[0].Value).To(Equal(1.0))
	})

	It("fails a run in which a MITM cell is no longer as expected", func() {
		run := clone(base)
		run.MITM.Verdicts[0].AsExpected = false
		run.MITM.Verdicts[0].Outcome = reports.Broken
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(c.Regressions()).To(HaveLen(1))
		Expect(c.Regressions()[0].Key).To(HavePrefix("mitm/"))
	})

	It("fails a run whose publish rate fell beyond the tolerance", func() {
		run := clone(base)
		for i := range run.Sim.Shards {
			sh := &run.Sim.Shards[i]
			sh.LastAck = sh.FirstPublish.Add(2 * sh.LastAck.Sub(sh.FirstPublish))
		}
		c := reports.Compare(base, run, reports.DefaultTolerances())
		var keys []string
		for _, d := range c.Regressions() {
			keys = append(keys, d.Key)
		}
		Expect(keys).To(ContainElement("sim/rate/publishes"))
	})

	It("reports figures that went missing or are new, without failing", func() {
		run := clone(base)
		run.Boards.Boards = run.Boards.Boards[:1]
		c := reports.Compare(base, run, reports.DefaultTolerances())
		Expect(c.Regressed()).To(BeFalse())
		n := 0
		for _, d := range c.Deltas {
			if d.Status == reports.StatusMissing {
				n++
			}
		}
		Expect(n).To(BeNumerically(">", 0))
		c = reports.Compare(run, base, reports.DefaultTolerances())
		Expect(c.Deltas).To(ContainElement(HaveField("Status", reports.StatusNew)))
	})
})

// delta returns the comparison's delta of key.
func delta(c *reports.Comparison, key string) reports.Delta {
	for _, d := range c.Deltas {
		if d.Key == key {
			return d
		}
	}
	Fail("no delta " + key)
	return reports.Delta{}
}
