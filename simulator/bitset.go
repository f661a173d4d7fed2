package simulator

import "sync/atomic"

// bitset is a fixed set of flags safe for concurrent use: one per message
// of the shard (slot index × messages per device + sequence number).
type bitset struct {
	n     int
	words []atomic.Uint64
}

func newBitset(n int) *bitset { return &bitset{n: n, words: make([]atomic.Uint64, (n+63)/64)} }

func (b *bitset) len() int { return b.n }

// set raises bit i and reports whether it was down before.
func (b *bitset) set(i int) bool {
	mask := uint64(1) << (i % 64)
	return b.words[i/64].Or(mask)&mask == 0
}

func (b *bitset) get(i int) bool { return b.words[i/64].Load()&(uint64(1)<<(i%64)) != 0 }
