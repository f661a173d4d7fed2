package suites

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gmeasure"

	"shakedown/handshake"
	"shakedown/simulator"
)

// describeFleet: a simulated fleet from a scenario file. Every legitimate
// device connects and every message it publishes is acknowledged and, when
// an end-to-end subscriber runs, received; the scenario's thresholds hold. A scenario that names no
// gateway runs against the reference server in process, with the suite's
// fixture set.
func describeFleet() {
	Describe("fleet", Label("fleet", "throughput"), func() {
		BeforeEach(func() {
			if cur.kind != KindFleet {
				Skip("a fleet spec; the target is a board")
			}
		})

		// The spec takes ginkgo's context so that, interrupted, ginkgo waits
		// for the fleet to stop and keep its results.
		It("connects every device and delivers every message", func(sctx SpecContext) {
			sc, err := simulator.ReadScenario(cur.cfg.Fleet)
			must(err, "reading the scenario")
			run := simulator.Config{Scenario: sc, Progress: GinkgoWriter}
			if sc.Target == simulator.TargetGateway && len(sc.Gateway) == 0 {
				run.Scenario.Gateway = map[string]string{}
				for _, p := range []handshake.Name{handshake.Noise, handshake.Seed, handshake.PSK, handshake.TLS} {
					addr, err := cur.srv.AddrOf(p)
					must(err, "finding the %s listener", p)
					run.Scenario.Gateway[string(p)] = addr
				}
				run.Scenario.Fixtures = simulator.Fixtures{Seed: FixtureSeed, DevicesPerProfile: fixtureDevices}
				if cur.cfg.Fixtures != "" {
					run.Scenario.Fixtures = simulator.Fixtures{Dir: cur.cfg.Fixtures}
				}
				run.Set = cur.set
			}
			inflight.Add(1)
			defer inflight.Add(-1)
			ctx, cancel := specContext(sctx, cur.cfg.Timeout)
			defer cancel()
			res, err := simulator.Run(ctx, run)
			if res != nil {
				cur.mu.Lock()
				cur.sim = res
				cur.mu.Unlock()
			}
			must(err, "running the fleet")

			c := res.Counts
			Expect(c.Connected).To(Equal(c.Legit), "devices connected of %d; failures: %v", c.Legit, res.Failures)
			Expect(c.ConnectFailed).To(BeZero(), "failures: %v", res.Failures)
			Expect(c.PublishFailed).To(BeZero(), "failures: %v", res.Failures)
			Expect(c.Unpublished).To(BeZero(), "messages never published")
			Expect(c.Missing).To(BeZero(), "messages the end-to-end subscriber never received")
			vs, err := simulator.Evaluate(res)
			Expect(err).NotTo(HaveOccurred())
			var failed []string
			for _, v := range simulator.Failed(vs) {
				failed = append(failed, v.String())
			}
			Expect(failed).To(BeEmpty(), "thresholds of the scenario (and the defaults it keeps)")

			exp := gmeasure.NewExperiment(fmt.Sprintf("fleet of %d devices", c.Slots))
			AddReportEntry(exp.Name, exp, ReportEntryVisibilityFailureOrVerbose)
			r := res.Rates()
			exp.RecordValue("connects per second", r.ConnectsPerSecond, gmeasure.Units("1/s"), gmeasure.Precision(1))
			exp.RecordValue("handshakes per second", r.HandshakesPerSecond, gmeasure.Units("1/s"), gmeasure.Precision(1))
			exp.RecordValue("publishes per second", r.PublishesPerSecond, gmeasure.Units("1/s"), gmeasure.Precision(1))
			for stage, h := range res.Histograms {
				exp.RecordDuration(string(stage)+" p99", h.Quantile(0.99))
			}
		})
	})
}
