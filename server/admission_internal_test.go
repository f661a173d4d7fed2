package server

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
)

// peer is a net.Conn that only has a remote address.
type peer struct {
	net.Conn
	addr *net.TCPAddr
}

func (p *peer) RemoteAddr() net.Addr { return p.addr }

func from(ip string) *peer {
	return &peer{addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 40000))}
}

// slots returns the handshakes in a's table.
func slots(a *admission) int {
	n, _ := a.halfOpen()
	return n
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var _ = Describe("admission to the half-open table", func() {
	table := func(max int) *admission { return newAdmission(Limits{MaxHalfOpen: max}) }
	mustAdmit := func(a *admission, c net.Conn) (*slot, *slot) {
		s, victim, refused := a.admit(c, t0)
		ExpectWithOffset(1, refused).To(BeEmpty())
		ExpectWithOffset(1, s).NotTo(BeNil())
		return s, victim
	}
	waiting := func(s *slot) *slot { s.waiting.Store(true); return s }

	It("lets a newcomer to a full table take the slot of the oldest handshake waiting for its peer", func() {
		a := table(4)
		busy, _ := mustAdmit(a, from("10.0.0.1")) // the oldest: the server works on it
		w1, _ := mustAdmit(a, from("10.0.0.2"))
		w2, _ := mustAdmit(a, from("10.0.0.3"))
		last, v := mustAdmit(a, from("10.0.0.4"))
		Expect(v).To(BeNil(), "a table with room evicts nobody")
		waiting(w1)
		waiting(w2)

		_, v = mustAdmit(a, from("10.0.0.5"))
		Expect(v).To(BeIdenticalTo(w1), "the oldest waiting, not the oldest")
		Expect(slots(a)).To(Equal(4))
		Expect(a.release(w1)).To(BeTrue(), "the evicted handshake learns it when it ends")
		for _, s := range []*slot{busy, w2, last} {
			Expect(a.release(s)).To(BeFalse())
		}
		Expect(slots(a)).To(Equal(1))
	})

	It("refuses a newcomer when every handshake in a full table is the server's work, and evicts none", func() {
		a := table(3)
		var held []*slot
		for i := range 3 {
			s, _ := mustAdmit(a, from(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}).String()))
			held = append(held, s)
		}
		s, v, refused := a.admit(from("10.0.1.1"), t0)
		Expect(refused).To(Equal(handshake.ReasonHalfOpenFull))
		Expect(s).To(BeNil())
		Expect(v).To(BeNil())
		for _, s := range held {
			Expect(a.release(s)).To(BeFalse(), "work in progress is never evicted")
		}
	})

	It("keeps a one-source flood of 1,100 waiting sockets from locking anyone out", func() {
		a := table(1024)
		for range 1100 {
			s, v := mustAdmit(a, from("127.0.0.1"))
			waiting(s)
			if v != nil {
				Expect(v.conn.RemoteAddr().String()).To(HavePrefix("127.0.0.1:"), "the flood evicts only itself")
			}
		}
		Expect(slots(a)).To(Equal(1024))
		for i := range 100 {
			Expect(slots(a)).To(Equal(1024), "the flood keeps the table full")
			s, v := mustAdmit(a, from(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String()))
			Expect(v).NotTo(BeNil())
			Expect(v.conn.RemoteAddr().String()).To(HavePrefix("127.0.0.1:"))
			// The legitimate handshake reads its message at once, and the
			// flood's next arrivals do not touch it while it works.
			for range 10 {
				var f *slot
				f, v = mustAdmit(a, from("127.0.0.1"))
				waiting(f)
				Expect(v).NotTo(BeIdenticalTo(s))
			}
			Expect(a.release(s)).To(BeFalse(), "legitimate handshake %d kept its slot", i)
			f, _ := mustAdmit(a, from("127.0.0.1")) // the flood takes the slot back
			waiting(f)
		}
	})

	It("evicts a legitimate handshake waiting for its peer only after a whole table of newer arrivals", func() {
		a := table(64)
		legit, _ := mustAdmit(a, from("192.0.2.1"))
		waiting(legit) // waiting for the peer's next message, one round trip
		for i := range 63 {
			s, _ := mustAdmit(a, from(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()))
			waiting(s)
		}
		_, v := mustAdmit(a, from("203.0.113.1"))
		Expect(v).To(BeIdenticalTo(legit), "64 arrivals later it is the oldest waiting")
		Expect(a.release(legit)).To(BeTrue())
	})

	It("refuses a source over its rate before it takes or evicts a slot", func() {
		a := newAdmission(Limits{MaxHalfOpen: 4, PerSourceRate: 10, PerSourceBurst: 3})
		var held []*slot
		for range 3 {
			s, _, refused := a.admit(from("10.0.0.1"), t0)
			Expect(refused).To(BeEmpty())
			held = append(held, waiting(s))
		}
		s, v, refused := a.admit(from("10.0.0.1"), t0)
		Expect(refused).To(Equal(handshake.ReasonRateLimited))
		Expect(s).To(BeNil())
		Expect(v).To(BeNil())
		Expect(slots(a)).To(Equal(3))
		// Another source has a bucket of its own; a tenth of a second
		// later the first has one token again.
		_, _, refused = a.admit(from("10.0.0.2"), t0)
		Expect(refused).To(BeEmpty())
		_, _, refused = a.admit(from("10.0.0.1"), t0.Add(100*time.Millisecond))
		Expect(refused).To(BeEmpty())
		_, _, refused = a.admit(from("10.0.0.1"), t0.Add(100*time.Millisecond))
		Expect(refused).To(Equal(handshake.ReasonRateLimited))
		for _, s := range held[1:] {
			Expect(a.release(s)).To(BeFalse())
		}
	})

	It("keeps its invariants under any order of arrivals, reads and departures", func() {
		r := rand.New(rand.NewPCG(13, 2))
		const max = 50
		a := table(max)
		var live []*slot
		for range 20000 {
			switch op := r.IntN(4); {
			case op == 0 && len(live) > 0: // a handshake ends
				i := r.IntN(len(live))
				s := live[i]
				live[i], live = live[len(live)-1], live[:len(live)-1]
				a.release(s)
				continue
			case op == 1 && len(live) > 0: // a handshake blocks reading, or gets its bytes
				s := live[r.IntN(len(live))]
				s.waiting.Store(!s.waiting.Load())
				continue
			}
			// The oldest waiting slot before the arrival, by brute force.
			var want *slot
			for e := a.all.Front(); e != nil; e = e.Next() {
				if s := e.Value.(*slot); s.waiting.Load() {
					want = s
					break
				}
			}
			full := a.all.Len() == max
			s, v, refused := a.admit(from(netip.AddrFrom4([4]byte{10, 1, 0, byte(r.IntN(256))}).String()), t0)
			switch {
			case !full:
				Expect(refused).To(BeEmpty())
				Expect(v).To(BeNil(), "a table with room evicts nobody")
			case want == nil:
				Expect(refused).To(Equal(handshake.ReasonHalfOpenFull))
			default:
				Expect(v).To(BeIdenticalTo(want))
			}
			if s != nil {
				live = append(live, s)
			}
			Expect(a.all.Len()).To(BeNumerically("<=", max))
			for e := a.all.Front(); e != nil; e = e.Next() {
				Expect(e.Value.(*slot).evicted).To(BeFalse(), "an evicted slot left the table")
			}
		}
	})
})

