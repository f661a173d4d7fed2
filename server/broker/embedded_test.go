package broker_test

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"shakedown/handshake"
	"shakedown/server/broker"
	"shakedown/server/lograte"
)

// refusals records what the broker's Observer is told.
type refusals struct {
	mu  sync.Mutex
	got map[string]int // "profile reason"
}

func (r *refusals) Refused(p handshake.Name, reason handshake.Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[string(p)+" "+string(reason)]++
}

func (r *refusals) AcceptFailed(string) {}
func (r *refusals) count(p handshake.Name, reason handshake.Reason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[string(p)+" "+string(reason)]
}

// mqttPeer is the device end of a session attached to the broker; ended
// is closed when the broker's side returns, with its error in err.
type mqttPeer struct {
	conn  net.Conn
	ended chan struct{}
	err   error
}

func (c *mqttPeer) send(pk packets.ControlPacket) {
	GinkgoHelper()
	Expect(c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	Expect(pk.Write(c.conn)).To(Succeed())
}

func (c *mqttPeer) receive() packets.ControlPacket {
	GinkgoHelper()
	Expect(c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	pk, err := packets.ReadPacket(c.conn)
	Expect(err).NotTo(HaveOccurred())
	return pk
}

func connectPacket(clientID, user, pass string) *packets.ConnectPacket {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive = "MQTT", 4, true, 30
	cp.ClientIdentifier = clientID
	if user != "" {
		cp.UsernameFlag, cp.Username = true, user
	}
	if pass != "" {
		cp.PasswordFlag, cp.Password = true, []byte(pass)
	}
	return cp
}

func publishPacket(topic, payload string, qos byte, id uint16) *packets.PublishPacket {
	pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pp.TopicName, pp.Payload, pp.Qos, pp.MessageID = topic, []byte(payload), qos, id
	return pp
}

var _ = Describe("the embedded broker's identity and topic rules", func() {
	var (
		brk   *broker.Embedded
		obs   *refusals
		logs  *gbytes.Buffer
		inbox chan string
	)
	noiseC := handshake.Identity{Profile: handshake.Noise, DeviceID: "c"}

	BeforeEach(func() {
		obs = &refusals{got: map[string]int{}}
		logs = gbytes.NewBuffer()
		var err error
		brk, err = broker.New(broker.Options{Observer: obs,
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(brk.Close)
		inbox = make(chan string, 1000)
		Expect(brk.Subscribe("#", 1, func(topic string, payload []byte) { inbox <- topic + " " + string(payload) })).To(Succeed())
	})

	attach := func(id handshake.Identity, plain bool) *mqttPeer {
		a, b := net.Pipe()
		p := &mqttPeer{conn: a, ended: make(chan struct{})}
		go func() {
			defer close(p.ended)
			if plain {
				p.err = brk.AttachPlain(b)
			} else {
				p.err = brk.AttachDevice(b, id)
			}
		}()
		DeferCleanup(func() {
			a.Close()
			Eventually(p.ended).WithTimeout(5 * time.Second).Should(BeClosed())
		})
		return p
	}

	// connect sends cp and returns the CONNACK's return code.
	connect := func(p *mqttPeer, cp *packets.ConnectPacket) byte {
		GinkgoHelper()
		p.send(cp)
		return p.receive().(*packets.ConnackPacket).ReturnCode
	}

	It("ends a session whose packet announces more than the packet bound, before reading its body", func() {
		p := attach(noiseC, false)
		// CONNECT, Remaining Length 268,435,455 (MQTT 3.1.1 §2.2.3's
		// largest), and no body: unbounded, the broker would allocate it
		// all and wait for it until the connect timeout.
		_, err := p.conn.Write([]byte{0x10, 0xff, 0xff, 0xff, 0x7f})
		Expect(err).NotTo(HaveOccurred())
		read := make(chan error, 1)
		go func() {
			_, err := p.conn.Read(make([]byte, 16))
			read <- err
		}()
		Eventually(read).WithTimeout(5*time.Second).Should(Receive(HaveOccurred()), "the session ended")
	})

	connected := func() *mqttPeer {
		GinkgoHelper()
		p := attach(noiseC, false)
		Expect(connect(p, connectPacket("c", "", ""))).To(BeZero())
		return p
	}

	// logRecords returns the info-level records of the log so far.
	logRecords := func() []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(string(logs.Contents())), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
		return out
	}

	DescribeTable("accepts a username that is empty or the device's own ID",
		func(user string) {
			p := attach(noiseC, false)
			Expect(connect(p, connectPacket("c", user, "anything"))).To(BeZero())
		},
		Entry("empty", ""),
		Entry("the device ID", "c"),
	)

	DescribeTable("refuses a CONNECT that names another identity, counts it and logs it at info without the credentials",
		func(id handshake.Identity, plain bool, cp *packets.ConnectPacket, profile handshake.Name, reason handshake.Reason) {
			p := attach(id, plain)
			Expect(connect(p, cp)).NotTo(BeZero())
			Eventually(p.ended).WithTimeout(5 * time.Second).Should(BeClosed())
			Expect(obs.count(profile, reason)).To(Equal(1))
			Expect(logs).To(gbytes.Say(`"level":"INFO","msg":"connect refused","profile":"` + string(profile) + `","reason":"` + string(reason) + `"`))
			Expect(string(logs.Contents())).NotTo(ContainSubstring("hunter2"))
		},
		Entry("a username naming another device", noiseC, false, connectPacket("c", "c.d", "hunter2"), handshake.Noise, handshake.ReasonBadUsername),
		Entry("another device's client ID", noiseC, false, connectPacket("c.d", "", "hunter2"), handshake.Noise, handshake.ReasonClientID),
		Entry("plain: a wildcard as client ID", handshake.Identity{}, true, connectPacket("+", "", "hunter2"), broker.PlainProfile, handshake.ReasonClientID),
		Entry("plain: two topic levels as client ID", handshake.Identity{}, true, connectPacket("a/b", "", "hunter2"), broker.PlainProfile, handshake.ReasonClientID),
		Entry("plain: a username naming another device", handshake.Identity{}, true, connectPacket("c", "d", "hunter2"), broker.PlainProfile, handshake.ReasonBadUsername),
	)

	It("refuses a will on another device's topic", func() {
		cp := connectPacket("c", "", "")
		cp.WillFlag, cp.WillTopic, cp.WillMessage = true, "devices/c.d/status", []byte("gone")
		p := attach(noiseC, false)
		Expect(connect(p, cp)).NotTo(BeZero())
		Expect(obs.count(handshake.Noise, handshake.ReasonACLWill)).To(Equal(1))

		cp.WillTopic = "devices/c/status"
		Expect(connect(attach(noiseC, false), cp)).To(BeZero())
	})

	It("fails every filter reaching past the device's namespace, counting the SUBSCRIBE once", func() {
		p := connected()
		sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
		sp.MessageID = 7
		sp.Topics = []string{"devices/c/#", "devices/+/#", "devices/c.d/#", "#"}
		sp.Qoss = []byte{1, 1, 1, 1}
		p.send(sp)
		ack := p.receive().(*packets.SubackPacket)
		Expect(ack.ReturnCodes).To(Equal([]byte{1, 0x80, 0x80, 0x80}))
		Expect(obs.count(handshake.Noise, handshake.ReasonACLSubscribe)).To(Equal(1))
	})

	It("drops a PUBLISH into another device's namespace, counts each, and logs the reason, rate-limited, never the payload", func() {
		p := connected()
		const n = 50
		for i := 0; i < n; i++ {
			p.send(publishPacket("devices/c.d/telemetry", "SECRET-PAYLOAD", 0, 0))
		}
		// Packets of one session are handled in order: once the marker
		// arrives, every refused publish before it was judged.
		p.send(publishPacket("devices/c/telemetry", "marker", 0, 0))
		Eventually(inbox).WithTimeout(5 * time.Second).Should(Receive(Equal("devices/c/telemetry marker")))
		Expect(inbox).NotTo(Receive())
		Expect(obs.count(handshake.Noise, handshake.ReasonACLPublish)).To(Equal(n))

		var published int
		for _, r := range logRecords() {
			Expect(r).NotTo(ContainSubstring("SECRET-PAYLOAD"))
			Expect(r).To(ContainSubstring(`"level":"INFO"`))
			if strings.Contains(r, `"reason":"acl_publish"`) {
				published++
				Expect(r).To(ContainSubstring(`"device":"c"`))
			}
		}
		Expect(published).To(Equal(lograte.DefaultBurst))

		// MQTT 3.1.1 has no negative PUBACK: a refused QoS 1 PUBLISH ends
		// the session, and mochi's record of it keeps its payload to itself.
		go io.Copy(io.Discard, p.conn) //nolint:errcheck // ends with the conn
		p.send(publishPacket("devices/c-d/telemetry", "SECRET-PAYLOAD", 1, 9))
		Eventually(p.ended).WithTimeout(5 * time.Second).Should(BeClosed())
		Expect(obs.count(handshake.Noise, handshake.ReasonACLPublish)).To(Equal(n + 1))
		Expect(string(logs.Contents())).NotTo(ContainSubstring("SECRET-PAYLOAD"))
		Expect(string(logs.Contents())).NotTo(ContainSubstring(`"level":"WARN"`))
	})

	It("counts a session ended by a malformed packet", func() {
		p := connected()
		// A SUBSCRIBE without filters [MQTT-3.8.3-3].
		go io.Copy(io.Discard, p.conn) //nolint:errcheck // ends with the conn
		_, err := p.conn.Write([]byte{0x82, 0x02, 0x00, 0x01})
		Expect(err).NotTo(HaveOccurred())
		Eventually(p.ended).WithTimeout(5 * time.Second).Should(BeClosed())
		Expect(p.err).To(HaveOccurred())
		Expect(obs.count(handshake.Noise, handshake.ReasonMalformed) + obs.count(handshake.Noise, handshake.ReasonProtocolViolation)).To(Equal(1))
	})
})
