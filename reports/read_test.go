package reports_test

import (
	"errors"
	"io"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

var _ = Describe("Readers", func() {
	It("read the sample results", func() {
		run := sampleRun()
		Expect(run.MITM.Verdicts).NotTo(BeEmpty())
		Expect(run.Sim.Histograms).To(HaveKey("connect"))
		Expect(run.Sim.Timeline.Samples).NotTo(BeEmpty())
		Expect(run.Boards.Boards).NotTo(BeEmpty())
	})

	It("refuse a document larger than MaxInputSize, without reading past it", func() {
		r := &countingReader{r: io.LimitReader(spaces{}, reports.MaxInputSize+1<<20)}
		_, err := reports.ReadSim(r)
		Expect(err).To(MatchError(reports.ErrTooLarge))
		Expect(r.n).To(BeNumerically("<=", reports.MaxInputSize+1))
	})

	DescribeTable("refuse bad documents with an InputError that names the field, never the content",
		func(read func(string) error, doc, field string) {
			err := read(doc)
			var ie *reports.InputError
			Expect(errors.As(err, &ie)).To(BeTrue(), "%v", err)
			Expect(ie.Field).To(Equal(field))
			Expect(err.Error()).NotTo(ContainSubstring("SECRET"))
		},
		Entry("mitm of another format", readMITM, `{"format":"SECRET"}`, "format"),
		Entry("mitm cell outside the matrix", readMITM, `{"format":"shakedown-mitm/1","columns":["noise"],"scenarios":["a"],"verdicts":[{"scenario":"SECRET","column":"noise"}]}`, "verdicts[0]"),
		Entry("mitm cell not applicable outside the matrix", readMITM, `{"format":"shakedown-mitm/1","columns":["noise"],"scenarios":["a"],"not_applicable":[{"scenario":"a","column":"SECRET"}]}`, "not_applicable[0]"),
		Entry("sim of another version", readSim, `{"version":2,"fleet_id":"SECRET"}`, "version"),
		Entry("sim histogram total off", readSim, `{"version":1,"fleet_id":"f","shards":[{"index":0,"count":1}],"histograms":{"connect":{"lowest":1,"highest":600000000,"significant_figures":3,"total":5,"counts":[1,2]}}}`, "histograms.connect"),
		Entry("sim histogram with too many counts", readSim, `{"version":1,"fleet_id":"f","shards":[{"index":0,"count":1}],"histograms":{"connect":{"lowest":1,"highest":100,"significant_figures":1,"total":0,"counts":[`+strings.Repeat("0,", 4000)+`0]}}}`, "histograms.connect"),
		Entry("sim histogram key that is not a name", readSim, `{"version":1,"fleet_id":"f","shards":[{"index":0,"count":1}],"histograms":{"SECRET<>":{"lowest":0}}}`, "histograms.?"),
		Entry("sim of the wrong type", readSim, `{"version":"SECRET"}`, "version"),
		Entry("sim of no fleet", readSim, `{"version":1,"shards":[{"index":0,"count":1}]}`, "fleet_id"),
		Entry("sim shard past its count", readSim, `{"version":1,"fleet_id":"f","shards":[{"index":1,"count":1}]}`, "shards"),
		Entry("sim with a negative count", readSim, `{"version":1,"fleet_id":"f","shards":[{"index":0,"count":1}],"counts":{"acked":-1}}`, "counts"),
		Entry("sim failure of a long reason", readSim, `{"version":1,"fleet_id":"f","shards":[{"index":0,"count":1}],"failures":{"dial":{"`+strings.Repeat("SECRET", 20)+`":1}}}`, "failures"),
		Entry("boards of another format", readBoards, `{"format":"x"}`, "format"),
		Entry("boards with a negative count", readBoards, `{"format":"shakedown-boards/1","boards":[{"bench":[{"op":"x","mean":-1}]}]}`, "boards[0].bench[0].mean"),
		Entry("timeline out of order", readTimeline, `{"format":"shakedown-timeline/1","samples":[{"at_ms":5},{"at_ms":1}]}`, "samples[1].at_ms"),
		Entry("run of another format", readRun, `{"format":"shakedown-mitm/1"}`, "format"),
		Entry("truncated JSON", readSim, `{"version":1,"fleet_id":"SECRET`, ""),
		Entry("JSON syntax error", readBoards, `{"format":SECRET}`, ""),
	)
})

func readMITM(s string) error     { _, err := reports.ReadMITM(strings.NewReader(s)); return err }
func readSim(s string) error      { _, err := reports.ReadSim(strings.NewReader(s)); return err }
func readBoards(s string) error   { _, err := reports.ReadBoards(strings.NewReader(s)); return err }
func readTimeline(s string) error { _, err := reports.ReadTimeline(strings.NewReader(s)); return err }
func readRun(s string) error      { _, err := reports.ReadRun(strings.NewReader(s)); return err }

// spaces reads as an endless run of spaces.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
