package server

import (
	"container/list"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"shakedown/handshake"
)

// admission decides which accepted connections may start a handshake, and
// keeps the half-open table: every handshake in progress, oldest first.
//
// A full table does not refuse newcomers as long as one of its handshakes
// waits for its peer: "first come, only served" would hand the server to
// whoever fills the table first and keeps it full, which one address can
// do with a thousand sockets that send one byte each. A newcomer instead
// takes the slot of the oldest handshake that is blocked reading from its
// peer (evicted). A legitimate handshake waits for its peer for a round
// trip at most; slots held on purpose wait for ever, so they are the
// oldest waiting, and go first. To evict a legitimate handshake, an
// attacker must open MaxHalfOpen connections within one round trip of it.
//
// A handshake the server is working on (reading the registry, computing,
// writing) is never evicted: that would waste the work and punish a fleet
// for the server's own slowness. When every slot is such work, the server
// is overloaded, and the newcomer is refused (half_open_full).
//
// The rate limit (PerSourceRate, per source: sourceOf) comes first: a
// refused connection takes no slot and evicts nothing.
type admission struct {
	max  int // the table's size
	rate *sourceRate

	mu  sync.Mutex
	all list.List // of *slot, oldest first
}

// slot is one handshake in progress.
type slot struct {
	conn    net.Conn
	inAll   *list.Element
	waiting atomic.Bool // blocked reading from its peer (slotConn)
	evicted bool        // under admission.mu
}

func newAdmission(l Limits) *admission {
	return &admission{max: l.MaxHalfOpen, rate: newSourceRate(l.PerSourceRate, l.PerSourceBurst)}
}

// admit gives conn a slot, or says why it is refused. When the slot was
// taken from another handshake, victim is that handshake's slot: the
// caller closes its conn, and its handshake learns why at release.
func (a *admission) admit(conn net.Conn, now time.Time) (s, victim *slot, refused handshake.Reason) {
	if !a.rate.allow(sourceOf(conn.RemoteAddr()), now) {
		return nil, nil, handshake.ReasonRateLimited
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.all.Len() >= a.max {
		if victim = a.oldestWaiting(); victim == nil {
			return nil, nil, handshake.ReasonHalfOpenFull
		}
		victim.evicted = true
		a.all.Remove(victim.inAll)
	}
	s = &slot{conn: conn}
	s.inAll = a.all.PushBack(s)
	return s, victim, ""
}

// oldestWaiting returns the oldest slot waiting for its peer, or nil; a.mu
// is held. Under a flood the oldest slots wait, so the walk is short; it
// runs to the end only when the server is busy with every slot.
func (a *admission) oldestWaiting() *slot {
	for e := a.all.Front(); e != nil; e = e.Next() {
		if s := e.Value.(*slot); s.waiting.Load() {
			return s
		}
	}
	return nil
}

// release ends s's hold on the table when its handshake is over, and
// reports whether s had been evicted instead.
func (a *admission) release(s *slot) (evicted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.evicted {
		return true
	}
	a.all.Remove(s.inAll)
	return false
}

// halfOpen returns the number of handshakes in progress, and of those
// waiting for their peer.
func (a *admission) halfOpen() (handshakes, waiting int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for e := a.all.Front(); e != nil; e = e.Next() {
		if e.Value.(*slot).waiting.Load() {
			waiting++
		}
	}
	return a.all.Len(), waiting
}

// slotConn is the conn a handshake runs on: it marks its slot as waiting
// while a Read blocks for the peer's bytes.
type slotConn struct {
	net.Conn
	s *slot
}

func (c slotConn) Read(b []byte) (int, error) {
	c.s.waiting.Store(true)
	n, err := c.Conn.Read(b)
	c.s.waiting.Store(false)
	return n, err
}
