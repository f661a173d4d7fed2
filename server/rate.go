package server

import (
	"net/netip"
	"sync"
	"time"
)

// sourceRate is a token bucket per source (sourceOf): each source may start
// rate handshakes a second, and burst at once after a quiet spell.
type sourceRate struct {
	rate  float64
	burst float64
	// refill is how long an empty bucket takes to fill up again: a bucket
	// untouched for that long is full, the same as no bucket at all.
	refill time.Duration

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newSourceRate(rate float64, burst int) *sourceRate {
	if burst < 1 {
		burst = 1
	}
	s := &sourceRate{rate: rate, burst: float64(burst), buckets: map[netip.Addr]*bucket{}}
	if rate > 0 {
		s.refill = time.Duration(float64(burst) / rate * float64(time.Second))
	}
	return s
}

// allow takes a token from src's bucket, and says whether there was one.
func (s *sourceRate) allow(src netip.Addr, now time.Time) bool {
	if s.rate <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	b, ok := s.buckets[src]
	if !ok {
		b = &bucket{tokens: s.burst, last: now}
		s.buckets[src] = b
	}
	b.tokens = min(s.burst, b.tokens+now.Sub(b.last).Seconds()*s.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets, at most once per refill time, the buckets that are full
// again. Forgetting a full bucket changes nothing, so the map holds only
// the sources seen in the last two refill times, however many came before.
func (s *sourceRate) sweep(now time.Time) {
	if now.Sub(s.swept) < s.refill {
		return
	}
	for k, b := range s.buckets {
		if now.Sub(b.last) >= s.refill {
			delete(s.buckets, k)
		}
	}
	s.swept = now
}

// size returns the number of buckets held.
func (s *sourceRate) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets)
}
