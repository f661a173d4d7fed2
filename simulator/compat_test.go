package simulator_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/simulator"
)

// The results in reports/testdata/sim-v1 were written before the simulator
// and the reports shared one results model (see reports/compat_test.go):
// two shards of one fleet, their merge, and `shakedown results show` and
// `results show --figures` of the merge.
func simV1Path(name string) string { return filepath.Join("..", "reports", "testdata", "sim-v1", name) }

// simV1JSON returns a gzipped results file of sim-v1 as written.
func simV1JSON(name string) []byte {
	f, err := os.Open(simV1Path(name))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	zr, err := gzip.NewReader(f)
	Expect(err).NotTo(HaveOccurred())
	b, err := io.ReadAll(zr)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// asValue decodes a results JSON into plain values, leaving out the build
// that wrote it: two documents compare whatever their key order.
func asValue(doc []byte) map[string]any {
	var v map[string]any
	Expect(json.Unmarshal(doc, &v)).To(Succeed())
	delete(v, "shakedown_version")
	return v
}

var _ = Describe("Results written before the one results model", func() {
	decode := func(name string) *simulator.Results {
		r, err := simulator.DecodeResults(bytes.NewReader(simV1JSON(name)))
		Expect(err).NotTo(HaveOccurred())
		return r
	}

	merge := func() *simulator.Results {
		merged, err := simulator.Merge(decode("shard-1.json.gz"), decode("shard-0.json.gz"))
		Expect(err).NotTo(HaveOccurred())
		return merged
	}

	It("merge exactly into the merge written then", func() {
		merged := merge()
		var buf bytes.Buffer
		Expect(merged.Encode(&buf)).To(Succeed())
		Expect(asValue(buf.Bytes())).To(Equal(asValue(simV1JSON("merged.json.gz"))))
	})

	It("show the same summary, verdicts and figures, merged then or now", func() {
		for _, r := range []*simulator.Results{decode("merged.json.gz"), merge()} {
			var show, figures bytes.Buffer
			Expect(simulator.WriteSummary(&show, r)).To(Succeed())
			vs, err := simulator.Evaluate(r)
			Expect(err).NotTo(HaveOccurred())
			Expect(simulator.WriteVerdicts(&show, vs)).To(Succeed())
			Expect(simulator.Failed(vs)).To(BeEmpty())
			Expect(simulator.WriteFigures(&figures, r)).To(Succeed())
			want, err := os.ReadFile(simV1Path("show.txt"))
			Expect(err).NotTo(HaveOccurred())
			Expect(show.String()).To(Equal(string(want)))
			want, err = os.ReadFile(simV1Path("figures.txt"))
			Expect(err).NotTo(HaveOccurred())
			Expect(figures.String()).To(Equal(string(want)))
		}
	})
})
