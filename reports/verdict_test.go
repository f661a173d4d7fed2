package reports_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

// The verdict of a run that did not run to its end is never "as
// expected": a CI job summary that says ✅ after Ctrl-C is a false pass.
var _ = Describe("the verdict of an incomplete run", func() {
	DescribeTable("needs attention",
		func(edit func(*reports.Run), line string) {
			run := &reports.Run{Title: "shakedown test"}
			edit(run)
			sum := reports.Summarise(run)
			Expect(sum.OK).To(BeFalse())
			var buf bytes.Buffer
			Expect(reports.WriteMarkdown(&buf, run)).To(Succeed())
			Expect(buf.String()).To(ContainSubstring("**Verdict: ❌ needs attention**"))
			Expect(buf.String()).To(ContainSubstring(line))
		},
		Entry("interrupted, with results so far", func(r *reports.Run) {
			r.Interrupted = true
			r.Boards = &reports.Boards{Format: reports.BoardsFormat, Boards: []reports.Board{{Name: "virtual board"}}}
		}, "**Run**: interrupted before its end"),
		Entry("interrupted before any result", func(r *reports.Run) { r.Interrupted = true }, "**Run**: interrupted before its end"),
		Entry("stopped by its set-up", func(r *reports.Run) { r.SetupError = "boards: no serial port /dev/ttyNOPE" },
			"**Set-up**: the run did not start: boards: no serial port /dev/ttyNOPE"),
		Entry("with no results at all", func(*reports.Run) {}, "**Run**: no results: nothing was measured"),
	)

	It("is as expected for a complete run whose checks passed", func() {
		Expect(reports.Summarise(sampleRun()).OK).To(BeTrue())
	})
})
