package server

import "sync"

// Memo is a bounded, concurrency-safe map of values that never change once
// found: a full Memo forgets one entry, any one, for each one it adds.
// The key cache of noise lookups and serve's device grants use it.
type Memo[K comparable, V any] struct {
	max int

	mu sync.RWMutex
	m  map[K]V
}

// NewMemo returns a Memo of at most max entries.
func NewMemo[K comparable, V any](max int) *Memo[K, V] {
	return &Memo[K, V]{max: max, m: map[K]V{}}
}

// Get returns the value of k, if it holds one.
func (c *Memo[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[k]
	return v, ok
}

// Put holds v for k.
func (c *Memo[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

// Add holds v for k unless the Memo is full and does not hold k already;
// it reports whether it did. It fills a Memo ahead without forgetting what
// Put kept.
func (c *Memo[K, V]) Add(k K, v V) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		return false
	}
	c.m[k] = v
	return true
}

// Full reports whether the Memo holds as many entries as it may.
func (c *Memo[K, V]) Full() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m) >= c.max
}

// Len returns the number of entries held.
func (c *Memo[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
