package simulator_test

import (
	"math"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/simulator"
)

var _ = Describe("the arrival schedule", func() {
	It("spaces arrivals at 1/rate without a ramp", func() {
		sc := simulator.DefaultScenario()
		sc.Rate = 250
		for i := range 1000 {
			Expect(sc.Arrival(i)).To(BeNumerically("~", time.Duration(i)*4*time.Millisecond, time.Microsecond))
		}
	})

	It("starts every slot at once at rate 0", func() {
		sc := simulator.DefaultScenario()
		sc.Rate = 0
		Expect(sc.Arrival(0)).To(BeZero())
		Expect(sc.Arrival(99999)).To(BeZero())
	})

	It("ramps the rate up linearly, then holds it", func() {
		sc := simulator.DefaultScenario()
		sc.Rate, sc.Ramp = 100, 10*time.Second
		// 100/s reached after 10 s: 500 arrivals in the ramp (the triangle).
		Expect(sc.Arrival(500)).To(BeNumerically("~", 10*time.Second, time.Microsecond))
		Expect(sc.Arrival(600)).To(BeNumerically("~", 11*time.Second, time.Microsecond))
		// N(t) = rate·t²/(2·ramp): 125 arrivals by 5 s.
		Expect(sc.Arrival(125)).To(BeNumerically("~", 5*time.Second, time.Microsecond))
		prev, prevGap := time.Duration(0), time.Duration(math.MaxInt64)
		for i := 1; i <= 500; i++ {
			at := sc.Arrival(i)
			gap := at - prev
			Expect(gap).To(BeNumerically(">", 0))
			Expect(gap).To(BeNumerically("<=", prevGap), "gaps shrink while the rate rises")
			prev, prevGap = at, gap
		}
	})
})

var _ = Describe("the fleet plan", func() {
	plan := func(devices int, mix map[string]float64, share float64) []simulator.Slot {
		sc := simulator.DefaultScenario()
		sc.Devices, sc.Mix = devices, mix
		sc.Hostile.Share = share
		return sc.Plan()
	}

	It("keeps the mix's proportions in every prefix of the fleet", func() {
		mix := map[string]float64{"noise": 5, "tls": 3, "psk": 2}
		slots := plan(1000, mix, 0)
		seen := map[string]int{}
		for n, sl := range slots {
			Expect(sl.N).To(Equal(n))
			Expect(sl.Index).To(Equal(seen[sl.Kind]), "identities are dealt in order")
			seen[sl.Kind]++
			for k, w := range mix {
				Expect(float64(seen[k])).To(BeNumerically("~", float64(n+1)*w/10, 1), "kind %s after %d slots", k, n+1)
			}
		}
		Expect(simulator.KindCounts(slots)).To(Equal(map[string]int{"noise": 500, "tls": 300, "psk": 200}))
	})

	It("spreads the hostile share evenly and deals its kinds in turn", func() {
		slots := plan(1000, map[string]float64{"noise": 1}, 0.07)
		hostile := 0
		var kinds []string
		for n, sl := range slots {
			if sl.Hostile != "" {
				hostile++
				kinds = append(kinds, sl.Hostile)
			}
			Expect(hostile).To(Equal(int(math.Floor(float64(n+1) * 0.07))))
		}
		Expect(hostile).To(Equal(70))
		for i, k := range kinds {
			Expect(k).To(Equal(simulator.HostileKinds[i%3]))
		}
	})

	It("depends on the scenario alone", func() {
		a := plan(500, map[string]float64{"noise": 1, "seed": 2}, 0.1)
		b := plan(500, map[string]float64{"noise": 1, "seed": 2}, 0.1)
		Expect(a).To(Equal(b))
	})
})

var _ = Describe("shards", func() {
	It("partition the fleet", func() {
		for _, n := range []int{1, 2, 3, 4, 7} {
			owners := make([]int, 1000)
			total := 0
			for i := range n {
				s := simulator.Shard{Index: i, Count: n}
				owned := 0
				for slot := range owners {
					if s.Owns(slot) {
						owners[slot]++
						owned++
					}
				}
				Expect(s.Slots(1000)).To(Equal(owned))
				total += owned
			}
			Expect(total).To(Equal(1000))
			Expect(owners).To(HaveEach(1))
		}
		Expect(simulator.Shard{Index: 5, Count: 8}.Slots(3)).To(BeZero())
	})

	DescribeTable("parse i/n",
		func(in string, want simulator.Shard, ok bool) {
			s, err := simulator.ParseShard(in)
			if !ok {
				Expect(err).To(MatchError(simulator.ErrBadShard))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(s).To(Equal(want))
			Expect(s.String()).To(Equal(in))
		},
		Entry("first of four", "0/4", simulator.Shard{Index: 0, Count: 4}, true),
		Entry("last of four", "3/4", simulator.Shard{Index: 3, Count: 4}, true),
		Entry("index past the count", "4/4", simulator.Shard{}, false),
		Entry("negative", "-1/4", simulator.Shard{}, false),
		Entry("no count", "1", simulator.Shard{}, false),
		Entry("zero shards", "0/0", simulator.Shard{}, false),
		Entry("too many", "0/10001", simulator.Shard{}, false),
		Entry("not numbers", "a/b", simulator.Shard{}, false),
	)

	It("come from a Kubernetes Indexed Job's environment", func() {
		env := map[string]string{simulator.EnvShardIndex: "2", simulator.EnvShardCount: "5"}
		s, ok, err := simulator.ShardFromEnv(func(k string) string { return env[k] })
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
		Expect(s).To(Equal(simulator.Shard{Index: 2, Count: 5}))

		delete(env, simulator.EnvShardCount)
		_, _, err = simulator.ShardFromEnv(func(k string) string { return env[k] })
		Expect(err).To(MatchError(ContainSubstring(simulator.EnvShardCount)))

		s, ok, err = simulator.ShardFromEnv(func(string) string { return "" })
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(s).To(Equal(simulator.Whole))
	})
})

var _ = DescribeTable("source address lists",
	func(in string, want []string, wantErr error) {
		got, err := simulator.ParseSourceAddrs(in)
		if wantErr != nil {
			Expect(err).To(MatchError(wantErr))
			return
		}
		Expect(err).NotTo(HaveOccurred())
		var w []netip.Addr
		for _, s := range want {
			w = append(w, netip.MustParseAddr(s))
		}
		Expect(got).To(Equal(w))
	},
	Entry("a range", "127.0.0.2-127.0.0.4", []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}, nil),
	Entry("a list and a range", "10.0.0.5, 127.0.0.9-127.0.0.10", []string{"10.0.0.5", "127.0.0.9", "127.0.0.10"}, nil),
	Entry("a range across an octet", "10.0.0.255-10.0.1.0", []string{"10.0.0.255", "10.0.1.0"}, nil),
	Entry("IPv6", "::1,fd00::1-fd00::2", []string{"::1", "fd00::1", "fd00::2"}, nil),
	Entry("a mapped IPv4 address", "::ffff:127.0.0.2", []string{"127.0.0.2"}, nil),
	Entry("backwards", "127.0.0.4-127.0.0.2", nil, simulator.ErrSourceAddrRange),
	Entry("mixed families", "127.0.0.1-::1", nil, simulator.ErrSourceAddrRange),
	Entry("a name", "localhost", nil, simulator.ErrSourceAddr),
	Entry("a zone", "fe80::1%eth0", nil, simulator.ErrSourceAddr),
	Entry("empty", " , ", nil, simulator.ErrSourceAddr),
	Entry("too many", "10.0.0.0-10.1.0.0", nil, simulator.ErrSourceAddrMany),
)
