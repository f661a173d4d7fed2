package simulator

import (
	"bytes"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

var _ = Describe("the run's seconds", func() {
	// t0 is a whole Unix second; sample k of a fleet ends at t0 + k·7 ms.
	t0 := time.Unix(1_800_000_000, 0)
	at := func(k int) time.Time { return t0.Add(time.Duration(k) * 7 * time.Millisecond) }
	record := func(s *seconds, k int) {
		s.addAt(at(k), secConnects, 1)
		s.addAt(at(k), secPublishes, 2)
		if k%3 == 0 {
			s.addAt(at(k), secFailures, 1)
		}
		s.observeAt(at(k), StageConnect, time.Duration(100+k*k)*time.Microsecond)
		s.observeAt(at(k), StagePublish, time.Duration(1+k%50)*time.Millisecond)
	}

	It("counts each sample in the wall-clock second it ended in", func() {
		s := newSeconds()
		for k := range 1000 { // 7 s
			record(s, k)
		}
		secs := s.all()
		Expect(secs).To(HaveLen(7))
		var connects, failures, latencies int64
		for i, sec := range secs {
			Expect(sec.At).To(Equal(t0.Unix() + int64(i)))
			connects += sec.Connects
			failures += sec.Failures
			latencies += sec.Latency[string(StageConnect)].Total
			Expect(sec.Publishes).To(Equal(2 * sec.Connects))
		}
		Expect(connects).To(BeEquivalentTo(1000))
		Expect(failures).To(BeEquivalentTo(334))
		Expect(latencies).To(BeEquivalentTo(1000))
		// 143 samples end in the first second (0, 7, ..., 994 ms).
		Expect(secs[0].Connects).To(BeEquivalentTo(143))
		Expect(secs[0].Latency[string(StageConnect)].Quantile(1)).To(BeNumerically("~", (100+142*142)*time.Microsecond, 250*time.Microsecond))
	})

	It("merge across shards into exactly the seconds of one process", func() {
		whole := newSeconds()
		shards := []*seconds{newSeconds(), newSeconds(), newSeconds()}
		for k := range 1000 {
			record(whole, k)
			record(shards[k%3], k)
		}
		sims := make([]*reports.Sim, 3)
		for i, s := range shards {
			sims[i] = &reports.Sim{Version: reports.SimVersion, FleetID: "f",
				Shards: []reports.SimShard{{Index: i, Count: 3}}, Seconds: s.all()}
		}
		merged, err := reports.MergeSim(sims[2], sims[0], sims[1])
		Expect(err).NotTo(HaveOccurred())
		Expect(merged.Check()).To(Succeed())
		Expect(merged.Seconds).To(Equal(whole.all()))
	})

	It("keep the fewest devices connected in each second, which merged shards add up", func() {
		a, b := newSeconds(), newSeconds()
		ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
		for i := range 10 { // shard a: 10 devices connect in the first second
			a.connectedAt(ms(10*i), int64(i+1))
		}
		a.connectedAt(ms(1500), 9) // one drops in the second second and comes back
		a.connectedAt(ms(1600), 10)
		a.tick(ms(2100)) // nothing happens in the third: the gauge holds
		b.connectedAt(ms(900), 1)
		b.tick(ms(1100))
		b.tick(ms(2200))
		Expect(a.all()).To(HaveLen(3))
		mins := func(secs []reports.SimSecond) []int64 {
			var out []int64
			for _, s := range secs {
				out = append(out, s.ConnectedMin)
			}
			return out
		}
		Expect(mins(a.all())).To(Equal([]int64{0, 9, 10}))
		Expect(mins(b.all())).To(Equal([]int64{0, 1, 1}))
		merged, err := reports.MergeSim(
			&reports.Sim{Version: reports.SimVersion, FleetID: "f", Shards: []reports.SimShard{{Index: 0, Count: 2}}, Seconds: a.all()},
			&reports.Sim{Version: reports.SimVersion, FleetID: "f", Shards: []reports.SimShard{{Index: 1, Count: 2}}, Seconds: b.all()})
		Expect(err).NotTo(HaveOccurred())
		Expect(mins(merged.Seconds)).To(Equal([]int64{0, 10, 11}))
		n, at := merged.ConnectedAtOnce()
		Expect(n).To(BeEquivalentTo(11))
		Expect(at).To(Equal(t0.Unix() + 2))
	})

	It("hold the latencies of the open second apart from the sealed ones", func() {
		s := newSeconds()
		for k := range 300 { // 2.1 s
			record(s, k)
		}
		win := s.window(t0.Unix() + 2)
		Expect(win[StageConnect].TotalCount()).To(BeEquivalentTo(300 - 286))
		Expect(s.window(t0.Unix())[StagePublish].TotalCount()).To(BeEquivalentTo(300))
	})

	It("survive the results JSON", func() {
		s := newSeconds()
		for k := range 500 {
			record(s, k)
		}
		sim := &reports.Sim{Version: reports.SimVersion, FleetID: "f", Shards: []reports.SimShard{{Count: 1}}, Seconds: s.all()}
		var buf bytes.Buffer
		Expect((&Results{Sim: *sim}).Encode(&buf)).To(Succeed())
		back, err := reports.ReadSim(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Seconds).To(Equal(sim.Seconds))
	})
})
