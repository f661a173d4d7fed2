package servertest

import (
	"sync"
	"time"

	"shakedown/handshake"
	"shakedown/server"
)

// record keeps what the gateways made of each handshake.
type record struct {
	mu      sync.Mutex
	counts  map[handshake.Reason]int
	refused []handshake.Reason
}

func (r *record) add(reason handshake.Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[reason]++
	if reason != "" {
		r.refused = append(r.refused, reason)
	}
}

func (r *record) count(reason handshake.Reason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[reason]
}

func (r *record) refusals() []handshake.Reason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]handshake.Reason(nil), r.refused...)
}

// observer returns a gateway's Observer: the Server's record, then next.
func (s *Server) observer(next server.Observer) server.Observer {
	return tee{rec: s.rec, next: next}
}

// tee records every handshake and passes every event on to next (which
// may be nil), the optional ones only when next has them.
type tee struct {
	rec  *record
	next server.Observer
}

var (
	_ server.AcceptObserver    = tee{}
	_ server.TransportObserver = tee{}
)

func (t tee) Handshake(p handshake.Name, reason handshake.Reason, d time.Duration) {
	t.rec.add(reason)
	if t.next != nil {
		t.next.Handshake(p, reason, d)
	}
}

func (t tee) Session(p handshake.Name, delta int) {
	if t.next != nil {
		t.next.Session(p, delta)
	}
}

func (t tee) Bytes(p handshake.Name, in bool, n int) {
	if t.next != nil {
		t.next.Bytes(p, in, n)
	}
}

func (t tee) AcceptFailed(listener string) {
	if ao, ok := t.next.(server.AcceptObserver); ok {
		ao.AcceptFailed(listener)
	}
}

func (t tee) TransportFailed(p handshake.Name, reason handshake.Reason) {
	if to, ok := t.next.(server.TransportObserver); ok {
		to.TransportFailed(p, reason)
	}
}
