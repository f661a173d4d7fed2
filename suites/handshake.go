package suites

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gmeasure"

	"shakedown/boards/measure"
	"shakedown/harness"
	"shakedown/reports"
)

// describeHandshake: each profile the board runs completes its handshake
// within the limit of the board's profile, measured over Runs handshakes,
// and MQTT then works both ways over the session.
func describeHandshake() {
	Describe("handshake", Label("handshake"), func() {
		BeforeEach(needBoard)
		for _, c := range columns {
			It(c.String()+" completes within the board profile's limit and carries MQTT", func(_ SpecContext) {
				c.need()
				d := c.become(1)
				limit := cur.b.Profile.Limit(c.p)
				exp := gmeasure.NewExperiment("handshake " + c.String() + " on " + cur.b.Label)
				AddReportEntry(exp.Name, exp, ReportEntryVisibilityFailureOrVerbose)
				var last *harness.Session
				var hs []reports.Handshake
				DeferCleanup(func() { record(func(r *reports.Board) { r.Handshakes = append(r.Handshakes, hs...) }) })
				exp.Sample(func(i int) {
					h, s, err := measure.Handshake(step(), cur.b.Board, c.handshakeOptions(nil), cur.b.Info, limit)
					h.Profile = c.String() // seed per curve
					hs = append(hs, h)
					must(err, "handshake %d of %d", i+1, cur.cfg.Runs)
					exp.RecordDuration("on the board", measure.BoardDuration(h), gmeasure.Precision(time.Microsecond))
					exp.RecordDuration("wall", time.Duration(h.WallMS*float64(time.Millisecond)), gmeasure.Precision(time.Microsecond))
					exp.RecordValue("board count", float64(h.Total), gmeasure.Units(h.Unit))
					exp.RecordValue("bytes on the wire", float64(h.Sent+h.Received), gmeasure.Units("B"))
					if i == cur.cfg.Runs-1 {
						last = s
					} else {
						must(s.Close(), "closing the session")
					}
				}, gmeasure.SamplingConfig{N: cur.cfg.Runs})
				DeferCleanup(last.Close)

				client := mqttOver(last, d)
				exchange(client, d, "handshake suite")
				hs[len(hs)-1].Message = "MQTT telemetry received by the backend, command received by the board"

				if cur.b.Exact() {
					Expect(exp.GetStats("board count").FloatFor(gmeasure.StatMin)).To(BeNumerically(">", 0))
				}
				if limit > 0 {
					worst := exp.GetStats("on the board").DurationFor(gmeasure.StatMax)
					Expect(worst).To(BeNumerically("<=", limit), "the slowest of %d %s handshakes took %s on %s; its profile %s allows %s",
						cur.cfg.Runs, c, worst, cur.b.Label, cur.b.Profile.Name, limit)
				}
			})
		}
	})
}
