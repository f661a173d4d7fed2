package simulator_test

import (
	"errors"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/simulator"
)

// fleetYAML is the scenario of `shakedown sim --help`.
const fleetYAML = `target: gateway
devices: 10000
mix: {noise: 8, tls: 2}
rate: 1000
ramp: 5s
hold: 30s
publish_interval: 5s
qos: 1
subscriptions: ["devices/{id}/cmd"]
hostile: {share: 0.01, kinds: [garbage, replay, halfopen]}
fixtures: {seed: demo, devices_per_profile: 9999}
gateway: {noise: gw:8885, tls: gw:8883}
backend: {addr: gw:1884, username: backend}
thresholds: ["connect.p99<2s", "end_to_end.p(99)<500ms", "devices_lost_ratio<0.001"]
`

func parse(y string) (simulator.Scenario, error) {
	return simulator.ParseScenario(strings.NewReader(y))
}

// valid is the smallest valid scenario: the defaults and a gateway.
const valid = "fixtures: {seed: s}\ngateway: {noise: 127.0.0.1:8885}\n"

var _ = Describe("scenario files", func() {
	It("reads the example of the command's help", func() {
		sc, err := parse(fleetYAML)
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Devices).To(Equal(10000))
		Expect(sc.Mix).To(Equal(map[string]float64{"noise": 8, "tls": 2}))
		Expect(sc.Ramp).To(Equal(5 * time.Second))
		Expect(sc.Messages()).To(Equal(6))
		Expect(sc.Hostile.Share).To(Equal(0.01))
		Expect(sc.Hostile.Timeout).To(Equal(simulator.DefaultScenario().Hostile.Timeout), "absent keys keep their defaults")
		Expect(sc.Backend).To(Equal(simulator.Backend{Addr: "gw:1884", Username: "backend"}))
		Expect(sc.Thresholds).To(Equal([]string{"connect.p99<2s", "end_to_end.p(99)<500ms", "devices_lost_ratio<0.001"}))
	})

	It("keeps the defaults of absent keys and replaces present maps whole", func() {
		sc, err := parse("fixtures: {seed: s}\nmix: {tls: 1}\ngateway: {tls: 127.0.0.1:8883}\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Mix).To(Equal(map[string]float64{"tls": 1}))
		Expect(sc.Gateway).To(Equal(map[string]string{"tls": "127.0.0.1:8883"}))
		def := simulator.DefaultScenario()
		Expect(sc.QoS).To(Equal(def.QoS))
		Expect(sc.Subscriptions).To(Equal(def.Subscriptions))
	})

	It("keeps explicit zeros", func() {
		sc, err := parse(valid + "qos: 0\nrate: 0\nkeepalive: 0s\npublish_interval: 0s\nsubscriptions: []\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.QoS).To(BeZero())
		Expect(sc.Rate).To(BeZero())
		Expect(sc.KeepAlive).To(BeZero())
		Expect(sc.Messages()).To(BeZero())
		Expect(sc.Subscriptions).To(BeEmpty())
	})

	DescribeTable("refuses a scenario that cannot run, naming the field",
		func(doc, field string) {
			if !strings.Contains(doc, "fixtures:") && !strings.Contains(doc, "gateway:") {
				doc = valid + doc
			}
			_, err := parse(doc)
			var se *simulator.ScenarioError
			Expect(errors.As(err, &se)).To(BeTrue(), "error %v", err)
			Expect(se.Field).To(Equal(field))
		},
		Entry("unknown key", "colour: blue\n", "(file)"),
		Entry("not YAML", "devices: [\n", "(file)"),
		Entry("wrong type", "devices: many\n", "(file)"),
		Entry("target", "target: cloud\n", "target"),
		Entry("no devices", "devices: 0\n", "devices"),
		Entry("too many devices", "devices: 1000001\n", "devices"),
		Entry("unknown kind", "mix: {ecdsa: 1}\n", "mix"),
		Entry("zero weight", "mix: {noise: 0}\n", "mix"),
		Entry("seed and a curve", "fixtures: {seed: s}\nmix: {seed: 1, seed-p256: 1}\ngateway: {seed: a:1}\n", "mix"),
		Entry("negative rate", "rate: -1\n", "rate"),
		Entry("a ramp without a rate", "rate: 0\nramp: 1s\n", "ramp"),
		Entry("negative hold", "hold: -1s\n", "hold"),
		Entry("qos 3", "qos: 3\n", "qos"),
		Entry("payload shorter than its header", "payload_size: 23\n", "payload_size"),
		Entry("wildcard in the topic", "topic: devices/+/x\n", "topic"),
		Entry("{id} inside a level", "topic: devices/x{id}/t\n", "topic"),
		Entry("# not last", "subscriptions: [a/#/b]\n", "subscriptions"),
		Entry("keep-alive under a second", "keepalive: 10ms\n", "keepalive"),
		Entry("reconnect policy", "reconnect: {policy: sometimes}\n", "reconnect.policy"),
		Entry("hostile share", "hostile: {share: 1.5}\n", "hostile.share"),
		Entry("hostile kind", "hostile: {share: 0.1, kinds: [flood]}\n", "hostile.kinds"),
		Entry("timeouts", "timeouts: {handshake: 0s}\n", "timeouts"),
		Entry("noise pattern", "noise_pattern: NN\n", "noise_pattern"),
		Entry("tls mode", "tls_mode: trust-me\n", "tls_mode"),
		Entry("tls auth", "tls_auth: psk\n", "tls_auth"),
		Entry("source addresses", "source_addrs: 127.0.0.9-127.0.0.2\n", "source_addrs"),
		Entry("a listener missing for the mix", "mix: {psk: 1}\n", "gateway"),
		Entry("an unknown listener", "fixtures: {seed: s}\ngateway: {noise: a:1, quic: b:2}\n", "gateway"),
		Entry("no fixtures", "gateway: {noise: a:1}\n", "fixtures"),
		Entry("fixtures twice", "fixtures: {seed: s, dir: d}\ngateway: {noise: a:1}\n", "fixtures"),
		Entry("broker without an address", "target: broker\n", "broker.addr"),
		Entry("broker client IDs that repeat", "target: broker\nbroker: {addr: a:1, client_id: same}\n", "broker.client_id"),
		Entry("a threshold without a unit", "thresholds: [connect.p99<2]\n", "thresholds"),
		Entry("a threshold on an unknown metric", "thresholds: [\"colour==blue\"]\n", "thresholds"),
		Entry("thresholds that are not a list", "thresholds: connect.p99<2s\n", "(file)"),
	)

	It("names the same fleet whatever its addresses", func() {
		a, err := parse(fleetYAML)
		Expect(err).NotTo(HaveOccurred())
		b, err := parse(fleetYAML + "source_addrs: 127.0.0.2-127.0.0.9\nmetrics_addr: :9100\n")
		Expect(err).NotTo(HaveOccurred())
		b.Gateway = map[string]string{"noise": "elsewhere:1", "tls": "elsewhere:2"}
		Expect(a.FleetID()).To(Equal(b.FleetID()))
		b.Devices++
		Expect(a.FleetID()).NotTo(Equal(b.FleetID()))
	})
})

var _ = Describe("the engine a scenario runs on", func() {
	It("is lean above LeanAbove devices and paho up to it, unless the scenario names one", func() {
		sc := simulator.DefaultScenario()
		sc.Devices = simulator.LeanAbove
		Expect(sc.EngineOf()).To(Equal(simulator.EnginePaho))
		sc.Devices++
		Expect(sc.EngineOf()).To(Equal(simulator.EngineLean))
		sc.Engine = simulator.EnginePaho
		Expect(sc.EngineOf()).To(Equal(simulator.EnginePaho))
		sc.Devices, sc.Engine = 1, simulator.EngineLean
		Expect(sc.EngineOf()).To(Equal(simulator.EngineLean))
	})

	It("refuses an engine it does not have", func() {
		sc := simulator.DefaultScenario()
		sc.Broker.Addr, sc.Target = "127.0.0.1:1", simulator.TargetBroker
		sc.Engine = "mosquitto_sub"
		var se *simulator.ScenarioError
		Expect(errors.As(sc.Check(), &se)).To(BeTrue())
		Expect(se.Field).To(Equal("engine"))
	})
})

var _ = Describe("the end-to-end subscribers of a scenario", func() {
	It("are one up to LeanAbove devices and ReceiversAbove above, unless the scenario names a number", func() {
		sc := simulator.DefaultScenario()
		sc.Devices = simulator.LeanAbove
		Expect(sc.ReceiversOf()).To(Equal(1))
		sc.Devices++
		Expect(sc.ReceiversOf()).To(Equal(simulator.ReceiversAbove))
		sc.Receivers = 1
		Expect(sc.ReceiversOf()).To(Equal(1))
	})

	It("refuses a negative number and more than MaxReceivers", func() {
		for _, n := range []int{-1, simulator.MaxReceivers + 1} {
			sc := simulator.DefaultScenario()
			sc.Broker.Addr, sc.Target = "127.0.0.1:1", simulator.TargetBroker
			sc.Receivers = n
			var se *simulator.ScenarioError
			Expect(errors.As(sc.Check(), &se)).To(BeTrue(), "%d", n)
			Expect(se.Field).To(Equal("receivers"))
		}
	})
})
