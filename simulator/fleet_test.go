package simulator_test

import (
	"bytes"
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/reports"
	"shakedown/server"
	"shakedown/simulator"
)

// halfOpenDeadline is the in-process gateway's handshake deadline.
const halfOpenDeadline = 5 * time.Second

var _ = Describe("a fleet against the in-process gateway", Ordered, func() {
	var (
		set *fixtures.Set
		gw  gateway
		ctx context.Context
	)

	BeforeAll(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "simulator-fleet", DevicesPerProfile: 40, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		// A handshake deadline short enough that half-open connections
		// close within the spec, long enough that no legitimate handshake
		// meets it on a loaded machine.
		gw = startGateway(set, server.Limits{HandshakeTimeout: halfOpenDeadline, MaxHalfOpen: 1024})
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Minute)
		DeferCleanup(cancel)
	})

	AfterAll(func() { Expect(gw.Close()).To(Succeed()) })

	It("connects devices of every profile and delivers every message", func() {
		sc := gw.scenario(60)
		sc.Mix = map[string]float64{"noise": 2, "seed-p256": 1, "seed-secp160r1": 1, "psk": 1, "tls": 1}
		res := run(ctx, simulator.Config{Scenario: sc, Set: set})
		c := res.Counts
		Expect(res.Failures).To(BeEmpty())
		Expect(c.Slots).To(BeEquivalentTo(60))
		Expect(c.Connected).To(BeEquivalentTo(60))
		Expect(c.Handshakes).To(BeEquivalentTo(60))
		Expect(c.Subscribed).To(BeEquivalentTo(60))
		Expect(c.Published).To(BeEquivalentTo(60 * 3))
		Expect(c.Acked).To(Equal(c.Published))
		Expect(c.Received).To(Equal(c.Acked))
		Expect(c.Missing + c.Duplicates + c.Malformed + c.Unpublished).To(BeZero())
		for _, st := range []simulator.Stage{simulator.StageTCP, simulator.StageHandshake, simulator.StageConnack, simulator.StageConnect, simulator.StageSuback} {
			Expect(total(res, st)).To(BeEquivalentTo(60), string(st))
		}
		Expect(total(res, simulator.StagePublish)).To(BeEquivalentTo(180))
		Expect(total(res, simulator.StageEndToEnd)).To(BeEquivalentTo(180))
		Expect(res.Shards).To(HaveLen(1))
		Expect(res.Shards[0].PeakActive).To(BeNumerically(">", 0))

		By("writing its seconds, which add up to the totals")
		sum := sumSeconds(res)
		Expect(sum.Connects).To(Equal(c.Connected + c.Reconnects))
		Expect(sum.Publishes).To(Equal(c.Published))
		Expect(sum.Acks).To(Equal(c.Acked))
		Expect(sum.Received).To(Equal(c.Received))
		Expect(sum.Failures).To(BeZero())
		Expect(sum.Latency).To(HaveKeyWithValue(string(simulator.StageConnect), BeEquivalentTo(60)))
		Expect(sum.Latency).To(HaveKeyWithValue(string(simulator.StageEndToEnd), BeEquivalentTo(180)))
		ramp, _, _ := res.Phases()
		Expect(ramp.Seconds).To(BeNumerically(">", 0))
	})

	It("holds its devices until interrupted when the hold is 0, with results complete and merge-able", func() {
		sc := gw.scenario(10)
		sc.Hold = 0
		sc.PublishInterval = 100 * time.Millisecond
		reg := prometheus.NewRegistry()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := runAsync(cctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg})
		// Ten messages a device: a second of publishing, past any end a hold of 0 once meant.
		Eventually(func() float64 { return gaugeValue(reg, "shakedown_sim_received_total") }).WithTimeout(time.Minute).Should(BeNumerically(">=", 100))
		Consistently(done).WithTimeout(200 * time.Millisecond).ShouldNot(Receive())
		res := interrupt(cancel, done)
		c := res.Counts
		Expect(c.Connected).To(BeEquivalentTo(10))
		Expect(c.CutShort).To(BeEquivalentTo(10))
		Expect(c.DevicesLost+c.Unpublished+c.Missing).To(BeZero(), "a fleet held until interrupted misses no schedule")
		Expect(c.Received).To(Equal(c.Acked))
		Expect(c.Acked).To(BeNumerically(">=", 100))
		Expect(res.Shards[0].SteadyEnd).NotTo(BeZero())
		Expect(sumSeconds(res).Received).To(Equal(c.Received))

		var buf bytes.Buffer
		Expect(res.Encode(&buf)).To(Succeed())
		back, err := simulator.DecodeResults(&buf)
		Expect(err).NotTo(HaveOccurred())
		merged, err := simulator.Merge(back)
		Expect(err).NotTo(HaveOccurred())
		Expect(merged.Interrupted).To(BeTrue())
		Expect(merged.Counts).To(Equal(c))
		Expect(merged.Seconds).To(Equal(back.Seconds))
	})

	It("has no acknowledgement stage for QoS 0", func() {
		sc := gw.scenario(10)
		sc.QoS = 0
		res := run(ctx, simulator.Config{Scenario: sc, Set: set})
		Expect(res.Counts.Published).To(BeEquivalentTo(30))
		Expect(total(res, simulator.StagePublish)).To(BeZero())
		Expect(sumSeconds(res).Acks).To(BeZero())
		var out bytes.Buffer
		Expect(simulator.WriteSummary(&out, res)).To(Succeed())
		Expect(out.String()).NotTo(ContainSubstring("publish_ack"))
		Expect(out.String()).To(ContainSubstring("written (QoS 0: no acknowledgement) 30"))
	})

	It("logs tls devices in with their MQTT password when the scenario says so", func() {
		sc := gw.scenario(10)
		sc.Mix = map[string]float64{"tls": 1}
		sc.TLSAuth = simulator.TLSAuthPassword
		res := run(ctx, simulator.Config{Scenario: sc, Set: set})
		Expect(res.Failures).To(BeEmpty())
		Expect(res.Counts.Connected).To(BeEquivalentTo(10))
		Expect(res.Counts.Received).To(Equal(res.Counts.Published))
	})

	It("counts what the server does with hostile devices", func() {
		sc := gw.scenario(60)
		sc.Mix = map[string]float64{"noise": 1, "psk": 1}
		sc.Hostile = simulator.Hostile{Share: 0.3, Kinds: simulator.HostileKinds, Timeout: 6 * halfOpenDeadline}
		// What each hostile slot should meet: the gateway closes garbage and
		// half-open connections; a replayed noise message 1 carries a spent
		// counter and is closed, a replayed psk session start is answered
		// (psk has no freshness, by design).
		want := map[string]map[string]int64{}
		var hostile, legit int64
		for _, sl := range sc.Plan() {
			if sl.Hostile == "" {
				legit++
				continue
			}
			hostile++
			outcome := simulator.OutcomeClosed
			if sl.Hostile == simulator.HostileReplay && sl.Kind == "psk" {
				outcome = simulator.OutcomeAnswered
			}
			if want[sl.Hostile] == nil {
				want[sl.Hostile] = map[string]int64{}
			}
			want[sl.Hostile][outcome]++
		}
		Expect(hostile).To(BeEquivalentTo(18))
		res := run(ctx, simulator.Config{Scenario: sc, Set: set})
		Expect(res.Hostile).To(Equal(want))
		Expect(res.Counts.HostileDevices).To(Equal(hostile))
		Expect(res.Counts.Connected).To(Equal(legit))
		Expect(res.Counts.Received).To(Equal(legit * 3))
		Expect(total(res, simulator.StageHalfOpen)).To(Equal(want[simulator.HostileHalfOpen][simulator.OutcomeClosed]))
		Expect(res.Histograms[string(simulator.StageHalfOpen)].Quantile(0.5)).To(BeNumerically(">=", halfOpenDeadline), "closed by the gateway's handshake deadline")
	})

	// The sessions are cut while every device holds one (the hold is an
	// hour), and a reconnecting fleet is stopped once every device is back
	// and publishing: no step depends on how fast the machine is.
	DescribeTable("reconnects after lost sessions by the policy",
		func(policy string, wantReconnects bool, engine string) {
			p := startProxy(gw.addrs()["noise"])
			defer p.close()
			sc := gw.scenario(20)
			sc.Engine = engine
			sc.Gateway = map[string]string{"noise": p.addr()}
			sc.Hold = time.Hour
			sc.PublishInterval = 250 * time.Millisecond
			sc.Reconnect = simulator.Reconnect{Policy: policy, MaxAttempts: 3, Backoff: 10 * time.Millisecond}
			reg := prometheus.NewRegistry()
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan *simulator.Results, 1)
			go func() {
				defer GinkgoRecover()
				done <- run(cctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg})
			}()
			metric := func(name string) func() float64 { return func() float64 { return gaugeValue(reg, name) } }
			Eventually(metric("shakedown_sim_devices_connected")).WithTimeout(30 * time.Second).Should(Equal(20.0))
			Eventually(metric("shakedown_sim_published_total")).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 40))
			Expect(p.cut()).To(Equal(20))
			atCut := gaugeValue(reg, "shakedown_sim_published_total")
			if wantReconnects {
				Eventually(metric("shakedown_sim_reconnects_total")).WithTimeout(30 * time.Second).Should(Equal(20.0))
				Eventually(metric("shakedown_sim_devices_connected")).WithTimeout(30 * time.Second).Should(Equal(20.0))
				Eventually(metric("shakedown_sim_published_total")).WithTimeout(30*time.Second).Should(BeNumerically(">=", atCut+40),
					"the devices go on publishing after the reconnect")
				cancel()
			}
			var res *simulator.Results
			Eventually(done).WithTimeout(60 * time.Second).Should(Receive(&res))
			c := res.Counts
			Expect(c.SessionsLost).To(BeEquivalentTo(20))
			Expect(res.Failures).To(HaveKey(simulator.FailSession))
			Expect(c.Published+c.Unpublished).To(BeEquivalentTo(20*sc.Messages()), "every scheduled message is published or not")
			if wantReconnects {
				Expect(c.Reconnects).To(BeEquivalentTo(20))
				Expect(c.DevicesLost).To(BeZero(), "a device that reconnects is not lost")
				Expect(res.Interrupted).To(BeTrue())
				Expect(c.CutShort).To(BeEquivalentTo(20))
			} else {
				Expect(c.Reconnects).To(BeZero())
				Expect(c.DevicesLost).To(BeEquivalentTo(20))
				Expect(res.Interrupted).To(BeFalse(), "the fleet ended by itself")
			}
			// Whatever was acknowledged arrived. A publish in flight at the cut
			// (or at the cancel) may reach the broker while its PUBACK does not
			// reach the device: received, never acknowledged. So at least
			// every acknowledged message arrives, and nothing unpublished.
			Expect(c.Missing).To(BeZero())
			Expect(c.Received).To(BeNumerically(">=", c.Acked))
			Expect(c.Received).To(BeNumerically("<=", c.Published))
		},
		Entry("none ends the devices", simulator.ReconnectNone, false, simulator.EnginePaho),
		Entry("immediate reconnects them", simulator.ReconnectImmediate, true, simulator.EnginePaho),
		Entry("backoff reconnects them", simulator.ReconnectBackoff, true, simulator.EnginePaho),
		Entry("none ends the devices, lean", simulator.ReconnectNone, false, simulator.EngineLean),
		Entry("backoff reconnects them, lean", simulator.ReconnectBackoff, true, simulator.EngineLean),
	)

	DescribeTable("retries a failed connect as often as the policy says",
		func(policy string, attempts int64, engine string) {
			sc := gw.scenario(10)
			sc.Engine = engine
			sc.Gateway = map[string]string{"noise": freeAddr()}
			sc.Reconnect = simulator.Reconnect{Policy: policy, MaxAttempts: 2, Backoff: 5 * time.Millisecond}
			res := run(ctx, simulator.Config{Scenario: sc, Set: set})
			c := res.Counts
			Expect(c.Connected).To(BeZero())
			Expect(c.ConnectFailed).To(BeEquivalentTo(10))
			Expect(c.ConnectAttempts).To(Equal(10 * attempts))
			Expect(c.Unpublished).To(BeEquivalentTo(10 * 3))
			Expect(res.Failures).To(Equal(map[string]map[string]int64{
				simulator.FailDial: {string(handshake.ReasonConnRefused): 10 * attempts},
			}))
		},
		Entry("none: one attempt", simulator.ReconnectNone, int64(1), simulator.EnginePaho),
		Entry("immediate: one and two retries", simulator.ReconnectImmediate, int64(3), simulator.EnginePaho),
		Entry("backoff: one and two retries", simulator.ReconnectBackoff, int64(3), simulator.EnginePaho),
		Entry("immediate: one and two retries, lean", simulator.ReconnectImmediate, int64(3), simulator.EngineLean),
	)

	It("spreads connections over the source addresses", func() {
		if !canBind("127.0.0.3") {
			Skip("this host does not answer on 127.0.0.2-127.0.0.4")
		}
		p := startProxy(gw.addrs()["noise"])
		defer p.close()
		sc := gw.scenario(30)
		sc.Gateway = map[string]string{"noise": p.addr()}
		sc.SourceAddrs = "127.0.0.2-127.0.0.4"
		res := run(ctx, simulator.Config{Scenario: sc, Set: set})
		Expect(res.Counts.Connected).To(BeEquivalentTo(30))
		Expect(p.seen()).To(Equal(map[string]int{"127.0.0.2": 10, "127.0.0.3": 10, "127.0.0.4": 10}))
	})

	It("measures plain MQTT against a broker, with the same stages", func() {
		sc := gw.scenario(30)
		sc.Target = simulator.TargetBroker
		sc.Fixtures = simulator.Fixtures{}
		sc.Broker = simulator.Broker{Addr: gw.Backend(), Username: backendUser, Password: backendPass, ClientID: "plain-{n}"}
		sc.Backend = simulator.Backend{}
		res := run(ctx, simulator.Config{Scenario: sc})
		c := res.Counts
		Expect(res.Failures).To(BeEmpty())
		Expect(c.Connected).To(BeEquivalentTo(30))
		Expect(c.Handshakes).To(BeZero(), "plain MQTT has no handshake")
		Expect(total(res, simulator.StageHandshake)).To(BeZero(), "nor a handshake stage")
		Expect(c.Received).To(BeEquivalentTo(90))
		Expect(total(res, simulator.StageEndToEnd)).To(BeEquivalentTo(90))
		Expect(total(res, simulator.StageConnack)).To(BeEquivalentTo(30))
	})

	DescribeTable("shares the end-to-end subscription over several subscribers, each message arriving once", func(engine string) {
		sc := gw.scenario(30)
		sc.Receivers = 3
		sc.Engine = engine
		res := run(ctx, simulator.Config{Scenario: sc, Set: set})
		c := res.Counts
		Expect(res.Failures).To(BeEmpty())
		Expect(c.Published).To(BeEquivalentTo(90))
		Expect(c.Received).To(Equal(c.Acked), "a filter taken literally would deliver nothing")
		Expect(c.Duplicates).To(BeZero(), "three plain subscriptions would deliver each message three times")
		Expect(c.Missing).To(BeZero())
		Expect(total(res, simulator.StageEndToEnd)).To(BeEquivalentTo(90))
	},
		Entry("paho's subscribers", simulator.EnginePaho),
		Entry("lean subscribers", simulator.EngineLean),
	)

	It("measures MQTT over TLS against a broker, checking its certificate", func() {
		addr, stop := tlsBroker(set.Broker)
		defer stop()
		sc := gw.scenario(20)
		sc.Target = simulator.TargetBroker
		sc.Fixtures = simulator.Fixtures{}
		sc.Broker = simulator.Broker{Addr: addr, TLS: true, ClientID: "tls-{n}"}
		sc.Backend = simulator.Backend{}
		res := run(ctx, simulator.Config{Scenario: sc, Set: set}) // the set's CA is the root
		Expect(res.Failures).To(BeEmpty())
		Expect(res.Counts.Handshakes).To(BeEquivalentTo(20))
		Expect(res.Counts.Received).To(BeEquivalentTo(60))

		By("refusing the attacker's certificate")
		evil, stopEvil := tlsBroker(set.Attacker)
		defer stopEvil()
		sc.Broker.Addr = evil
		res, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Set: set})
		Expect(err).To(MatchError(ContainSubstring("end-to-end subscriber")))
		Expect(res).To(BeNil())
	})

	It("stops early when cancelled, with its results so far", func() {
		sc := gw.scenario(20)
		sc.Hold = time.Hour
		sc.PublishInterval = time.Second
		reg := prometheus.NewRegistry()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan *simulator.Results, 1)
		go func() {
			defer GinkgoRecover()
			done <- run(cctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg})
		}()
		Eventually(func() float64 { return gaugeValue(reg, "shakedown_sim_devices_connected") }).WithTimeout(30 * time.Second).Should(Equal(20.0))
		cancel()
		var res *simulator.Results
		Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&res))
		c := res.Counts
		Expect(res.Interrupted).To(BeTrue())
		Expect(c.Connected).To(BeEquivalentTo(20))
		Expect(c.CutShort).To(BeEquivalentTo(20), "every device was cut short, none lost")
		Expect(c.DevicesLost + c.ConnectFailed + c.PublishFailed + c.NotStarted).To(BeZero())
		Expect(c.Unpublished).To(BeNumerically(">", 20*3000))
		Expect(res.Failures).To(BeEmpty(), "the interruption is not the server's failure")
	})

	It("keeps the results complete up to an interruption in the middle of the arrivals", func() {
		sc := gw.scenario(40)
		sc.Rate = 2 // 20 s of arrivals: the cancel comes in the middle of them
		sc.Hold = time.Hour
		reg := prometheus.NewRegistry()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan *simulator.Results, 1)
		go func() {
			defer GinkgoRecover()
			done <- run(cctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg})
		}()
		Eventually(func() float64 { return gaugeValue(reg, "shakedown_sim_devices_connected") }).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 2))
		cancel()
		var res *simulator.Results
		Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&res))
		c := res.Counts
		Expect(res.Interrupted).To(BeTrue())
		Expect(res.Shards[0].Interrupted).To(BeTrue())
		Expect(c.NotStarted).To(BeNumerically(">", 0))
		Expect(c.Slots+c.NotStarted).To(BeEquivalentTo(40), "every slot is started or not started")
		Expect(c.CutShort).To(Equal(c.Legit), "a started device was connected or connecting: cut short")
		Expect(c.Connected).To(BeNumerically(">=", 2))
		Expect(c.DevicesLost + c.ConnectFailed + c.PublishFailed).To(BeZero())
		Expect(res.Failures).To(BeEmpty())
	})

	It("fails the default thresholds when the gateway goes away mid-run", func() {
		p := startProxy(gw.addrs()["noise"])
		defer p.close()
		sc := gw.scenario(20)
		sc.Gateway = map[string]string{"noise": p.addr()}
		sc.Hold = 10 * time.Minute
		reg := prometheus.NewRegistry()
		done := make(chan *simulator.Results, 1)
		go func() {
			defer GinkgoRecover()
			done <- run(ctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg})
		}()
		Eventually(func() float64 { return gaugeValue(reg, "shakedown_sim_devices_connected") }).WithTimeout(30 * time.Second).Should(Equal(20.0))
		p.close() // no listener and no session left: the gateway is gone
		var res *simulator.Results
		Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&res))
		c := res.Counts
		Expect(res.Interrupted).To(BeFalse())
		Expect(c.SessionsLost).To(BeEquivalentTo(20))
		Expect(c.DevicesLost).To(BeEquivalentTo(20))
		Expect(c.ConnectFailed).To(BeZero(), "they did connect")
		Expect(c.Missing).To(BeZero(), "what was acknowledged arrived: only the devices' loss shows the failure")
		vs, err := simulator.Evaluate(res)
		Expect(err).NotTo(HaveOccurred())
		var failed []string
		for _, v := range simulator.Failed(vs) {
			failed = append(failed, v.String())
		}
		// A publish in flight at the cut fails too: publish_failed==0 may join it.
		Expect(failed).To(ContainElement("devices_lost==0 (was 20)"))
	})

	It("reports live metrics and progress lines that match the results", func() {
		sc := gw.scenario(20)
		reg := prometheus.NewRegistry()
		var progress bytes.Buffer
		res := run(ctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg, Progress: &progress, ProgressInterval: 100 * time.Millisecond})
		Expect(gaugeValue(reg, "shakedown_sim_connects_total")).To(BeEquivalentTo(res.Counts.Connected))
		Expect(gaugeValue(reg, "shakedown_sim_received_total")).To(BeEquivalentTo(res.Counts.Received))
		Expect(gaugeValue(reg, "shakedown_sim_devices_connected")).To(BeZero())
		Expect(stageLabels(reg)).To(ContainElements("tcp_connect", "handshake", "connack", "suback", "publish_ack", "end_to_end"))
		Expect(progress.String()).To(ContainSubstring("connected 20"))
		Expect(progress.String()).To(MatchRegexp(`\d+ connects/s  \d+ publishes/s  \d+ acks/s  \d+ received/s`))
		Expect(progress.String()).To(MatchRegexp(`p99 .*end_to_end \S+`))
	})

	// The lean engine is held to paho, the reference client: the same
	// scenario on both engines against one gateway counts the same. Every
	// count a clean run fixes is compared exactly: slots, connects,
	// handshakes, subscriptions, messages published, acknowledged,
	// received, and the samples of every stage; latencies are the machine's
	// and are not compared.
	Describe("on the paho and the lean engine", func() {
		onBoth := func(sc simulator.Scenario) (paho, lean *simulator.Results) {
			sc.Engine = simulator.EnginePaho
			paho = run(ctx, simulator.Config{Scenario: sc, Set: set})
			sc.Engine = simulator.EngineLean
			lean = run(ctx, simulator.Config{Scenario: sc, Set: set})
			Expect(paho.Scenario.Engine).To(Equal(simulator.EnginePaho), "the results say which engine ran")
			Expect(lean.Scenario.Engine).To(Equal(simulator.EngineLean))
			Expect(lean.FleetID).To(Equal(paho.FleetID), "the engine does not change the fleet")
			return paho, lean
		}

		stageTotals := func(r *simulator.Results) map[string]int64 {
			out := map[string]int64{}
			for st, h := range r.Histograms {
				out[st] = h.Total
			}
			return out
		}

		DescribeTable("count the same on both engines",
			func(tweak func(*simulator.Scenario), devices int, published int64) {
				sc := gw.scenario(devices)
				tweak(&sc)
				paho, lean := onBoth(sc)
				for _, r := range []*simulator.Results{paho, lean} {
					Expect(r.Failures).To(BeEmpty(), r.Scenario.Engine)
					Expect(r.Counts.Connected).To(BeEquivalentTo(devices), r.Scenario.Engine)
					Expect(r.Counts.Published).To(Equal(published), r.Scenario.Engine)
					Expect(r.Counts.Received).To(Equal(r.Counts.Published), r.Scenario.Engine)
				}
				Expect(lean.Counts).To(Equal(paho.Counts))
				Expect(stageTotals(lean)).To(Equal(stageTotals(paho)))
				Expect(sumSeconds(lean).Connects).To(Equal(sumSeconds(paho).Connects))
				Expect(sumSeconds(lean).Acks).To(Equal(sumSeconds(paho).Acks))
			},
			Entry("QoS 1 over every profile", func(sc *simulator.Scenario) {
				sc.Mix = map[string]float64{"noise": 2, "seed-p256": 1, "seed-secp160r1": 1, "psk": 1, "tls": 1}
			}, 60, int64(180)),
			Entry("QoS 0, no acknowledgement", func(sc *simulator.Scenario) { sc.QoS = 0 }, 20, int64(60)),
			Entry("QoS 2, PUBREC, PUBREL, PUBCOMP", func(sc *simulator.Scenario) { sc.QoS = 2 }, 20, int64(60)),
			Entry("tls devices logging in with a password", func(sc *simulator.Scenario) {
				sc.Mix = map[string]float64{"tls": 1}
				sc.TLSAuth = simulator.TLSAuthPassword
			}, 10, int64(30)),
		)

		// The broker closes a session that sends nothing for 1.5 keep-alives
		// (MQTT 3.1.1 §3.1.2.10): devices that never publish survive a hold of
		// three keep-alives only by their PINGREQs.
		It("keeps idle sessions alive with PINGREQ on both engines", func() {
			sc := gw.scenario(10)
			sc.KeepAlive = 2 * time.Second
			sc.Hold = 3 * sc.KeepAlive
			sc.PublishInterval = 0
			paho, lean := onBoth(sc)
			for _, r := range []*simulator.Results{paho, lean} {
				Expect(r.Counts.SessionsLost).To(BeZero(), r.Scenario.Engine)
				Expect(r.Counts.DevicesLost).To(BeZero(), r.Scenario.Engine)
				Expect(r.Failures).To(BeEmpty(), r.Scenario.Engine)
			}
			Expect(lean.Counts).To(Equal(paho.Counts))
		})

		// A subscriber of QoS 0 messages acknowledges nothing: it survives
		// a hold past 1.5 keep-alives of the broker's only by its PINGREQs.
		It("keeps the end-to-end subscriber of QoS 0 messages alive with PINGREQ on both engines", func() {
			sc := gw.scenario(10)
			sc.QoS = 0
			sc.KeepAlive = 2 * time.Second       // the subscriber's too, being shorter than its own
			sc.PublishInterval = 4 * time.Second // a message after 1.5 keep-alives
			sc.Hold = 2 * sc.PublishInterval
			paho, lean := onBoth(sc)
			for _, r := range []*simulator.Results{paho, lean} {
				Expect(r.Failures).To(BeEmpty(), r.Scenario.Engine)
				Expect(r.Counts.Published).To(BeEquivalentTo(20), r.Scenario.Engine)
				Expect(r.Counts.Received).To(Equal(r.Counts.Published), r.Scenario.Engine)
			}
		})
	})

	It("refuses a fleet larger than its fixture set", func() {
		sc := gw.scenario(41)
		_, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Set: set})
		Expect(err).To(MatchError(simulator.ErrIdentities))
	})

	It("refuses a gateway fleet whose mix has no listener address", func() {
		sc := gw.scenario(10)
		sc.Mix = map[string]float64{"noise": 1, "tls": 1}
		sc.Gateway = map[string]string{"noise": gw.addrs()["noise"]}
		_, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Set: set})
		var se *simulator.ScenarioError
		Expect(err).To(BeAssignableToTypeOf(se))
		Expect(err.(*simulator.ScenarioError).Field).To(Equal("gateway"))
	})
})

// secondsSum is the run's seconds added up: counts, and each stage's
// number of latencies.
type secondsSum struct {
	reports.SimSecond
	Latency map[string]int64
}

func sumSeconds(r *simulator.Results) secondsSum {
	out := secondsSum{Latency: map[string]int64{}}
	for _, s := range r.Seconds {
		out.Connects += s.Connects
		out.Publishes += s.Publishes
		out.Acks += s.Acks
		out.Received += s.Received
		out.Failures += s.Failures
		for st, h := range s.Latency {
			out.Latency[st] += h.Total
		}
	}
	return out
}

// gaugeValue sums the samples of a metric family in reg.
func gaugeValue(reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	Expect(err).NotTo(HaveOccurred())
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// stageLabels lists the stages of the stage latency histogram in reg.
func stageLabels(reg *prometheus.Registry) []string {
	mfs, err := reg.Gather()
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "shakedown_sim_stage_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" && m.GetHistogram().GetSampleCount() > 0 {
					out = append(out, l.GetValue())
				}
			}
		}
	}
	return out
}
