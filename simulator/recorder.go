package simulator

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"shakedown/handshake"
	"shakedown/reports"
)

// recorder collects a run's measurements while it runs: counters, failures,
// hostile outcomes and the stage histograms, mirrored into Prometheus
// metrics when a registerer is given.
type recorder struct {
	hist map[Stage]*histogram // fixed at creation: read without a lock

	slots, legit, hostileDevices                     atomic.Int64
	connected, connectFailed, attempts, handshakes   atomic.Int64
	reconnects, lost, subscribed                     atomic.Int64
	published, acked, publishFailed, unpublished     atomic.Int64
	received, duplicates, malformed, missing         atomic.Int64
	delivered                                        atomic.Int64
	devicesLost, notStarted, cutShort                atomic.Int64
	started, active                                  atomic.Int64
	firstConnect, lastConnect, firstPublish, lastAck atomic.Int64 // Unix nanoseconds
	firstHandshake, lastHandshake                    atomic.Int64
	rampEnd, steadyEnd                               atomic.Int64 // Unix nanoseconds: reports.SimShard's marks
	sec                                              *seconds
	mu                                               sync.Mutex
	failures, hostile                                map[string]map[string]int64
	m                                                *metrics
}

func newRecorder(m *metrics) *recorder {
	r := &recorder{hist: map[Stage]*histogram{}, failures: map[string]map[string]int64{}, hostile: map[string]map[string]int64{},
		m: m, sec: newSeconds()}
	for _, st := range Stages {
		r.hist[st] = newHistogram()
	}
	return r
}

// observe records a latency of stage st.
func (r *recorder) observe(st Stage, d time.Duration) {
	r.hist[st].record(d)
	r.sec.observe(st, d)
	r.m.stage.WithLabelValues(string(st)).Observe(d.Seconds())
}

// addActive counts a session up (1) or down (-1): the gauge of devices
// connected, its metric, and the second's fewest (reports.SimSecond.ConnectedMin).
func (r *recorder) addActive(delta int64) {
	n := r.active.Add(delta)
	r.m.active.Add(float64(delta))
	r.sec.connectedAt(time.Now(), n)
}

// fail counts a failed step.
func (r *recorder) fail(stage string, reason handshake.Reason) { r.failN(stage, reason, 1) }

// failN counts n failed steps of one stage and reason.
func (r *recorder) failN(stage string, reason handshake.Reason, n int64) {
	r.mu.Lock()
	if r.failures[stage] == nil {
		r.failures[stage] = map[string]int64{}
	}
	r.failures[stage][string(reason)] += n
	r.mu.Unlock()
	r.sec.add(secFailures, n)
	r.m.failures.WithLabelValues(stage, string(reason)).Add(float64(n))
}

// hostileOutcome counts what the server did with a hostile connection.
func (r *recorder) hostileOutcome(kind, outcome string) {
	r.mu.Lock()
	bump(r.hostile, kind, outcome)
	r.mu.Unlock()
	r.m.hostile.WithLabelValues(kind, outcome).Inc()
}

func bump(m map[string]map[string]int64, k, r string) {
	if m[k] == nil {
		m[k] = map[string]int64{}
	}
	m[k][r]++
}

// inc adds one to a counter and to its metric, when it has one.
func inc(c *atomic.Int64, metric prometheus.Counter) {
	c.Add(1)
	if metric != nil {
		metric.Inc()
	}
}

// span widens [first, last] to include t.
func span(first, last *atomic.Int64, t time.Time) {
	lowerTo(first, t)
	raiseTo(last, t)
}

// lowerTo keeps the earliest time in a (Unix nanoseconds, 0 for none).
func lowerTo(a *atomic.Int64, t time.Time) {
	n := t.UnixNano()
	for {
		f := a.Load()
		if f != 0 && f <= n || a.CompareAndSwap(f, n) {
			return
		}
	}
}

// raiseTo keeps the latest time in a.
func raiseTo(a *atomic.Int64, t time.Time) {
	n := t.UnixNano()
	for {
		l := a.Load()
		if l >= n || a.CompareAndSwap(l, n) {
			return
		}
	}
}

func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (r *recorder) counts() reports.SimCounts {
	return reports.SimCounts{
		Slots: r.slots.Load(), Legit: r.legit.Load(), HostileDevices: r.hostileDevices.Load(),
		Connected: r.connected.Load(), ConnectFailed: r.connectFailed.Load(), ConnectAttempts: r.attempts.Load(),
		Handshakes: r.handshakes.Load(), Reconnects: r.reconnects.Load(), SessionsLost: r.lost.Load(),
		Subscribed: r.subscribed.Load(), Published: r.published.Load(), Acked: r.acked.Load(),
		PublishFailed: r.publishFailed.Load(), Unpublished: r.unpublished.Load(),
		Received: r.received.Load(), Duplicates: r.duplicates.Load(), Malformed: r.malformed.Load(), Delivered: r.delivered.Load(),
		DevicesLost: r.devicesLost.Load(), NotStarted: r.notStarted.Load(), CutShort: r.cutShort.Load(),
	}
}

func (r *recorder) snapshots() map[string]*reports.Histogram {
	out := map[string]*reports.Histogram{}
	for st, h := range r.hist {
		out[string(st)] = h.snapshot()
	}
	return out
}

func (r *recorder) nested() (failures, hostile map[string]map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := func(m map[string]map[string]int64) map[string]map[string]int64 {
		out := map[string]map[string]int64{}
		for k, in := range m {
			out[k] = map[string]int64{}
			for r, n := range in {
				out[k][r] = n
			}
		}
		return out
	}
	return cp(r.failures), cp(r.hostile)
}

func (r *recorder) clamped() int64 {
	var n int64
	for _, h := range r.hist {
		h.mu.Lock()
		n += h.clamped
		h.mu.Unlock()
	}
	return n
}
