package suites

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/lab"
	"shakedown/mitm"
	"shakedown/reports"
)

// matrixTimeout bounds the whole matrix on a board; each cell has its own
// bound (mitm.DefaultCellTimeout plus the board's slack).
const matrixTimeout = 90 * time.Minute

// describeMITM: the MITM matrix of package mitm with the board as the
// device under test, the attacker on the harness's relay path. Every
// verdict must be the expected one; the cells the board cannot run (a
// profile or curve it lacks, a vulnerable variant it does not have) are
// not applicable and listed.
func describeMITM() {
	Describe("mitm", Label("mitm"), func() {
		BeforeEach(needBoard)

		// The spec takes ginkgo's context so that, interrupted, ginkgo waits
		// for the matrix to stop and keep the cells that ran.
		It("gives every scenario its expected verdict on the board's relay path", func(sctx SpecContext) {
			inflight.Add(1)
			defer inflight.Add(-1)
			ctx, cancel := specContext(sctx, matrixTimeout)
			defer cancel()
			l := &lab.Lab{Set: cur.set, Target: cur.srv, TargetName: cur.b.Label,
				Board: cur.b.Board, BoardSlack: cur.b.Profile.LongestLimit(), BoardTrustsSetCA: cur.b.TrustsSetCA(),
				Timeout: cellTimeout(),
				Progress: func(v reports.Verdict) {
					GinkgoWriter.Printf("%-28s %-22s %-13s %s\n", v.Scenario, v.Column, v.Outcome.Label(), expectedMark(v))
				}}
			res, err := l.Run(ctx, mitm.Selection{})
			if res != nil { // an interrupted matrix keeps the cells that ran
				cur.mu.Lock()
				cur.matrix = res
				cur.mu.Unlock()
			}
			must(err, "running the matrix")

			var text strings.Builder
			must(res.WriteText(&text, false), "writing the matrix")
			AddReportEntry("MITM matrix on "+cur.b.Label, text.String(), ReportEntryVisibilityFailureOrVerbose)
			var wrong []string
			for _, v := range res.Verdicts {
				if !v.AsExpected {
					wrong = append(wrong, fmt.Sprintf("%s on %s: %s, expected %s", v.Scenario, v.Column, v.Outcome, v.Expected))
				}
			}
			Expect(wrong).To(BeEmpty(), "verdicts other than expected")
			Expect(res.Mismatches).To(BeZero())
			Expect(res.Verdicts).NotTo(BeEmpty(), "no cell applied to the board")
		})
	})
}

// cellTimeout bounds one cell: the lab's default on a fast board; on a slow
// one, room for tamper-handshake's one handshake per altered byte.
func cellTimeout() time.Duration {
	if cur.b.Kind == reports.KindVirtual {
		return mitm.DefaultCellTimeout
	}
	return mitm.DefaultCellTimeout + tamperHandshakes*cur.b.Profile.LongestLimit()
}

// tamperHandshakes is about how many handshakes tamper-handshake runs on
// one column: one per byte of noise IK's two messages.
const tamperHandshakes = 200

func expectedMark(v reports.Verdict) string {
	switch {
	case v.Outcome == reports.NotApplicable:
		return v.NotApplicable
	case v.AsExpected:
		return "as expected"
	}
	return "NOT AS EXPECTED"
}
