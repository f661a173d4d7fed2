package simulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/reports"
)

// brokerScenario is a fleet that needs no fixtures: the broker target.
func brokerScenario(devices int) Scenario {
	sc := DefaultScenario()
	sc.Target = TargetBroker
	sc.Devices = devices
	sc.Broker.Addr = "127.0.0.1:1883"
	sc.Hostile.Share = 0.05
	return sc
}

// sample is a deterministic latency of one slot and stage, spread over the
// whole histogram range (1 µs to 10 min) so that most buckets are used.
func sample(slot int, st Stage, k int) time.Duration {
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], uint64(slot))
	copy(seed[8:], st)
	binary.BigEndian.PutUint64(seed[24:], uint64(k))
	r := rand.New(rand.NewChaCha8(seed))
	exp := r.Float64() * 28.2 // e^28.2 µs ≈ 30 min: some values are clamped
	return time.Duration(float64(time.Microsecond) * expm(exp))
}

func expm(x float64) float64 {
	out := 1.0
	for ; x > 1; x-- {
		out *= 2.718281828459045
	}
	return out * (1 + x*1.718281828459045)
}

// record feeds slot's deterministic samples and counts into f.
func record(f *fleet, sl Slot) {
	r := f.rec
	r.slots.Add(1)
	if sl.Hostile != "" {
		r.hostileDevices.Add(1)
		r.hostileOutcome(sl.Hostile, []string{OutcomeClosed, OutcomeAnswered, OutcomeHeld}[sl.N%3])
		r.observe(StageHalfOpen, sample(sl.N, StageHalfOpen, 0))
		return
	}
	r.legit.Add(1)
	for _, st := range []Stage{StageStartLag, StageTCP, StageHandshake, StageConnack, StageConnect, StageSuback} {
		r.observe(st, sample(sl.N, st, 0))
	}
	if sl.N%17 == 0 {
		r.connectFailed.Add(1)
		r.fail(FailHandshake, handshake.ReasonTimeout)
		return
	}
	r.connected.Add(1)
	for k := range f.msgs {
		r.published.Add(1)
		r.acked.Add(1)
		r.observe(StagePublish, sample(sl.N, StagePublish, k))
		r.observe(StageEndToEnd, sample(sl.N, StageEndToEnd, k))
	}
}

// runRecorded builds the fleet of shard s and records every slot it owns.
func runRecorded(sc Scenario, s Shard) *Results {
	f, err := newFleet(Config{Scenario: sc, Shard: s})
	Expect(err).NotTo(HaveOccurred())
	for _, sl := range f.plan {
		record(f, sl)
	}
	res := f.results(time.Now().UTC(), memoryMarks{}, true)
	// Through the JSON, as shards hand their results over.
	var buf bytes.Buffer
	Expect(res.Encode(&buf)).To(Succeed())
	back, err := DecodeResults(&buf)
	Expect(err).NotTo(HaveOccurred())
	return back
}

var _ = Describe("merging shard results", func() {
	sc := brokerScenario(2000)

	It("gives the counts and exactly the histograms of one run of the same fleet", func() {
		whole := runRecorded(sc, Whole)
		var shards []*Results
		for i := range 4 {
			shards = append(shards, runRecorded(sc, Shard{Index: i, Count: 4}))
		}
		// Merge order does not matter.
		merged, err := Merge(shards[2], shards[0], shards[3], shards[1])
		Expect(err).NotTo(HaveOccurred())
		Expect(merged.Complete()).To(BeTrue())
		Expect(merged.FleetID).To(Equal(whole.FleetID))
		Expect(merged.Counts).To(Equal(whole.Counts))
		Expect(merged.Counts.Slots).To(BeEquivalentTo(2000))
		Expect(merged.Failures).To(Equal(whole.Failures))
		Expect(merged.Hostile).To(Equal(whole.Hostile))
		Expect(merged.Histograms).To(HaveLen(len(Stages)))
		for _, st := range Stages {
			m, w := merged.Histograms[string(st)], whole.Histograms[string(st)]
			Expect(w.Total).To(BeNumerically(">", 0), string(st))
			Expect(m.Total).To(Equal(w.Total), string(st))
			Expect(m.Counts).To(Equal(w.Counts), "bucket counts of %s", st)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				Expect(m.Quantile(q)).To(Equal(w.Quantile(q)))
			}
		}
		// The samples cover the range: many buckets, some clamped at 10 min.
		publish := whole.Histograms[string(StagePublish)]
		Expect(len(publish.Counts)).To(BeNumerically(">", 20000))
		Expect(publish.Quantile(1)).To(BeNumerically("~", 10*time.Minute, time.Second))
		Expect(merged.Shards).To(HaveLen(4))
		for i, s := range merged.Shards {
			Expect(s.Index).To(Equal(i))
		}
	})

	It("reports a merge that lacks shards", func() {
		a := runRecorded(sc, Shard{Index: 0, Count: 4})
		b := runRecorded(sc, Shard{Index: 3, Count: 4})
		m, err := Merge(a, b)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Complete()).To(BeFalse())
		Expect(m.Counts.Slots).To(BeEquivalentTo(1000))
	})

	It("refuses shards of another fleet, a shard twice, and different splits", func() {
		a := runRecorded(sc, Shard{Index: 0, Count: 2})
		other := brokerScenario(2001)
		_, err := Merge(a, runRecorded(other, Shard{Index: 1, Count: 2}))
		Expect(err).To(MatchError(reports.ErrOtherFleet))
		_, err = Merge(a, a)
		Expect(err).To(MatchError(reports.ErrShardTwice))
		_, err = Merge(a, runRecorded(sc, Shard{Index: 1, Count: 3}))
		Expect(err).To(MatchError(reports.ErrShardCounts))
		_, err = Merge()
		Expect(err).To(MatchError(reports.ErrNoResults))
	})

	It("prints a summary with every stage's quantiles", func() {
		var buf bytes.Buffer
		Expect(WriteSummary(&buf, runRecorded(sc, Whole))).To(Succeed())
		out := buf.String()
		for _, st := range Stages {
			Expect(out).To(ContainSubstring(string(st)))
		}
		Expect(out).To(ContainSubstring("p99.9"))
		Expect(out).To(ContainSubstring("handshake  timeout"))
	})

	It("names the broker's queue limit when messages went missing on a broker target", func() {
		r := runRecorded(sc, Whole)
		r.Counts.Missing = 0
		var buf bytes.Buffer
		Expect(WriteSummary(&buf, r)).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("max_queued_messages"))
		r.Counts.Missing = 3
		buf.Reset()
		Expect(WriteSummary(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("max_queued_messages"))
	})
})

