package reports_test

import (
	"bytes"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

var _ = Describe("Writers", func() {
	It("write a Markdown summary with every section", func() {
		var buf bytes.Buffer
		Expect(reports.WriteMarkdown(&buf, sampleRun())).To(Succeed())
		md := buf.String()
		Expect(md).To(ContainSubstring("**Verdict: ✅ as expected**"))
		Expect(md).To(ContainSubstring("## MITM matrix"))
		Expect(md).To(MatchRegexp(`\| impersonate-server \| rejected \|`))
		Expect(md).To(ContainSubstring("| connect |"))
		Expect(md).To(ContainSubstring("Düll et al."))
	})

	It("say what needs attention", func() {
		run := sampleRun()
		run.MITM.Verdicts[0].AsExpected = false
		var buf bytes.Buffer
		Expect(reports.WriteMarkdown(&buf, run)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("needs attention"))
		Expect(buf.String()).To(ContainSubstring("(expected"))
	})

	It("list regressions in the comparison's Markdown", func() {
		base := sampleRun()
		run := clone(base)
		bench(run, "rv32", "x25519").Mean += 1
		var buf bytes.Buffer
		Expect(reports.WriteComparisonMarkdown(&buf, reports.Compare(base, run, reports.DefaultTolerances()))).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("1 regressions"))
		Expect(buf.String()).To(ContainSubstring("| board/rv32/bench/x25519 | worst of 1 / 1 | 4,555,224 | 4,555,225 | +2.2e-05 % | 0 % | regressed |"))
	})

	It("write an HTML page that loads nothing from outside", func() {
		if _, err := reports.ChartLibrary(); err != nil {
			Skip("the chart library is not installed: run scripts/report-assets.sh")
		}
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, sampleRun())).To(Succeed())
		page := buf.String()
		Expect(regexp.MustCompile(`(?i)(src|href)\s*=`).FindAllString(page, -1)).To(BeEmpty())
		Expect(strings.Count(page, "<canvas")).To(Equal(4))
		Expect(page).To(ContainSubstring(`id="report-data"`))
		Expect(page).To(ContainSubstring("SUCCEEDED"))
	})

	It("escape what results carry into the page", func() {
		if _, err := reports.ChartLibrary(); err != nil {
			Skip("the chart library is not installed: run scripts/report-assets.sh")
		}
		run := sampleRun()
		run.Title = `</script><script>alert(1)</script>`
		run.Boards.Boards[0].Name = `</script><img onerror=x>`
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, run)).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("<script>alert(1)"))
		Expect(buf.String()).NotTo(ContainSubstring("<img onerror"))
	})
})
