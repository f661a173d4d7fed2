package simulator_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
	"shakedown/simulator"
)

// plainBroker is a mochi broker on plain MQTT that lets every client in.
func plainBroker() (addr string, stop func()) {
	srv := mqttserver.New(&mqttserver.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	Expect(srv.AddHook(new(allowAll), nil)).To(Succeed())
	addr = freeAddr()
	Expect(srv.AddListener(listeners.NewTCP(listeners.Config{ID: "plain", Address: addr}))).To(Succeed())
	Expect(srv.Serve()).To(Succeed())
	return addr, func() { Expect(srv.Close()).To(Succeed()) }
}

// admission is a synthetic target whose limit is known: a proxy in front
// of a broker that admits at most perSecond connections a second (a token
// bucket holding burst tokens) and closes the others at once.
type admission struct {
	*proxy
	perSecond, burst float64

	mu       sync.Mutex
	tokens   float64
	last     time.Time
	refused  int
	admitted int
}

func startAdmission(target string, perSecond, burst float64) *admission {
	a := &admission{perSecond: perSecond, burst: burst, tokens: burst, last: time.Now()}
	a.proxy = startProxyWith(target, a.admit)
	return a
}

// admit takes a token for a connection accepted now, if there is one.
func (a *admission) admit() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	a.tokens = min(a.burst, a.tokens+now.Sub(a.last).Seconds()*a.perSecond)
	a.last = now
	if a.tokens < 1 {
		a.refused++
		return false
	}
	a.tokens--
	a.admitted++
	return true
}

var _ = Describe("a capacity search", func() {
	It("finds the known limit of a synthetic target within 10 %", func() {
		broker, stop := plainBroker()
		defer stop()
		// 100 connects a second, with a fifth of a second of burst for the
		// jitter of a loaded machine: 4 s steps admit up to 105 a second.
		const limit = 100.0
		target := startAdmission(broker, limit, limit/5)
		defer target.close()

		sc := simulator.DefaultScenario()
		sc.Target = simulator.TargetBroker
		sc.Broker = simulator.Broker{Addr: target.addr(), ClientID: "cap-{n}"}
		sc.Hold, sc.PublishInterval = 200*time.Millisecond, 0
		sc.Subscriptions = nil
		sc.Timeouts = simulator.Timeouts{Handshake: 30 * time.Second, Ack: 30 * time.Second, Drain: time.Second}
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		res, err := simulator.Capacity(ctx, simulator.CapacityConfig{Config: simulator.Config{Scenario: sc},
			Vary: reports.VaryConnect, Start: 25, Step: 4 * time.Second, Out: io.MultiWriter(&out, GinkgoWriter)})
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("capacity search against 100 connects/s", out.String()+fmt.Sprintf("the target admitted %d, refused %d", target.admitted, target.refused))
		cp := res.Capacity
		Expect(cp).NotTo(BeNil())
		Expect(cp.Knee).To(BeNumerically("~", limit, limit/10))
		Expect(cp.Note).To(BeEmpty())
		Expect(res.Interrupted).To(BeFalse())
		Expect(res.Scenario.Rate).To(Equal(cp.Knee), "the results are the knee's step")

		var held, failed int
		for _, st := range cp.Steps {
			if st.Held {
				held++
				Expect(st.Rate).To(BeNumerically("<=", cp.Knee))
				Expect(st.Errors).To(BeZero())
			} else {
				failed++
				Expect(st.Rate).To(BeNumerically(">", cp.Knee))
				Expect(st.Failed).NotTo(BeEmpty())
			}
		}
		Expect(held).To(BeNumerically(">=", 3), "25, 50 and 100 a second hold")
		Expect(failed).To(BeNumerically(">=", 1))
		Expect(out.String()).To(ContainSubstring("FAILED"))
		Expect(cp.Thresholds).To(ContainElement("devices_lost==0"))

		By("writing the curve into results that read back")
		var buf bytes.Buffer
		Expect(res.Encode(&buf)).To(Succeed())
		back, err := simulator.DecodeResults(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Capacity).To(Equal(cp))
	})

	It("ends when interrupted, with the steps so far", func() {
		broker, stop := plainBroker()
		defer stop()
		sc := simulator.DefaultScenario()
		sc.Target = simulator.TargetBroker
		sc.Broker = simulator.Broker{Addr: broker, ClientID: "int-{n}"}
		sc.Hold, sc.PublishInterval = 0, 0 // every step is held until interrupted
		sc.Subscriptions = nil
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan *simulator.Results, 1)
		go func() {
			defer GinkgoRecover()
			res, err := simulator.Capacity(ctx, simulator.CapacityConfig{Config: simulator.Config{Scenario: sc},
				Vary: reports.VaryConnect, Start: 10, Step: time.Second})
			Expect(err).NotTo(HaveOccurred())
			done <- res
		}()
		Consistently(done).WithTimeout(1500 * time.Millisecond).ShouldNot(Receive())
		cancel()
		var res *simulator.Results
		Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&res))
		Expect(res.Interrupted).To(BeTrue())
		Expect(res.Capacity.Steps).To(BeEmpty())
		Expect(res.Capacity.Knee).To(BeZero())
	})

	DescribeTable("refuses a search it cannot run",
		func(change func(*simulator.CapacityConfig)) {
			c := simulator.CapacityConfig{Config: simulator.Config{Scenario: simulator.DefaultScenario()}, Vary: reports.VaryConnect, Start: 10, Step: time.Second}
			change(&c)
			_, err := simulator.Capacity(context.Background(), c)
			Expect(err).To(MatchError(simulator.ErrCapacity))
		},
		Entry("nothing to vary", func(c *simulator.CapacityConfig) { c.Vary = "" }),
		Entry("no start rate", func(c *simulator.CapacityConfig) { c.Start = 0 }),
		Entry("a step under a second", func(c *simulator.CapacityConfig) { c.Step = time.Millisecond }),
		Entry("a factor of 1", func(c *simulator.CapacityConfig) { c.Factor = 1 }),
		Entry("a precision of 1", func(c *simulator.CapacityConfig) { c.Precision = 1 }),
	)
})
