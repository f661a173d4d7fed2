package board_test

import (
	"errors"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"shakedown/boards/virtual"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/suites/measure"
)

var errSessionUsed = errors.New("board suite: the board's session carried an MQTT connection already")

const (
	qos         = 1
	mqttTimeout = 30 * time.Second
)

// provision stores d's identity on the board as a CI job does from a
// fixture set (measure.Provisioning). The board keeps its own message-1
// counter across identities, always greater than the last.
func provision(d fixtures.Device) {
	p, err := measure.Provisioning(set, d)
	Expect(err).NotTo(HaveOccurred())
	Expect(board.Provision(ctx(), p)).To(Succeed())
}

// relayHandshake runs d's profile on the board, the harness relaying to the
// server process.
func relayHandshake(d fixtures.Device, attempts int) *harness.Session {
	s, err := board.Handshake(ctx(), harness.HandshakeOptions{Profile: d.Profile, Server: listener(d.Profile), Attempts: attempts})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close) // leave the board free whatever happens
	Expect(s.Result.Reason).To(BeEmpty())
	Expect(s.Result.Profile).To(Equal(d.Profile))
	return s
}

func wait(tok mqtt.Token) {
	GinkgoHelper()
	Expect(tok.WaitTimeout(mqttTimeout)).To(BeTrue(), "no answer from the broker")
	Expect(tok.Error()).NotTo(HaveOccurred())
}

func clientOptions(addr, clientID string) *mqtt.ClientOptions {
	return mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID).
		SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).
		SetConnectTimeout(mqttTimeout).SetOrderMatters(false).
		SetProtocolVersion(4) // MQTT 3.1.1; no fallback to 3.1 after a refusal
}

// inbox is what the backend client received, by topic.
type inbox struct {
	mu  sync.Mutex
	got map[string][]string
}

func (b *inbox) add(_ mqtt.Client, m mqtt.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got[m.Topic()] = append(b.got[m.Topic()], string(m.Payload()))
}

func (b *inbox) messages(topic string) func() []string {
	return func() []string {
		b.mu.Lock()
		defer b.mu.Unlock()
		return append([]string(nil), b.got[topic]...)
	}
}

// deviceClient is a paho client running over the board's session.
type deviceClient struct {
	mqtt.Client
	id   string
	cmds chan string // devices/{id}/cmd
	lost chan error  // the connection-lost handler's errors
}

// connectOverBoard runs an MQTT client over s as clientID (a tls board's
// client certificate named it in the handshake). It returns paho's CONNECT
// error, if any.
func connectOverBoard(s *harness.Session, d fixtures.Device, clientID string) (*deviceClient, error) {
	c := &deviceClient{id: d.ID, cmds: make(chan string, 8), lost: make(chan error, 1)}
	var opened atomic.Bool
	opts := clientOptions(listener(d.Profile), clientID).
		// One session, one MQTT connection: a second call (paho retrying)
		// would need a new handshake.
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
			if opened.Swap(true) {
				return nil, errSessionUsed
			}
			return s.Conn(), nil
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case c.lost <- err:
			default:
			}
		})
	c.Client = mqtt.NewClient(opts)
	tok := c.Connect()
	Expect(tok.WaitTimeout(mqttTimeout)).To(BeTrue(), "no CONNACK")
	if err := tok.Error(); err != nil {
		return nil, err
	}
	DeferCleanup(func() {
		if c.IsConnectionOpen() {
			c.Disconnect(100)
		}
	})
	st := c.Subscribe("devices/"+d.ID+"/cmd", qos, func(_ mqtt.Client, m mqtt.Message) { c.cmds <- string(m.Payload()) })
	wait(st)
	Expect(st.(*mqtt.SubscribeToken).Result()).To(HaveKeyWithValue("devices/"+d.ID+"/cmd", byte(qos)))
	return c, nil
}

