package reports_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

// testdata/sim-v1 holds what shakedown wrote before the simulator and the
// reports shared one results model (commit 8b06f69): the results of a
// two-shard fleet of 40 devices against `shakedown serve`, their merge,
// and `shakedown report --sim merged.json --json run.json --markdown
// report.md` from it. The results files are gzipped as written.
func simV1(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "sim-v1", name))
	Expect(err).NotTo(HaveOccurred())
	if !strings.HasSuffix(name, ".gz") {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	out, err := io.ReadAll(zr)
	Expect(err).NotTo(HaveOccurred())
	return out
}

var _ = Describe("Results written before the one results model", func() {
	It("give the report the same figures, word for word", func() {
		before, err := reports.ReadRun(bytes.NewReader(simV1("run.json.gz")))
		Expect(err).NotTo(HaveOccurred())
		sim, err := reports.ReadSim(bytes.NewReader(simV1("merged.json.gz")))
		Expect(err).NotTo(HaveOccurred())
		run := &reports.Run{Format: reports.RunFormat, Title: before.Title, Generated: before.Generated, Sim: sim}

		var md bytes.Buffer
		Expect(reports.WriteMarkdown(&md, run)).To(Succeed())
		Expect(md.String()).To(Equal(string(simV1("report.md"))))

		figures := reports.Figures(run)
		Expect(figures).To(HaveLen(2*9 + 2)) // p50 and p99 of nine stages, two rates
		Expect(figures).To(Equal(reports.Figures(before)))
		cmp := reports.Compare(before, run, reports.Tolerances{})
		Expect(cmp.Regressed()).To(BeFalse())
	})
})
