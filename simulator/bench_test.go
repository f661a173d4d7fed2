package simulator

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHistogramRecord is the cost of one latency sample with every
// core recording into the same stage.
func BenchmarkHistogramRecord(b *testing.B) {
	r := newRecorder(mustMetrics(b))
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.observe(StagePublish, time.Duration(n.Add(1)%1e6)*time.Microsecond)
		}
	})
}

// BenchmarkPlan deals a fleet of 100,000 slots.
func BenchmarkPlan(b *testing.B) {
	sc := brokerScenario(100_000)
	sc.Mix = map[string]float64{"noise": 5, "tls": 3, "psk": 2}
	for b.Loop() {
		sc.Plan()
	}
}

// shardResults are four shard results with samples in every stage.
func shardResults(b *testing.B) []*Results {
	sc := brokerScenario(4000)
	var rs []*Results
	for i := range 4 {
		f, err := newFleet(Config{Scenario: sc, Shard: Shard{Index: i, Count: 4}})
		if err != nil {
			b.Fatal(err)
		}
		for _, sl := range f.plan {
			record(f, sl)
		}
		rs = append(rs, f.results(time.Now(), memoryMarks{}, true))
	}
	return rs
}

// BenchmarkMerge merges four shards' results, histograms bucket by bucket.
func BenchmarkMerge(b *testing.B) {
	rs := shardResults(b)
	for b.Loop() {
		if _, err := Merge(rs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeResults reads and checks one shard's results JSON.
func BenchmarkDecodeResults(b *testing.B) {
	var buf bytes.Buffer
	if err := shardResults(b)[0].Encode(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := DecodeResults(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

func mustMetrics(b *testing.B) *metrics {
	m, err := newMetrics(nil, Whole)
	if err != nil {
		b.Fatal(err)
	}
	return m
}
