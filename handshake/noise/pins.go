package noise

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/flynn/noise"
)

// Pins is a device's set of pinned server static public keys: the current
// key and, once the server announced one, the next key. It is safe for
// concurrent use.
type Pins struct {
	mu       sync.Mutex
	current  []byte
	next     []byte
	onChange func(Announcement)
}

// NewPins pins current and, optionally, next.
func NewPins(current []byte, next ...[]byte) (*Pins, error) {
	if len(current) != KeyLen || allZero(current) {
		return nil, errors.New("noise: a pinned key is 32 non-zero bytes")
	}
	p := &Pins{current: bytes.Clone(current)}
	if len(next) > 0 && next[0] != nil {
		if len(next[0]) != KeyLen {
			return nil, errors.New("noise: a pinned key is 32 non-zero bytes")
		}
		p.next = bytes.Clone(next[0])
	}
	return p, nil
}

// OnChange registers f to be called (under the Pins' lock) whenever an
// announcement changes the pinned set, so a device can persist it.
func (p *Pins) OnChange(f func(Announcement)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onChange = f
}

// Preferred is the key a handshake targets: the announced next key once
// there is one (the server accepts it from its announcement on), else the
// current key.
func (p *Pins) Preferred() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next != nil {
		return p.next
	}
	return p.current
}

// Keys returns the pinned keys: current, then next when present.
func (p *Pins) Keys() Announcement {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Announcement{Current: p.current, Next: p.next}
}

// apply pins the keys of an announcement that arrived in an authenticated
// message 2.
func (p *Pins) apply(a Announcement) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if bytes.Equal(p.current, a.Current) && bytes.Equal(p.next, a.Next) {
		return
	}
	p.current, p.next = a.Current, a.Next
	if p.onChange != nil {
		p.onChange(a)
	}
}

// Counter hands out a device's message-1 counter values. Next must never
// return a value twice, across resets too: a real device persists the value
// before it is used.
type Counter interface {
	Next() (uint64, error)
}

// MemCounter is an in-memory Counter for simulated devices whose lifetime is
// one process. The first value is Start+1.
type MemCounter struct {
	mu   sync.Mutex
	last uint64
}

// NewMemCounter returns a counter whose next value is start+1.
func NewMemCounter(start uint64) *MemCounter {
	return &MemCounter{last: start}
}

// Next returns the next value; past MaxCounter it fails.
func (c *MemCounter) Next() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last >= MaxCounter {
		return 0, errors.New("noise: counter exhausted")
	}
	c.last++
	return c.last, nil
}

// ServerKeys are the server's static keypairs: Current, and Next while a
// rollover is announced.
type ServerKeys struct {
	Current noise.DHKey
	Next    noise.DHKey // zero when no next key is announced
}

func (k ServerKeys) announcement() Announcement {
	a := Announcement{Current: k.Current.Public}
	if len(k.Next.Public) == KeyLen {
		a.Next = k.Next.Public
	}
	return a
}

// candidates lists the keypairs a handshake may target, current first.
func (k ServerKeys) candidates() []noise.DHKey {
	if len(k.Next.Private) == KeyLen {
		return []noise.DHKey{k.Current, k.Next}
	}
	return []noise.DHKey{k.Current}
}

// KeyRing holds the server keys a server uses; Set swaps them atomically
// (a rollover announcement or promotion) without stopping handshakes.
type KeyRing struct{ v atomic.Pointer[ServerKeys] }

// NewKeyRing returns a ring holding k.
func NewKeyRing(k ServerKeys) *KeyRing {
	r := &KeyRing{}
	r.Set(k)
	return r
}

// Set replaces the keys.
func (r *KeyRing) Set(k ServerKeys) { r.v.Store(&k) }

// Get returns the keys.
func (r *KeyRing) Get() ServerKeys { return *r.v.Load() }

// GenerateKeypair returns a new X25519 keypair from random (crypto/rand when nil).
func GenerateKeypair(random io.Reader) (noise.DHKey, error) {
	return dh25519{}.GenerateKeypair(random)
}
