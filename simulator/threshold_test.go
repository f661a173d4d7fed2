package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

// judged is a run's results for threshold specs: counts, and a connect
// histogram of 100 samples, 1 ms to 100 ms in 1 ms steps.
func judged(change func(r *Results)) *Results {
	h := newHistogram()
	for i := 1; i <= 100; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	sc := brokerScenario(100)
	r := newResults(&reports.Sim{Version: ResultsVersion, FleetID: sc.FleetID(),
		Shards:     []reports.SimShard{{Index: 0, Count: 1, EndToEnd: true}},
		Counts:     reports.SimCounts{Slots: 100, Legit: 100, Connected: 100, Published: 1000, Acked: 1000, Received: 1000},
		Histograms: map[string]*reports.Histogram{string(StageConnect): h.snapshot()}}, sc)
	if change != nil {
		change(r)
	}
	return r
}

// verdictsOf evaluates r and returns each verdict's expression and mark.
func verdictsOf(r *Results) map[string]bool {
	vs, err := Evaluate(r)
	Expect(err).NotTo(HaveOccurred())
	out := map[string]bool{}
	for _, v := range vs {
		out[v.Threshold.String()] = v.OK
	}
	return out
}

var _ = Describe("thresholds", func() {
	DescribeTable("read k6-style expressions into one canonical form",
		func(expr, canonical, metric, op string, bound float64) {
			t, err := ParseThreshold(expr)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.String()).To(Equal(canonical))
			Expect(t.Metric).To(Equal(metric))
			Expect(t.Op).To(Equal(op))
			Expect(t.Bound).To(Equal(bound))
		},
		Entry("a latency quantile", "connect.p99<2s", "connect.p99<2s", "connect.p99", "<", float64(2*time.Second)),
		Entry("k6's p(NN), with spaces", "connect.p(99) < 2s", "connect.p99<2s", "connect.p99", "<", float64(2*time.Second)),
		Entry("p99.9", "handshake.p99.9<=50ms", "handshake.p99.9<=50ms", "handshake.p99.9", "<=", float64(50*time.Millisecond)),
		Entry("max", "end_to_end.max<1m", "end_to_end.max<1m", "end_to_end.max", "<", float64(time.Minute)),
		Entry("a count", "missing==0", "missing==0", "missing", "==", 0.0),
		Entry("the issue's spelling of sessions_lost", "lost_sessions==0", "sessions_lost==0", "sessions_lost", "==", 0.0),
		Entry("a ratio", "devices_lost_ratio<0.01", "devices_lost_ratio<0.01", "devices_lost_ratio", "<", 0.01),
		Entry("a rate", "publishes_per_s>=1000", "publishes_per_s>=1000", "publishes_per_s", ">=", 1000.0),
		Entry("not equal", "reconnects!=0", "reconnects!=0", "reconnects", "!=", 0.0),
	)

	DescribeTable("refuse what they cannot read, with a typed error that shows no unprintable byte",
		func(expr, reason string) {
			_, err := ParseThreshold(expr)
			Expect(err).To(MatchError(ErrThreshold))
			var te *ThresholdError
			Expect(errors.As(err, &te)).To(BeTrue())
			Expect(err.Error()).To(ContainSubstring(reason))
			Expect(err.Error()).NotTo(ContainSubstring("\x1b"))
		},
		Entry("a latency without a unit", "connect.p99<2", "unit"),
		Entry("an unknown metric", "conect.p99<2s", "unknown metric"),
		Entry("an unknown stage aggregate", "connect.median<2s", "unknown metric"),
		Entry("a quantile past 100", "connect.p101<2s", "unknown metric"),
		Entry("p0", "connect.p0<2s", "unknown metric"),
		Entry("a single =", "missing=0", "operators"),
		Entry("no metric", "<2s", "METRIC OP VALUE"),
		Entry("no operator", "missing", "METRIC OP VALUE"),
		Entry("no value", "missing<", "number"),
		Entry("a word for a count", "missing==zero", "number"),
		Entry("two comparisons", "0<missing<2", "one comparison"),
		Entry("a chained comparison", "missing<1<2", "one comparison"),
		Entry("an escape sequence", "missing==0\x1b[2J", "not printable"),
		Entry("too long", "missing==0"+strings.Repeat(" ", 200), "too long"),
		Entry("NaN", "missing<NaN", "number"),
	)

	It("hold the defaults: nothing missing, no publish failed, no device lost", func() {
		for _, e := range DefaultThresholds {
			_, err := ParseThreshold(e)
			Expect(err).NotTo(HaveOccurred(), e)
		}
		Expect(verdictsOf(judged(nil))).To(Equal(map[string]bool{"missing==0": true, "publish_failed==0": true, "devices_lost==0": true}))
	})

	It("fail a run whose devices were lost, as when its broker dies mid-run", func() {
		r := judged(func(r *Results) {
			r.Counts.SessionsLost, r.Counts.DevicesLost, r.Counts.Unpublished = 100, 100, 510
		})
		vs, err := Evaluate(r)
		Expect(err).NotTo(HaveOccurred())
		failed := Failed(vs)
		Expect(failed).To(HaveLen(1))
		Expect(failed[0].String()).To(Equal("devices_lost==0 (was 100)"))
	})

	It("let a scenario say how much loss it expects: its threshold replaces the family's default", func() {
		r := judged(func(r *Results) {
			r.Counts.SessionsLost, r.Counts.DevicesLost = 3, 3
			r.Scenario.Thresholds = []string{"lost_sessions<=5"}
		})
		Expect(verdictsOf(r)).To(Equal(map[string]bool{"sessions_lost<=5": true, "missing==0": true, "publish_failed==0": true}))
		r.Scenario.Thresholds = []string{"devices_lost_ratio<0.01"}
		Expect(verdictsOf(r)).To(HaveKeyWithValue("devices_lost_ratio<0.01", false), "3 of 100")
		Expect(verdictsOf(r)).NotTo(HaveKey("devices_lost==0"))
	})

	It("judge latency quantiles, counts, ratios and rates against the run's values", func() {
		r := judged(func(r *Results) {
			r.Counts.Missing = 2
			r.Counts.Reconnects, r.Counts.SessionsLost = 100, 50
			r.Scenario.Thresholds = []string{"connect.p50<51ms", "connect.p99<99ms", "connect.max<101ms", "connect.mean<60ms",
				"missing_ratio<0.01", "missing==0", "connected>=100", "sessions_lost_ratio<0.3"}
		})
		vs, err := Evaluate(r)
		Expect(err).NotTo(HaveOccurred())
		got := map[string]string{}
		for _, v := range vs {
			got[v.Threshold.String()] = v.formatValue()
			if !v.OK {
				got[v.Threshold.String()] += " FAILED"
			}
		}
		Expect(got).To(Equal(map[string]string{
			"connect.p50<51ms":        "50ms", // HDR keeps 3 significant figures
			"connect.p99<99ms":        "99ms FAILED",
			"connect.max<101ms":       "100ms",
			"connect.mean<60ms":       "50.5ms",
			"missing_ratio<0.01":      "0.002",
			"missing==0":              "2 FAILED",
			"connected>=100":          "100",
			"sessions_lost_ratio<0.3": "0.25", // of 200 sessions: 100 connects and 100 reconnects
			"publish_failed==0":       "0",
		}))
	})

	It("fail a threshold the run did not measure, but not a default one", func() {
		r := judged(func(r *Results) {
			r.Shards[0].EndToEnd = false
			r.Counts.Received = 0
			r.Scenario.Thresholds = []string{"end_to_end.p99<1s", "received>=1000"}
		})
		vs, err := Evaluate(r)
		Expect(err).NotTo(HaveOccurred())
		var buf bytes.Buffer
		Expect(WriteVerdicts(&buf, vs)).To(Succeed())
		Expect(Failed(vs)).To(HaveLen(2))
		Expect(buf.String()).To(MatchRegexp(`FAILED\s+end_to_end.p99<1s\s+not measured`))
		Expect(buf.String()).To(MatchRegexp(`n/a\s+missing==0\s+not measured\s+default`))
	})

	It("travel in the scenario through the results file and its merge", func() {
		sc := brokerScenario(200)
		sc.Thresholds = []string{"connect.p99<2s", "missing==0"}
		a, b := runRecorded(sc, Shard{Index: 0, Count: 2}), runRecorded(sc, Shard{Index: 1, Count: 2})
		Expect(a.Scenario.Thresholds).To(Equal(sc.Thresholds))
		b.Interrupted, b.Shards[0].Interrupted = true, true
		m, err := Merge(a, b)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Scenario.Thresholds).To(Equal(sc.Thresholds))
		Expect(m.Interrupted).To(BeTrue(), "one interrupted shard makes the merged run interrupted")
		var buf bytes.Buffer
		Expect(m.Encode(&buf)).To(Succeed())
		var raw map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &raw)).To(Succeed())
		Expect(raw).To(HaveKeyWithValue("interrupted", true))
		back, err := DecodeResults(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Interrupted).To(BeTrue())
	})
})