var _ = Describe("a board against shakedown serve", Ordered, Label("board"), func() {
	var (
		backend mqtt.Client
		box     *inbox
	)

	BeforeAll(func() {
		box = &inbox{got: map[string][]string{}}
		backend = mqtt.NewClient(clientOptions(ready.Listeners["backend"], "board-suite-backend").
			SetUsername(backendUser).SetPassword(backendPassword))
		wait(backend.Connect())
		DeferCleanup(func() { backend.Disconnect(100) })
		wait(backend.Subscribe("devices/#", qos, box.add))
	})

	// exchange sends telemetry from the board to the backend and a command
	// from the backend to the board, both through the server process.
	exchange := func(c *deviceClient, tag string) {
		GinkgoHelper()
		topic, msg := "devices/"+c.id+"/telemetry", tag+": telemetry from the board as "+c.id
		wait(c.Publish(topic, qos, false, msg))
		Eventually(box.messages(topic)).Should(ContainElement(msg))
		cmd := tag + ": command for " + c.id
		wait(backend.Publish("devices/"+c.id+"/cmd", qos, false, cmd))
		Eventually(c.cmds).Should(Receive(Equal(cmd)))
	}

	expectIdle := func() {
		GinkgoHelper()
		h, err := board.Hello(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(h.State).To(Equal(bp.StateIdle))
	}

	DescribeTable("relays each profile's handshake to the server, then carries MQTT over the board's session",
		func(id string) {
			d := device(id)
			provision(d)
			s := relayHandshake(d, 1)
			Expect(s.Attempts).To(Equal(1))
			Expect(s.Result.Sent).To(BeNumerically(">", 0))
			if d.Profile != handshake.PSK { // psk's server answers nothing before the session
				Expect(s.Result.Received).To(BeNumerically(">", 0))
			}

			c, err := connectOverBoard(s, d, d.ID)
			Expect(err).NotTo(HaveOccurred())
			exchange(c, string(d.Profile))
			c.Disconnect(250)
			Eventually(s.Done()).Should(BeClosed())
			expectIdle()
		},
		Entry("noise", "noise-0001"),
		Entry("seed on P-256", "seed-p256-0001"),
		Entry("seed on secp160r1", "seed-secp160r1-0001"),
		Entry("psk", "psk-0001"),
		Entry("tls, with the device's MQTT password", "tls-0001"),
	)

	It("binds MQTT to the board's handshake identity: another device's client ID is refused", func() {
		d := device("noise-0002")
		provision(d)
		s := relayHandshake(d, 1)
		_, err := connectOverBoard(s, d, "noise-0001")
		Expect(err).To(MatchError(ContainSubstring("not Authorized")))
		Eventually(s.Done()).Should(BeClosed())
		expectIdle()
	})

	It("recovers a reset in the middle of a handshake against the server process", func() {
		d := device("noise-0003")
		provision(d)
		counter := vb.MessageCounter(handshake.Noise)
		_, boots := board.LastBoot()
		vb.SetFaults(virtual.Faults{ResetInHandshake: 1, Banner: "\r\nboard-suite: watchdog reset\r\n"})

		s := relayHandshake(d, 2)
		Expect(s.Attempts).To(Equal(2))
		// The cut attempt spent a counter the board had persisted; the
		// server accepts the next one.
		Expect(s.Result.Counter).To(Equal(counter + 2))
		boot, n := board.LastBoot()
		Expect(n).To(Equal(boots + 1))
		Expect(boot.Reason).To(Equal(bp.BootWatchdog))
		Eventually(console).Should(gbytes.Say("board-suite: watchdog reset"))
		Expect(board.Stats().BadFrames).To(BeNumerically(">=", 1)) // the frame cut in half

		c, err := connectOverBoard(s, d, d.ID)
		Expect(err).NotTo(HaveOccurred())
		exchange(c, "after the reset")
		c.Disconnect(250)
		Eventually(s.Done()).Should(BeClosed())
	})

	It("drains on SIGTERM, the board's session going on until the drain ends, and exits 0", func() {
		d := device("noise-0001")
		provision(d)
		s := relayHandshake(d, 1)
		c, err := connectOverBoard(s, d, d.ID)
		Expect(err).NotTo(HaveOccurred())
		exchange(c, "before SIGTERM")

		sent := time.Now()
		server.Signal(syscall.SIGTERM)
		Eventually(server.Err).Should(gbytes.Say("draining"))
		exchange(c, "while draining")
		Eventually(server).WithTimeout(drain + 30*time.Second).Should(gexec.Exit(0))
		AddReportEntry("SIGTERM to exit", time.Since(sent).Round(time.Millisecond).String())

		Eventually(c.lost).Should(Receive())
		Eventually(s.Done()).Should(BeClosed())
		expectIdle()
	})
})
