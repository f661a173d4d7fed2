package registry

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxPendingSeen is how many devices' notes trigger a flush before the
// interval ends.
const maxPendingSeen = 4096

// seenBatcher keeps TouchLastSeen notes in memory and writes them in one
// transaction per LastSeenFlushInterval, so that a note costs a map update.
type seenBatcher struct {
	b    backend
	kick chan struct{} // buffered 1: a flush is due before the tick
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	pending map[string]int64 // device ID → Unix microseconds
	err     error            // the first failed flush
}

func startSeenBatcher(b backend) *seenBatcher {
	s := &seenBatcher{b: b, kick: make(chan struct{}, 1), stop: make(chan struct{}), pending: map[string]int64{}}
	s.wg.Add(1)
	go s.run()
	return s
}

func (s *seenBatcher) note(id string, us int64) {
	s.mu.Lock()
	if us > s.pending[id] {
		s.pending[id] = us
	}
	n := len(s.pending)
	s.mu.Unlock()
	if n >= maxPendingSeen {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func (s *seenBatcher) run() {
	defer s.wg.Done()
	tick := time.NewTicker(LastSeenFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		case <-s.kick:
		}
		s.flush()
	}
}

// flush writes the pending notes. Notes of a failed flush are dropped: a
// last-seen time is a hint, and the next handshake renews it.
func (s *seenBatcher) flush() {
	s.mu.Lock()
	p := s.pending
	s.pending = make(map[string]int64, len(p))
	s.mu.Unlock()
	if len(p) == 0 {
		return
	}
	// In ID order, as the counter committer locks rows.
	ids := make([]string, 0, len(p))
	for id := range p {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	args := make([][]any, len(ids))
	for i, id := range ids {
		args[i] = []any{id, p[id]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
	defer cancel()
	if _, err := s.b.execBatch(ctx, touchSQL, args); err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = fmt.Errorf("registry: writing last-seen times: %w", err)
		}
		s.mu.Unlock()
	}
}

// close stops the writer, flushes what is pending and returns the first
// flush error.
func (s *seenBatcher) close() error {
	close(s.stop)
	s.wg.Wait()
	s.flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
