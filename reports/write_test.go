package reports_test

import (
	"bytes"
	"encoding/json"
	"errors"
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

	It("write an HTML page with its four charts inside, that runs no script and loads nothing from outside", func() {
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, sampleRun())).To(Succeed())
		page := buf.String()
		Expect(regexp.MustCompile(`(?i)(src|href)\s*=`).FindAllString(page, -1)).To(BeEmpty())
		Expect(regexp.MustCompile(`(?i)<script|url\((?:[^#)]|$)|@import`).FindAllString(page, -1)).To(BeEmpty())
		for _, chart := range []string{"chart-handshakes", "chart-chips", "chart-latency", "chart-timeline"} {
			Expect(page).To(ContainSubstring(`aria-labelledby="%s-title %s-desc"`, chart, chart))
		}
		Expect(strings.Count(page, `<svg `)).To(Equal(4))
		Expect(strings.Count(page, `class="bar"`)).To(BeNumerically(">=", 12))
		stages := 0
		for _, h := range sampleRun().Sim.Histograms {
			if h.Total > 0 {
				stages++
			}
		}
		Expect(stages).To(BeNumerically(">", 5))
		Expect(strings.Count(page, `class="line"`)).To(Equal(stages+4), "a line per stage with samples, and the timeline's four")
		Expect(page).To(ContainSubstring("SUCCEEDED"))
	})

	It("show the network-clock columns of the matrix, with their times as evidence", func() {
		run := sampleRun()
		m := run.MITM
		m.Columns = append(m.Columns, "tls-ca-ntp", "tls-ca-roughtime")
		m.Scenarios = append(m.Scenarios, "time-blocked")
		forged := reports.Fact{Side: reports.SideAttacker, Kind: reports.FactTime, Field: "sntp.forged_time", Value: "2025-06-01T00:00:00Z"}
		m.Add(reports.Verdict{Scenario: "time-blocked", Column: "tls-ca-ntp", Expected: reports.FailedClosed, Outcome: reports.FailedClosed, AsExpected: true,
			Evidence: []reports.Fact{forged, {Side: reports.SideDevice, Kind: reports.FactRefused, Stage: "clock", Reason: "time_unavailable"}}})
		m.Add(reports.Verdict{Scenario: "time-blocked", Column: "tls-ca-roughtime", Expected: reports.FailedClosed, Outcome: reports.Rejected})
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, run)).To(Succeed())
		page := buf.String()
		Expect(page).To(ContainSubstring(`<th class="col">tls-ca-ntp</th>`))
		Expect(page).To(ContainSubstring(`<th class="col">tls-ca-roughtime</th>`))
		Expect(page).To(MatchRegexp(`<td class="failed-closed[^"]*"[^>]*>\s*failed closed`))
		Expect(page).To(ContainSubstring("attacker time field=sntp.forged_time value=2025-06-01T00:00:00Z"))
		Expect(page).To(ContainSubstring("device refused stage=clock reason=time_unavailable"))
		var text bytes.Buffer
		Expect(m.WriteText(&text, true)).To(Succeed())
		Expect(text.String()).To(ContainSubstring("attacker time sntp.forged_time = 2025-06-01T00:00:00Z"))
		Expect(text.String()).To(ContainSubstring("rejected!"), "the roughtime cell is a mismatch")
	})

	It("say in place of a chart that the run has no data for it", func() {
		run := sampleRun()
		run.Sim.Timeline = nil
		run.Boards.Boards = run.Boards.Boards[:1] // the virtual board: no cycle counts
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, run)).To(Succeed())
		Expect(strings.Count(buf.String(), `<svg `)).To(Equal(2))
		Expect(buf.String()).To(ContainSubstring("No throughput timeline in this run"))
		Expect(buf.String()).To(ContainSubstring("No cycle counts of an anchored operation in this run"))
	})

	It("chart several handshakes of a profile as one bar: the median, with the fastest and the slowest", func() {
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, withRuns(sampleRun()))).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("virtual · noise · board time (median): 714 µs (from 410 µs to 984 µs); 3 handshakes"))
		Expect(strings.Count(buf.String(), "virtual · noise · board time")).To(Equal(1))
	})

	It("escape what results carry into the page", func() {
		run := sampleRun()
		run.Title = `</script><script>alert(1)</script>`
		run.Boards.Boards[0].Name = `</script><img onerror=x>`
		run.Boards.Boards[2].Chip = `</svg><svg onload=alert(1)>`
		run.Sim.Histograms[`<stage>`] = run.Sim.Histograms["connect"]
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, run)).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("<script>alert(1)"))
		Expect(buf.String()).NotTo(ContainSubstring("<img onerror"))
		Expect(buf.String()).NotTo(ContainSubstring("<svg onload"))
		Expect(buf.String()).To(ContainSubstring("&lt;/svg&gt;&lt;svg onload=alert(1)&gt;"))
	})
})

