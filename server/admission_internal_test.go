package server

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// peer is a net.Conn that only has a remote address and remembers Close.
type peer struct {
	net.Conn
	addr   *net.TCPAddr
	closed bool
}

func (p *peer) RemoteAddr() net.Addr { return p.addr }
func (p *peer) Close() error         { p.closed = true; return nil }

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
	unlimited := func(max, perSource int) *admission {
		return newAdmission(Limits{MaxHalfOpen: max, PerSourceHalfOpen: perSource})
	}
	mustAdmit := func(a *admission, c net.Conn) (*slot, *slot) {
		s, victim, refused := a.admit(c, t0)
		ExpectWithOffset(1, refused).To(BeEmpty())
		ExpectWithOffset(1, s).NotTo(BeNil())
		return s, victim
	}

	It("lets a newcomer to a full table take the oldest handshake's slot", func() {
		a := unlimited(3, 0)
		first, _ := mustAdmit(a, from("10.0.0.1"))
		second, _ := mustAdmit(a, from("10.0.0.2"))
		third, v := mustAdmit(a, from("10.0.0.3"))
		Expect(v).To(BeNil(), "a table with room evicts nobody")

		fourth, v := mustAdmit(a, from("10.0.0.4"))
		Expect(v).To(BeIdenticalTo(first))
		Expect(slots(a)).To(Equal(3))
		Expect(a.release(first)).To(Equal(ReasonEvicted), "the evicted handshake learns why when it ends")
		for _, s := range []*slot{second, third, fourth} {
			Expect(a.release(s)).To(BeEmpty())
		}
		n, sources := a.halfOpen()
		Expect([]int{n, sources}).To(Equal([]int{0, 0}))
	})

	It("lets a source's newcomer take its own oldest slot once it holds its share", func() {
		a := unlimited(10, 2)
		other, _ := mustAdmit(a, from("10.0.0.9")) // the oldest of all
		own1, _ := mustAdmit(a, from("10.0.0.1"))
		_, _ = mustAdmit(a, from("10.0.0.1"))
		_, v := mustAdmit(a, from("10.0.0.1"))
		Expect(v).To(BeIdenticalTo(own1), "its own oldest, not the table's oldest")
		Expect(a.release(own1)).To(Equal(ReasonEvictedSource))
		Expect(a.release(other)).To(BeEmpty())
	})

	It("keeps a one-source flood of 1,100 sockets to its share, leaving the rest of the table to others", func() {
		a := unlimited(1024, 128)
		evicted := 0
		for range 1100 {
			_, v := mustAdmit(a, from("127.0.0.1"))
			if v != nil {
				Expect(v.evicted).To(Equal(ReasonEvictedSource))
				evicted++
			}
		}
		Expect(evicted).To(Equal(1100 - 128))
		Expect(slots(a)).To(Equal(128))
		for i := range 896 {
			_, v := mustAdmit(a, from(netip.AddrFrom4([4]byte{127, 0, 1, byte(i % 200)}).String()))
			Expect(v).To(BeNil(), "newcomer %d from another source evicted a handshake while the table had room", i)
		}
	})

	It("evicts the slowest handshakes of a many-source flood, never one younger than the table's turnover", func() {
		a := unlimited(64, 4)
		legit, _ := mustAdmit(a, from("192.0.2.1"))
		// 63 attackers fill the table after the legitimate handshake...
		for i := range 63 {
			mustAdmit(a, from(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()))
		}
		// ...and 64 more arrivals are needed before it is the oldest.
		_, v := mustAdmit(a, from("203.0.113.1"))
		Expect(v).To(BeIdenticalTo(legit))
		Expect(a.release(legit)).To(Equal(ReasonEvicted))
	})

	It("refuses a source over its rate before it takes or evicts a slot", func() {
		a := newAdmission(Limits{MaxHalfOpen: 4, PerSourceHalfOpen: 4, PerSourceRate: 10, PerSourceBurst: 3})
		var held []*slot
		for range 3 {
			s, _, refused := a.admit(from("10.0.0.1"), t0)
			Expect(refused).To(BeEmpty())
			held = append(held, s)
		}
		s, v, refused := a.admit(from("10.0.0.1"), t0)
		Expect(refused).To(Equal(ReasonRateLimited))
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
		Expect(refused).To(Equal(ReasonRateLimited))
		for _, s := range held {
			Expect(a.release(s)).NotTo(Equal(ReasonRateLimited))
		}
	})

	It("keeps the invariants under any order of arrivals and departures", func() {
		r := rand.New(rand.NewPCG(13, 2))
		const max, share = 50, 7
		a := unlimited(max, share)
		var live []*slot
		for range 20000 {
			if len(live) > 0 && r.IntN(3) == 0 {
				i := r.IntN(len(live))
				s := live[i]
				live[i], live = live[len(live)-1], live[:len(live)-1]
				if a.release(s) != "" {
					Expect(s.conn.(*peer).closed).To(BeFalse(), "the caller closes a victim's conn, not admit")
				}
				continue
			}
			// Sources 0-3 are heavy, the rest take one slot now and then.
			src := r.IntN(4)
			if r.IntN(2) == 0 {
				src = 4 + r.IntN(200)
			}
			before := map[netip.Addr]int{}
			for k, l := range a.sources {
				before[k] = l.Len()
			}
			full := a.all.Len() == max
			c := from(netip.AddrFrom4([4]byte{10, 1, byte(src >> 8), byte(src)}).String())
			s, v := mustAdmit(a, c)
			if v != nil {
				if before[s.src] >= share {
					Expect(v.src).To(Equal(s.src))
					Expect(v.evicted).To(Equal(ReasonEvictedSource))
				} else {
					Expect(full).To(BeTrue())
					Expect(v.evicted).To(Equal(ReasonEvicted))
				}
			} else {
				Expect(full && before[s.src] < share).To(BeFalse(), "a full table let a newcomer in without evicting")
			}
			live = append(live, s)
			Expect(a.all.Len()).To(BeNumerically("<=", max))
			n := 0
			for _, l := range a.sources {
				Expect(l.Len()).To(BeNumerically("<=", share))
				Expect(l.Len()).To(BeNumerically(">", 0))
				n += l.Len()
			}
			Expect(n).To(Equal(a.all.Len()))
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
