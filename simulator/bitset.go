package simulator

import (
	"math/bits"
	"sync/atomic"
)

// bitset is a set of flags safe for concurrent use: one per message of the
// shard (msgIndex). Its words come in chunks made on first use, so a fleet
// that may publish many messages (--hold 0) costs memory only for the ones
// it did publish.
type bitset struct {
	n      int
	chunks []atomic.Pointer[bitChunk]
}

// chunkWords is the words of a chunk: 65,536 flags.
const chunkWords = 1024

type bitChunk [chunkWords]atomic.Uint64

func newBitset(n int) *bitset {
	return &bitset{n: n, chunks: make([]atomic.Pointer[bitChunk], (n+chunkWords*64-1)/(chunkWords*64))}
}

// word returns the word of flag i, making its chunk when make is set; nil
// when the chunk does not exist and make is not set.
func (b *bitset) word(i int, make bool) *atomic.Uint64 {
	w := i / 64
	p := &b.chunks[w/chunkWords]
	c := p.Load()
	if c == nil {
		if !make {
			return nil
		}
		p.CompareAndSwap(nil, new(bitChunk))
		c = p.Load()
	}
	return &c[w%chunkWords]
}

// set raises flag i and reports whether it was down before.
func (b *bitset) set(i int) bool {
	mask := uint64(1) << (i % 64)
	return b.word(i, true).Or(mask)&mask == 0
}

func (b *bitset) get(i int) bool {
	w := b.word(i, false)
	return w != nil && w.Load()&(uint64(1)<<(i%64)) != 0
}

// countAndNot counts the flags raised in b and down in o (of the same size).
func (b *bitset) countAndNot(o *bitset) int64 {
	var n int64
	for ci := range b.chunks {
		c := b.chunks[ci].Load()
		if c == nil {
			continue
		}
		oc := o.chunks[ci].Load()
		for wi := range c {
			w := c[wi].Load()
			if oc != nil {
				w &^= oc[wi].Load()
			}
			n += int64(bits.OnesCount64(w))
		}
	}
	return n
}
