package server

import (
	"net"
	"sync"
	"time"
)

// sourceRate is a token bucket per source IP address.
type sourceRate struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sourceRateMaxIdle is how long an idle bucket is kept.
const sourceRateMaxIdle = time.Minute

func newSourceRate(rate float64, burst int) *sourceRate {
	if burst < 1 {
		burst = 1
	}
	return &sourceRate{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

func (s *sourceRate) allow(addr net.Addr) bool {
	if s.rate <= 0 {
		return true
	}
	host := addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok {
		host = ta.IP.String()
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > sourceRateMaxIdle {
		for k, b := range s.buckets {
			if now.Sub(b.last) > sourceRateMaxIdle {
				delete(s.buckets, k)
			}
		}
		s.swept = now
	}
	b, ok := s.buckets[host]
	if !ok {
		b = &bucket{tokens: s.burst, last: now}
		s.buckets[host] = b
	}
	b.tokens = min(s.burst, b.tokens+now.Sub(b.last).Seconds()*s.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
