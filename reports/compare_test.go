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