var _ = Describe("The fleet's seconds and capacity search in the HTML page", func() {
	// withSeconds adds ten seconds to the sample run, a gap in the middle,
	// and a capacity search.
	withSeconds := func() *reports.Run {
		run := sampleRun()
		run.Sim.Timeline = nil
		h := reports.NewSecondHDR()
		for v := range int64(100) {
			h.RecordValue(1000 + v*10)
		}
		for i := range int64(10) {
			if i == 5 {
				continue
			}
			run.Sim.Seconds = append(run.Sim.Seconds, reports.SimSecond{At: 1_800_000_000 + i, Connects: 10 * i, Publishes: 100, Acks: 100, Received: 99,
				Latency: map[string]*reports.SecondHistogram{"connect": reports.SecondHistogramOf(h), "publish_ack": reports.SecondHistogramOf(h)}})
		}
		run.Sim.Capacity = &reports.SimCapacity{Vary: reports.VaryConnect, Stage: "connect", Knee: 850, StepSeconds: 5,
			Steps: []reports.SimStep{{Rate: 200, Held: true, P99US: 3000}, {Rate: 400, Held: true, P99US: 5000},
				{Rate: 800, Held: true, P99US: 9000}, {Rate: 1600, P99US: 2e6, Errors: 40}, {Rate: 1200, P99US: 1e6, Errors: 3}, {Rate: 1000, Errors: 1, P99US: 4e5}, {Rate: 900, Held: false, P99US: 2e5, Errors: 1}, {Rate: 850, Held: true, P99US: 11000}}}
		return run
	}

	It("draw the throughput and each stage's p99 second by second, and the capacity curve", func() {
		run := withSeconds()
		Expect(run.Sim.Check()).To(Succeed())
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, run)).To(Succeed())
		page := buf.String()
		for _, chart := range []string{"chart-timeline", "chart-p99s", "chart-capacity"} {
			Expect(page).To(ContainSubstring(`aria-labelledby="%s-title %s-desc"`, chart, chart))
		}
		Expect(page).To(ContainSubstring("Capacity: knee at 850 connects/s"))
		Expect(page).To(ContainSubstring("<strong>850/s</strong> (8 steps)"))
		Expect(page).To(ContainSubstring("received/s"))
		Expect(page).NotTo(ContainSubstring("failures/s"), "a series only where it is not zero throughout")
	})

	It("read from a results file by report --timeline as from a timeline", func() {
		run := withSeconds()
		var buf bytes.Buffer
		Expect(json.NewEncoder(&buf).Encode(run.Sim)).To(Succeed())
		tl, secs, err := reports.ReadThroughput(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(tl).To(BeNil())
		Expect(secs).To(Equal(run.Sim.Seconds))
		tl, secs, err = reports.ReadThroughput(strings.NewReader(`{"format":"shakedown-timeline/1","samples":[{"at_ms":0}]}`))
		Expect(err).NotTo(HaveOccurred())
		Expect(tl.Samples).To(HaveLen(1))
		Expect(secs).To(BeNil())
		_, _, err = reports.ReadThroughput(strings.NewReader(`{"format":"other"}`))
		Expect(err).To(MatchError(reports.ErrFormat))
	})

	DescribeTable("refuse seconds that cannot be trusted",
		func(change func(*reports.Sim), field string) {
			run := withSeconds()
			change(run.Sim)
			err := run.Sim.Check()
			var ie *reports.InputError
			Expect(errors.As(err, &ie)).To(BeTrue())
			Expect(ie.Field).To(HavePrefix(field))
		},
		Entry("out of order", func(s *reports.Sim) { s.Seconds[1].At = s.Seconds[0].At }, "seconds[1]"),
		Entry("a negative count", func(s *reports.Sim) { s.Seconds[2].Acks = -1 }, "seconds[2]"),
		Entry("a histogram index past its buckets", func(s *reports.Sim) {
			s.Seconds[0].Latency["connect"] = &reports.SecondHistogram{Total: 1, Counts: [][2]int64{{1 << 20, 1}}}
		}, "seconds[0].latency.connect"),
		Entry("a histogram total that differs", func(s *reports.Sim) {
			s.Seconds[0].Latency["connect"] = &reports.SecondHistogram{Total: 2, Counts: [][2]int64{{5, 1}}}
		}, "seconds[0].latency.connect"),
		Entry("a capacity search of another kind", func(s *reports.Sim) { s.Capacity.Vary = "bytes" }, "capacity.vary"),
	)
})
