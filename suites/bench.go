package suites

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gmeasure"

	"shakedown/boards/measure"
	bp "shakedown/harness/boardproto"
	"shakedown/reports"
)

// benchSizes are the message sizes of the AEAD and SHA-256 benchmarks.
var benchSizes = []int{64}

// describeBench: the board times its scalar multiplications (the ECDH of
// each curve it has), its AEADs and SHA-256 itself, in its own unit. On an
// emulated chip the counts are exact, so a second run must repeat them.
func describeBench() {
	Describe("ecdh-bench", Label("ecdh-bench", "bench"), func() {
		BeforeEach(needBoard)

		It("times every curve, AEAD and hash the board lists", func(_ SpecContext) {
			plan, err := measure.BenchPlan(cur.b.Info, measure.BenchSpec{Sizes: benchSizes, Iterations: byte(cur.cfg.Iterations)})
			must(err, "planning the benchmarks")
			Expect(plan).NotTo(BeEmpty(), "the board lists nothing to time")
			exp := gmeasure.NewExperiment("bench on " + cur.b.Label)
			AddReportEntry(exp.Name, exp, ReportEntryVisibilityFailureOrVerbose)
			for _, it := range plan {
				res, err := cur.b.Bench(step(), it.Request)
				must(err, "timing %s", it.Label)
				Expect(int(res.Iterations)).To(Equal(cur.cfg.Iterations), it.Label)
				Expect(res.Min).To(BeNumerically(">", 0), it.Label)
				Expect(res.Min).To(BeNumerically("<=", res.Max), it.Label)
				rb := it.Report(res)
				if cur.b.Exact() && it.Request.Op == bp.BenchScalarMult {
					again, err := cur.b.Bench(step(), it.Request)
					must(err, "timing %s again", it.Label)
					Expect(again.Min).To(Equal(res.Min), "%s: an emulator counts exactly, so a second run must give the same count", it.Label)
				}
				exp.RecordValue(rb.Op, rb.Mean, gmeasure.Units(rb.Unit), gmeasure.Precision(1))
				record(func(r *reports.Board) { r.Bench = append(r.Bench, rb) })
			}
		})
	})
}
