package server

import (
	"container/list"
	"net"
	"net/netip"
	"sync"
	"time"

	"shakedown/handshake"
)

// Reasons the gateway adds to the handshake reasons: why a connection was
// refused at accept, or why its handshake was ended to make room.
const (
	// ReasonRateLimited: the source started more handshakes than
	// Limits.PerSourceRate allows; refused at accept.
	ReasonRateLimited handshake.Reason = "rate_limited"
	// ReasonEvicted: the half-open table was full (Limits.MaxHalfOpen) and
	// this handshake was its oldest: a newcomer took its slot.
	ReasonEvicted handshake.Reason = "evicted"
	// ReasonEvictedSource: the source held its whole share of the table
	// (Limits.PerSourceHalfOpen) and this was its oldest handshake: the
	// same source's newcomer took its slot.
	ReasonEvictedSource handshake.Reason = "evicted_source"
)

// admission decides which accepted connections may start a handshake, and
// keeps the half-open table: every handshake in progress, oldest first, as
// a whole and per source (sourceOf).
//
// A full table does not refuse newcomers: "first come, only served" would
// hand the server to whoever fills the table first and keeps it full, which
// one address can do with a thousand sockets that send one byte each. A
// newcomer instead takes the slot of an old handshake:
//
//   - When its source already holds PerSourceHalfOpen slots, its own
//     source's oldest handshake makes room (evicted_source). One source can
//     never hold more than its share, and a legitimate device behind the
//     same address as a flood still gets turns.
//   - Otherwise, when the table is full, the oldest handshake of all makes
//     room (evicted). A legitimate handshake needs its slot for a round
//     trip and a few milliseconds of work; slots held on purpose are held
//     long, so they are the oldest, and they go first. To evict a
//     legitimate handshake, an attacker must open MaxHalfOpen connections
//     within that handshake's lifetime.
//
// The rate limit (PerSourceRate) comes first: a refused connection takes
// no slot and evicts nothing.
type admission struct {
	max       int // the table's size
	perSource int // the most slots of one source; 0: no share
	rate      *sourceRate

	mu      sync.Mutex
	all     list.List                 // of *slot, oldest first
	sources map[netip.Addr]*list.List // of *slot per source, oldest first
}

// slot is one handshake in progress.
type slot struct {
	conn    net.Conn
	src     netip.Addr
	inAll   *list.Element
	inSrc   *list.Element
	evicted handshake.Reason // why the slot was taken; under admission.mu
}

func newAdmission(l Limits) *admission {
	return &admission{
		max: l.MaxHalfOpen, perSource: l.PerSourceHalfOpen,
		rate:    newSourceRate(l.PerSourceRate, l.PerSourceBurst),
		sources: map[netip.Addr]*list.List{},
	}
}

// admit gives conn a slot, or says why it is refused. When the slot was
// taken from another handshake, victim is that handshake's slot: the
// caller closes its conn, and its handshake learns why at release.
func (a *admission) admit(conn net.Conn, now time.Time) (s, victim *slot, refused handshake.Reason) {
	src := sourceOf(conn.RemoteAddr())
	if !a.rate.allow(src, now) {
		return nil, nil, ReasonRateLimited
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	own := a.sources[src]
	switch {
	case own != nil && a.perSource > 0 && own.Len() >= a.perSource:
		victim = a.evict(own.Front().Value.(*slot), ReasonEvictedSource)
	case a.all.Len() >= a.max:
		victim = a.evict(a.all.Front().Value.(*slot), ReasonEvicted)
	}
	if own = a.sources[src]; own == nil {
		own = list.New()
		a.sources[src] = own
	}
	s = &slot{conn: conn, src: src}
	s.inAll = a.all.PushBack(s)
	s.inSrc = own.PushBack(s)
	return s, victim, ""
}

// release ends s's hold on the table when its handshake is over. It
// returns the reason s was evicted, or "" when s still held its slot.
func (a *admission) release(s *slot) handshake.Reason {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.evicted != "" {
		return s.evicted
	}
	a.remove(s)
	return ""
}

// evict takes s's slot away for reason; a.mu is held.
func (a *admission) evict(s *slot, reason handshake.Reason) *slot {
	s.evicted = reason
	a.remove(s)
	return s
}

// remove takes s out of the table; a.mu is held.
func (a *admission) remove(s *slot) {
	a.all.Remove(s.inAll)
	own := a.sources[s.src]
	own.Remove(s.inSrc)
	if own.Len() == 0 {
		delete(a.sources, s.src)
	}
}

// halfOpen returns the number of handshakes in progress and of sources
// holding them.
func (a *admission) halfOpen() (slots, sources int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.all.Len(), len(a.sources)
}