var _ = Describe("decoding results", func() {
	var good []byte
	BeforeEach(func() {
		var buf bytes.Buffer
		Expect(runRecorded(brokerScenario(100), Whole).Encode(&buf)).To(Succeed())
		good = buf.Bytes()
	})

	// edit decodes good into a generic value, changes it and encodes it again.
	edit := func(change func(m map[string]any)) []byte {
		var m map[string]any
		Expect(json.Unmarshal(good, &m)).To(Succeed())
		change(m)
		b, err := json.Marshal(m)
		Expect(err).NotTo(HaveOccurred())
		return b
	}
	hist := func(m map[string]any) map[string]any {
		return m["histograms"].(map[string]any)[string(StageConnect)].(map[string]any)
	}

	DescribeTable("refuses results it cannot trust, naming the field",
		func(change func(m map[string]any), field string) {
			_, err := DecodeResults(bytes.NewReader(edit(change)))
			var re *reports.InputError
			Expect(errors.As(err, &re)).To(BeTrue(), "error %v", err)
			Expect(re.Field).To(Equal(field))
		},
		Entry("another version", func(m map[string]any) { m["version"] = 2 }, "version"),
		Entry("no fleet", func(m map[string]any) { m["fleet_id"] = "" }, "fleet_id"),
		Entry("no shards", func(m map[string]any) { m["shards"] = []any{} }, "shards"),
		Entry("a shard past its count", func(m map[string]any) {
			m["shards"].([]any)[0].(map[string]any)["index"] = 1
		}, "shards"),
		Entry("a negative count", func(m map[string]any) { m["counts"].(map[string]any)["acked"] = -1 }, "counts"),
		Entry("a negative failure", func(m map[string]any) {
			m["failures"] = map[string]any{"dial": map[string]any{"io": -5}}
		}, "failures"),
		Entry("another geometry", func(m map[string]any) { hist(m)["significant_figures"] = 2 }, "histograms.connect"),
		Entry("a total that is not the counts' sum", func(m map[string]any) { hist(m)["total"] = 1e6 }, "histograms.connect"),
		Entry("a negative bucket", func(m map[string]any) {
			c := hist(m)["counts"].([]any)
			c[len(c)-1] = -1
		}, "histograms.connect"),
		Entry("buckets past the range", func(m map[string]any) {
			hist(m)["counts"] = append(make([]any, 30000), 1)
			hist(m)["total"] = 1
		}, "histograms.connect"),
		Entry("a null histogram", func(m map[string]any) { m["histograms"].(map[string]any)["x"] = nil }, "histograms.x"),
		Entry("a threshold that cannot be read", func(m map[string]any) {
			m["scenario"].(map[string]any)["thresholds"] = []any{"connect.p99<\x1b[2J"}
		}, "scenario.thresholds"),
	)

	It("refuses what is not a results file without quoting it", func() {
		_, err := DecodeResults(strings.NewReader(`{"version": "secret-token-123"`))
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).NotTo(ContainSubstring("secret-token"))
	})
})

var _ = Describe("payloads", func() {
	It("carry run, slot, sequence and schedule through the broker", func() {
		h := payloadHeader{Run: [runIDLen]byte{1, 2, 3, 4, 5, 6, 7, 8}, Slot: 99999, Seq: 7, Scheduled: time.Now().UnixNano()}
		b := appendPayload(nil, h, 64)
		Expect(b).To(HaveLen(64))
		got, err := parsePayload(b)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(h))
		_, err = parsePayload(b[:PayloadHeaderLen-1])
		Expect(err).To(MatchError(ErrPayload))
	})

	It("are marked once per message", func() {
		bs := newBitset(130)
		Expect(bs.set(129)).To(BeTrue())
		Expect(bs.set(129)).To(BeFalse())
		Expect(bs.get(129)).To(BeTrue())
		Expect(bs.get(128)).To(BeFalse())
	})
})
