package simulator

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"shakedown/reports"
)

// secCount names a count of a second (reports.SimSecond).
type secCount int

const (
	secConnects secCount = iota
	secPublishes
	secAcks
	secReceived
	secFailures
	secDelivered
)

// seconds records a run second by second on the wall clock: what completed
// in each second and the latencies of the steps that ended in it. Only the
// open second holds full histograms; a second is kept sparse once it is
// over, so a long run costs memory for the latencies it saw, not for its
// length. After reports.MaxSeconds seconds it keeps no more (full).
type seconds struct {
	mu     sync.Mutex
	sealed []reports.SimSecond
	open   reports.SimSecond
	counts [secDelivered + 1]int64
	hist   map[Stage]*hdrhistogram.Histogram // the open second's
	used   bool                              // the open second has something
	// The devices connected as last reported, and the fewest of the open
	// second (it starts at what the second before ended with).
	connected, connectedMin int64
	full                    bool
}

func newSeconds() *seconds {
	s := &seconds{hist: map[Stage]*hdrhistogram.Histogram{}}
	for _, st := range Stages {
		s.hist[st] = reports.NewSecondHDR()
	}
	return s
}

// rollLocked makes the second of now the open one.
func (s *seconds) rollLocked(now time.Time) bool {
	at := now.Unix()
	switch {
	case s.full:
		return false
	case !s.used:
		s.open.At, s.connectedMin = at, s.connected
	case at > s.open.At: // a clock stepped back keeps the open second
		s.sealLocked()
		s.open.At, s.connectedMin = at, s.connected
	}
	s.used = true
	return true
}

// sealLocked moves the open second to the sealed ones.
func (s *seconds) sealLocked() {
	if !s.used {
		return
	}
	s.sealed = append(s.sealed, s.snapshotLocked())
	s.counts = [secDelivered + 1]int64{}
	for _, h := range s.hist {
		h.Reset()
	}
	s.used = false
	if len(s.sealed) >= reports.MaxSeconds {
		s.full = true
	}
}

// snapshotLocked is the open second as results hold it.
func (s *seconds) snapshotLocked() reports.SimSecond {
	sec := reports.SimSecond{At: s.open.At, Connects: s.counts[secConnects], Publishes: s.counts[secPublishes],
		Acks: s.counts[secAcks], Received: s.counts[secReceived], Failures: s.counts[secFailures], Delivered: s.counts[secDelivered],
		ConnectedMin: s.connectedMin}
	for st, h := range s.hist {
		if h.TotalCount() == 0 {
			continue
		}
		if sec.Latency == nil {
			sec.Latency = map[string]*reports.SecondHistogram{}
		}
		sec.Latency[string(st)] = reports.SecondHistogramOf(h)
	}
	return sec
}

// add counts n of c in the current second.
func (s *seconds) add(c secCount, n int64) { s.addAt(time.Now(), c, n) }

// addAt counts n of c in the second of now.
func (s *seconds) addAt(now time.Time, c secCount, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rollLocked(now) {
		s.counts[c] += n
	}
}

// connectedAt notes that n devices are connected at now: the gauge of
// reports.SimSecond.ConnectedMin. Every change of the count is noted, so a
// second's figure is the fewest the count went down to in it.
func (s *seconds) connectedAt(now time.Time, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollLocked(now)
	s.connected, s.connectedMin = n, min(s.connectedMin, n)
}

// tick opens the second of now, so that a second in which nothing
// happened still holds the gauge; the sampler calls it.
func (s *seconds) tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollLocked(now)
}

// observe records a latency of stage st in the current second.
func (s *seconds) observe(st Stage, d time.Duration) { s.observeAt(time.Now(), st, d) }

// observeAt records a latency of stage st in the second of now.
func (s *seconds) observeAt(now time.Time, st Stage, d time.Duration) {
	v := min(max(int64(d/time.Microsecond), reports.SecondLowest), reports.SecondHighest)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rollLocked(now) {
		s.hist[st].RecordValue(v) // in range by construction
	}
}

// all returns every second so far, the open one included.
func (s *seconds) all() []reports.SimSecond {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]reports.SimSecond(nil), s.sealed...)
	if s.used {
		out = append(out, s.snapshotLocked())
	}
	return out
}

// window returns the latencies of the seconds from the Unix second from
// on, the open one included, merged by stage.
func (s *seconds) window(from int64) map[Stage]*hdrhistogram.Histogram {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[Stage]*hdrhistogram.Histogram{}
	add := func(st Stage, h *hdrhistogram.Histogram) {
		if out[st] == nil {
			out[st] = reports.NewSecondHDR()
		}
		out[st].Merge(h) // equal geometry: nothing is dropped
	}
	for i := len(s.sealed) - 1; i >= 0 && s.sealed[i].At >= from; i-- {
		for st, h := range s.sealed[i].Latency {
			add(Stage(st), h.HDR())
		}
	}
	if s.used && s.open.At >= from {
		for st, h := range s.hist {
			if h.TotalCount() > 0 {
				add(st, h)
			}
		}
	}
	return out
}
