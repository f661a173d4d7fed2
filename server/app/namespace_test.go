package app_test

import (
	"context"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/simulator"
)

// shakedownCmd runs the built binary and returns its session, ended.
func shakedownCmd(args ...string) *gexec.Session {
	GinkgoHelper()
	s, err := gexec.Start(exec.Command(binary, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit())
	return s
}

var _ = Describe("shakedown devices add as a process", func() {
	DescribeTable("refuses an ID that is no single topic level, and registers nothing",
		func(id string) {
			path := filepath.Join(GinkgoT().TempDir(), "registry.db")
			dsn := "sqlite:" + path
			key := strings.Repeat("5a", noise.KeyLen)
			s := shakedownCmd("devices", "add", id, "--profile", "noise", "--key", key, "--registry", dsn)
			Expect(s.ExitCode()).To(Equal(2), "a usage error")
			Expect(string(s.Err.Contents())).To(ContainSubstring("letters, digits, '.', '_', '-' or ':'"))

			// Refused before the registry is opened: not even an empty one
			// was made.
			_, err := os.Stat(path)
			Expect(err).To(MatchError(os.ErrNotExist))
		},
		Entry("+", "+"),
		Entry("#", "#"),
		Entry("a/b", "a/b"),
		Entry("x+y", "x+y"),
	)

	It("registers an ID of letters, digits, '.', '_', '-' and ':'", func() {
		dsn := "sqlite:" + filepath.Join(GinkgoT().TempDir(), "registry.db")
		s := shakedownCmd("devices", "add", "gw-7.a_b:c", "--profile", "noise", "--key", strings.Repeat("5a", noise.KeyLen), "--registry", dsn)
		Expect(s.ExitCode()).To(BeZero(), string(s.Err.Contents()))
	})
})

// rawMQTT is MQTT 3.1.1 spoken by hand over a device's handshake conn, for
// what paho will not send: several refused filters, a will, any username.
type rawMQTT struct{ conn net.Conn }

func (r rawMQTT) send(pk packets.ControlPacket) error {
	r.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return pk.Write(r.conn)
}

func (r rawMQTT) receive() (packets.ControlPacket, error) {
	r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return packets.ReadPacket(r.conn)
}

func rawConnect(clientID, user, willTopic string) *packets.ConnectPacket {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive = "MQTT", 4, true, 60
	cp.ClientIdentifier = clientID
	if user != "" {
		cp.UsernameFlag, cp.Username = true, user
	}
	if willTopic != "" {
		cp.WillFlag, cp.WillTopic, cp.WillMessage = true, willTopic, []byte("gone")
	}
	return cp
}

var _ = Describe("one namespace per device, against shakedown serve", Ordered, func() {
	// Device c and the devices whose IDs extend it by one character of the
	// ID alphabet: a prefix test on topics would let c into all of them.
	const attacker = "c"
	victims := []string{"c.d", "c-d", "c_d", "c:d", "cd"}

	var (
		dir     string
		set     *fixtures.Set
		srv     *serverProc
		ctx     context.Context
		devices map[string]fixtures.Device
		backend mqtt.Client
		mu      sync.Mutex
		seen    []string // topic and payload of every message the backend received
	)

	backendSaw := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}

	BeforeAll(func() {
		var err error
		dir, set = fixtureDir("", "shakedown-namespace", "namespace-test", 1)

		devices = map[string]fixtures.Device{}
		for _, id := range append([]string{attacker}, victims...) {
			kp, err := noise.GenerateKeypair(nil)
			Expect(err).NotTo(HaveOccurred())
			devices[id] = fixtures.Device{ID: id, Profile: handshake.Noise, Private: kp.Private, Public: kp.Public}
			s := shakedownCmd("devices", "add", id, "--profile", "noise", "--key", hex.EncodeToString(kp.Public),
				"--registry", "sqlite:"+filepath.Join(dir, "registry.db"))
			Expect(s.ExitCode()).To(BeZero(), string(s.Err.Contents()))
		}

		srv = startServer(dir, "--log-level", "info", "--log-format", "json")
		DeferCleanup(func() { srv.session.Kill().Wait(5 * time.Second) })
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
		DeferCleanup(cancel)

		backend, err = simulator.Connect(ctx, simulator.ClientConfig{Addr: srv.addr("backend"), ClientID: "namespace-backend", Username: "backend", Password: backendPassword})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { backend.Disconnect(50) })
		tok := backend.Subscribe("devices/#", 0, func(_ mqtt.Client, m mqtt.Message) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, m.Topic()+" "+string(m.Payload()))
		})
		Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
		Expect(tok.Error()).NotTo(HaveOccurred())
	})

	// dial runs device id's noise handshake and returns the session conn.
	dial := func(id string) rawMQTT {
		GinkgoHelper()
		dev, _, _, err := simulator.NewDevice(set, devices[id], simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := handshake.Dial(hctx, dev, "tcp", srv.addr("noise"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)
		return rawMQTT{conn}
	}

	// connack connects id with cp and returns the CONNACK's return code.
	connack := func(id string, cp *packets.ConnectPacket) byte {
		GinkgoHelper()
		code, err := sendConnect(dial(id), cp)
		Expect(err).NotTo(HaveOccurred())
		return code
	}

	It("keeps device c out of every topic of c.d, c-d, c_d, c:d and cd, both ways", func() {
		// The victims, each subscribed to its own namespace.
		inboxes := map[string]chan string{}
		clients := map[string]mqtt.Client{}
		for _, v := range victims {
			dev, _, _, err := simulator.NewDevice(set, devices[v], simulator.DeviceOptions{})
			Expect(err).NotTo(HaveOccurred())
			c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.addr("noise"), ClientID: v})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { c.Disconnect(20) })
			clients[v] = c
			in := make(chan string, 100)
			inboxes[v] = in
			tok := c.Subscribe("devices/"+v+"/#", 0, func(_ mqtt.Client, m mqtt.Message) { in <- m.Topic() + " " + string(m.Payload()) })
			Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
			Expect(tok.Error()).NotTo(HaveOccurred())
		}

		c := dial(attacker)
		Expect(c.send(rawConnect(attacker, "", ""))).To(Succeed())
		pk, err := c.receive()
		Expect(err).NotTo(HaveOccurred())
		Expect(pk.(*packets.ConnackPacket).ReturnCode).To(BeZero())

		// Subscriptions: every filter reaching another device fails.
		filters := []string{"devices/+/#", "devices/#", "#", "+/+/#", "devices/+/cmd", "+/c.d/#"}
		for _, v := range victims {
			filters = append(filters, "devices/"+v+"/#", "devices/"+v+"/cmd")
		}
		for i, f := range append(filters, "devices/c/#") {
			sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
			sp.MessageID, sp.Topics, sp.Qoss = uint16(i+1), []string{f}, []byte{0}
			Expect(c.send(sp)).To(Succeed())
			pk, err := c.receive()
			Expect(err).NotTo(HaveOccurred())
			want := byte(0x80)
			if f == "devices/c/#" {
				want = 0
			}
			Expect(pk.(*packets.SubackPacket).ReturnCodes).To(Equal([]byte{want}), "filter %s", f)
		}

		// Publishes into the victims' namespaces are dropped (QoS 0).
		forbidden := 0
		for _, v := range victims {
			for _, t := range []string{"devices/" + v + "/cmd", "devices/" + v + "/telemetry"} {
				pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
				pp.TopicName, pp.Payload = t, []byte("FORBIDDEN-PAYLOAD")
				Expect(c.send(pp)).To(Succeed())
				forbidden++
			}
		}
		// A session's packets are handled in order: once the backend has
		// c's marker, each forbidden publish was judged, and any that got
		// through would have reached the backend first.
		marker := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		marker.TopicName, marker.Payload = "devices/c/telemetry", []byte("marker")
		Expect(c.send(marker)).To(Succeed())
		Eventually(backendSaw).WithTimeout(20 * time.Second).Should(ContainElement("devices/c/telemetry marker"))

		// The victims publish on their own topics, then the backend sends
		// each victim, and c, a marker: what c or a victim received before
		// its marker is all it would ever get from the others.
		for _, v := range victims {
			Expect(backend.Publish("devices/"+v+"/cmd", 0, false, "victim-marker").WaitTimeout(10 * time.Second)).To(BeTrue())
		}
		for _, v := range victims {
			Eventually(inboxes[v]).WithTimeout(20 * time.Second).Should(Receive(Equal("devices/" + v + "/cmd victim-marker")))
			Expect(inboxes[v]).NotTo(Receive(), "victim %s received something else", v)
		}
		for _, v := range victims {
			Expect(clients[v].Publish("devices/"+v+"/telemetry", 0, false, "VICTIM-DATA").WaitTimeout(10 * time.Second)).To(BeTrue())
			Eventually(backendSaw).WithTimeout(20 * time.Second).Should(ContainElement("devices/" + v + "/telemetry VICTIM-DATA"))
		}
		Expect(backend.Publish("devices/c/cmd", 0, false, "c-marker").WaitTimeout(10 * time.Second)).To(BeTrue())
		for n := 0; ; n++ {
			Expect(n).To(BeNumerically("<", 100), "c never got its marker")
			pk, err := c.receive()
			Expect(err).NotTo(HaveOccurred())
			pub, ok := pk.(*packets.PublishPacket)
			if !ok {
				continue
			}
			Expect(pub.TopicName).To(HavePrefix("devices/c/"), "c received another device's message")
			if string(pub.Payload) == "c-marker" {
				break
			}
		}
		for _, m := range backendSaw() {
			Expect(m).NotTo(ContainSubstring("FORBIDDEN-PAYLOAD"))
		}

		// Counted per reason; logged at info with the reason, never the payload.
		Eventually(func() float64 {
			return srv.metric("shakedown_mqtt_refused_total", `profile="noise"`, `reason="acl_publish"`)
		}).Should(Equal(float64(forbidden)))
		Eventually(func() float64 {
			return srv.metric("shakedown_mqtt_refused_total", `profile="noise"`, `reason="acl_subscribe"`)
		}).Should(Equal(float64(len(filters))))
		logs := string(srv.session.Err.Contents())
		Expect(logs).To(MatchRegexp(`"level":"INFO","msg":"publish refused".*"reason":"acl_publish".*"device":"c"`))
		Expect(logs).NotTo(ContainSubstring("FORBIDDEN-PAYLOAD"))
	})

	DescribeTable("refuses a CONNECT of device c that names another device",
		func(cp *packets.ConnectPacket, reason string) {
			before := srv.metric("shakedown_mqtt_refused_total", `profile="noise"`, `reason="`+reason+`"`)
			Expect(connack(attacker, cp)).NotTo(BeZero())
			Eventually(func() float64 {
				return srv.metric("shakedown_mqtt_refused_total", `profile="noise"`, `reason="`+reason+`"`)
			}).Should(Equal(before + 1))
		},
		Entry("as its client ID", rawConnect("c.d", "", ""), "client_id"),
		Entry("as its username", rawConnect("c", "c.d", ""), "bad_username"),
		Entry("in its will topic", rawConnect("c", "", "devices/c-d/status"), "acl_will"),
	)

	It("lets a device that lost its counter in again after devices reset-counter --yes, and only then", func() {
		id := "c_d"
		connect := func(ctr noise.Counter) error {
			dev, _, _, err := simulator.NewDevice(set, devices[id], simulator.DeviceOptions{Counter: ctr})
			Expect(err).NotTo(HaveOccurred())
			c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.addr("noise"), ClientID: id, HandshakeTimeout: 5 * time.Second})
			if err == nil {
				c.Disconnect(20)
			}
			return err
		}
		registryDSN := "sqlite:" + filepath.Join(dir, "registry.db")
		// Earlier specs connected it with clock-based counters.
		Expect(connect(nil)).To(Succeed())
		replays := srv.metric("shakedown_handshakes_total", `profile="noise"`, `result="counter_replay"`)
		Expect(connect(noise.NewMemCounter(0))).NotTo(Succeed(), "its erased counter starts again at 1")
		Eventually(func() float64 {
			return srv.metric("shakedown_handshakes_total", `profile="noise"`, `result="counter_replay"`)
		}).Should(Equal(replays + 1))

		s := shakedownCmd("devices", "reset-counter", id, "--registry", registryDSN)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--yes"))
		Expect(connect(noise.NewMemCounter(1))).NotTo(Succeed(), "nothing was reset without --yes")

		s = shakedownCmd("devices", "reset-counter", id, "--yes", "--registry", registryDSN)
		Expect(s.ExitCode()).To(BeZero(), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`reset the message-1 counter of c_d: it was [1-9][0-9]*, it is 0`))
		Expect(connect(noise.NewMemCounter(2))).To(Succeed())

		export := shakedownCmd("devices", "export", "--registry", registryDSN)
		Expect(export.ExitCode()).To(BeZero())
		Expect(string(export.Out.Contents())).To(MatchRegexp(`"id":"c_d"[^\n]*"counter":3[^\n]*"counter_reset":"`))
	})

	It("accepts c with an empty username or its own ID as username", func() {
		Expect(connack(attacker, rawConnect("c", "", ""))).To(BeZero())
		Expect(connack(attacker, rawConnect("c", "c", "devices/c/status"))).To(BeZero())
	})
})