var _ = Describe("sources", func() {
	It("are IPv4 addresses, and IPv6 /64s", func() {
		key := func(ip string) netip.Addr { return sourceOf(from(ip).addr) }
		Expect(key("192.0.2.7")).To(Equal(netip.MustParseAddr("192.0.2.7")))
		Expect(key("::ffff:192.0.2.7")).To(Equal(key("192.0.2.7")), "an IPv4-mapped address is the IPv4 address")
		Expect(key("2001:db8:1:2:aaaa::1")).To(Equal(key("2001:db8:1:2:ffff:ffff:ffff:ffff")))
		Expect(key("2001:db8:1:2::1")).NotTo(Equal(key("2001:db8:1:3::1")))
		Expect(sourceOf(&net.UnixAddr{Name: "x", Net: "unix"})).To(Equal(netip.Addr{}))
	})
})

var _ = Describe("the per-source rate", func() {
	It("forgets only buckets that are full again, so it holds the recent sources only", func() {
		r := newSourceRate(100, 10) // a bucket refills in 100 ms
		for i := range 1000 {
			Expect(r.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0)).To(BeTrue())
		}
		Expect(r.size()).To(Equal(1000))
		hot := netip.MustParseAddr("192.0.2.1")
		for range 10 {
			Expect(r.allow(hot, t0.Add(50*time.Millisecond))).To(BeTrue())
		}
		Expect(r.allow(hot, t0.Add(100*time.Millisecond))).To(BeTrue(), "5 tokens came back in 50 ms")
		Expect(r.size()).To(Equal(1), "the 1,000 quiet sources were full again and forgotten")
		for range 4 {
			Expect(r.allow(hot, t0.Add(100*time.Millisecond))).To(BeTrue())
		}
		Expect(r.allow(hot, t0.Add(100*time.Millisecond))).To(BeFalse(), "the hot source's bucket was kept: it was not full")
	})

	It("is off at rate 0", func() {
		r := newSourceRate(0, 0)
		for range 100 {
			Expect(r.allow(netip.MustParseAddr("192.0.2.1"), t0)).To(BeTrue())
		}
		Expect(r.size()).To(BeZero())
	})
})
