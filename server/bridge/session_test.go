package bridge

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
)

// standIn is the external broker of the specs that need no mosquitto: an
// independent MQTT implementation (mochi) letting every client in and
// recording what the bridge forwards.
type standIn struct {
	srv  *mqtt.Server
	addr string
	mu   sync.Mutex
	got  []packets.Packet
}

// recordHook lets every client in and records the packets it reads.
type recordHook struct {
	mqtt.HookBase
	s *standIn
}

func (h *recordHook) ID() string { return "record" }
func (h *recordHook) Provides(b byte) bool {
	return b == mqtt.OnPacketRead || b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}
func (h *recordHook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }
func (h *recordHook) OnACLCheck(*mqtt.Client, string, bool) bool              { return true }
func (h *recordHook) OnPacketRead(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.got = append(h.s.got, pk)
	return pk, nil
}

func startStandIn() *standIn {
	s := &standIn{srv: mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})}
	Expect(s.srv.AddHook(&recordHook{s: s}, nil)).To(Succeed())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s.addr = ln.Addr().String()
	Expect(s.srv.AddListener(listeners.NewNet("t", ln))).To(Succeed())
	Expect(s.srv.Serve()).To(Succeed())
	return s
}

// topics returns the topics of the PUBLISH packets the stand-in read, and
// the filters of its SUBSCRIBE packets.
func (s *standIn) topics() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, pk := range s.got {
		switch pk.FixedHeader.Type {
		case packets.Publish:
			out = append(out, pk.TopicName)
		case packets.Subscribe:
			for _, f := range pk.Filters {
				out = append(out, "sub:"+f.Filter)
			}
		}
	}
	return out
}

func (s *standIn) connects() []packets.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []packets.Packet
	for _, pk := range s.got {
		if pk.FixedHeader.Type == packets.Connect {
			out = append(out, pk)
		}
	}
	return out
}

// counter is an Observer counting refusals by reason.
type counter struct {
	mu sync.Mutex
	n  map[handshake.Reason]int
}

func newCounter() *counter { return &counter{n: map[handshake.Reason]int{}} }

func (c *counter) Refused(_ handshake.Name, r handshake.Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[r]++
}

func (c *counter) count(r handshake.Reason) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[r]
}

// rig is one device session through the bridge over a pipe, driven byte by
// byte from the device's end.
type rig struct {
	conn net.Conn
	r    *bufio.Reader
	done chan error // AttachDevice's result
}

func attach(br *Bridge, id handshake.Identity) *rig {
	dev, srv := net.Pipe()
	g := &rig{conn: dev, r: bufio.NewReader(dev), done: make(chan error, 1)}
	go func() { g.done <- br.AttachDevice(srv, id) }()
	DeferCleanup(func() {
		g.conn.Close()
		Eventually(g.done).WithTimeout(5 * time.Second).Should(Receive())
	})
	return g
}

func (g *rig) send(raw []byte) {
	GinkgoHelper()
	g.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := g.conn.Write(raw)
	Expect(err).NotTo(HaveOccurred())
}

func (g *rig) recv(v byte) packets.Packet {
	GinkgoHelper()
	g.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := readPacket(g.r, DefaultMaxPacket)
	Expect(err).NotTo(HaveOccurred())
	pk, err := decodeAny(p, v)
	Expect(err).NotTo(HaveOccurred())
	return pk
}

// recvRaw returns the next packet's bytes.
func (g *rig) recvRaw() []byte {
	GinkgoHelper()
	g.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := readPacket(g.r, DefaultMaxPacket)
	Expect(err).NotTo(HaveOccurred())
	return p.raw
}

// ended waits for the session's end and returns AttachDevice's error.
func (g *rig) ended() error {
	GinkgoHelper()
	var err error
	Eventually(g.done).WithTimeout(5 * time.Second).Should(Receive(&err))
	g.done <- err // for the cleanup
	return err
}

// connect sends a CONNECT and expects the broker's CONNACK accepting it.
func (g *rig) connect(v byte, clientID string) {
	GinkgoHelper()
	g.send(connectOf(v, clientID, "", ""))
	ack := g.recv(v)
	Expect(ack.FixedHeader.Type).To(Equal(packets.Connack))
	Expect(ack.ReasonCode).To(Equal(packets.CodeSuccess.Code))
}

// decodeAny decodes the packets a device receives, which decode cannot.
func decodeAny(p packet, v byte) (pk packets.Packet, err error) {
	pk.FixedHeader, pk.ProtocolVersion = p.fh, v
	switch p.fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(p.body)
	case packets.Suback:
		err = pk.SubackDecode(p.body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(p.body)
	case packets.Pingresp:
	default:
		return decode(p, v)
	}
	return pk, err
}

func reasonOf(err error) handshake.Reason {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he.Reason
	}
	return ""
}

var _ = Describe("a device session through the bridge", func() {
	var (
		si    *standIn
		br    *Bridge
		obs   *counter
		dials atomic.Int32
	)

	newBridge := func(o Options) *Bridge {
		if o.Broker == "" {
			o.Broker = "tcp://" + si.addr
		}
		o.Observer = obs
		o.BrokerUsername, o.BrokerPassword = brokerUser, brokerPass
		o.Grants, o.Passwords = testPolicy().grants, testPolicy().passwords
		o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		b, err := New(o)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		return b
	}

	BeforeEach(func() {
		si = startStandIn()
		DeferCleanup(si.srv.Close)
		obs = newCounter()
		dials.Store(0)
		br = newBridge(Options{})
	})

	DescribeTable("carries a session both ways",
		func(v byte) {
			g := attach(br, idA)
			g.connect(v, devA)
			Expect(si.connects()).To(HaveLen(1))
			Expect(si.connects()[0].Connect.ClientIdentifier).To(Equal(devA))
			Expect(string(si.connects()[0].Connect.Username)).To(Equal(brokerUser))

			g.send(subscribeOf(v, 1, "devices/"+devA+"/cmd"))
			ack := g.recv(v)
			Expect(ack.FixedHeader.Type).To(Equal(packets.Suback))
			Expect(ack.ReasonCodes).To(Equal([]byte{packets.CodeGrantedQos1.Code}))

			Expect(si.srv.Publish("devices/"+devA+"/cmd", []byte("reboot"), false, 0)).To(Succeed())
			pub := g.recv(v)
			Expect(pub.FixedHeader.Type).To(Equal(packets.Publish))
			Expect(pub.TopicName).To(Equal("devices/" + devA + "/cmd"))
			Expect(string(pub.Payload)).To(Equal("reboot"))

			g.send(publishOf(v, "devices/"+devA+"/telemetry", 0, "21.5"))
			Eventually(si.topics).Should(ContainElement("devices/" + devA + "/telemetry"))

			g.send(disconnectOf(v))
			g.conn.Close()
			Expect(g.ended()).To(Succeed())
			Expect(dials.Load()).To(Equal(int32(1)))
		},
		Entry("MQTT 3.1.1", version311),
		Entry("MQTT 5", version5),
	)

	It("answers a refused CONNECT itself and never dials the broker", func() {
		g := attach(br, idA)
		g.send(connectOf(version311, devB, "", ""))
		Expect(g.recvRaw()).To(Equal([]byte{0x20, 0x02, 0x00, 0x05}))
		err := g.ended()
		Expect(reasonOf(err)).To(Equal(handshake.ReasonClientID))
		Expect(err.Error()).NotTo(ContainSubstring(devB))
		Expect(dials.Load()).To(BeZero())
		Expect(obs.count(handshake.ReasonClientID)).To(Equal(1))
	})

	It("ends the session on a PUBLISH to another device's topic, which the broker never sees", func() {
		g := attach(br, idA)
		g.connect(version311, devA)
		g.send(publishOf(version311, "devices/"+devB+"/cmd", 1, "open the door"))
		Expect(reasonOf(g.ended())).To(Equal(handshake.ReasonACLPublish))
		Expect(obs.count(handshake.ReasonACLPublish)).To(Equal(1))
		Consistently(si.topics).Within(200 * time.Millisecond).ShouldNot(ContainElement("devices/" + devB + "/cmd"))
	})

	It("answers a SUBSCRIBE to another device's topics itself and keeps the session", func() {
		g := attach(br, idA)
		g.connect(version311, devA)
		g.send(subscribeOf(version311, 5, "devices/"+devB+"/#"))
		Expect(g.recvRaw()).To(Equal([]byte{0x90, 0x03, 0x00, 0x05, 0x80}))
		g.send(subscribeOf(version311, 6, "devices/"+devA+"/cmd"))
		ack := g.recv(version311)
		Expect(ack.PacketID).To(Equal(uint16(6)))
		Expect(ack.ReasonCodes).To(Equal([]byte{packets.CodeGrantedQos1.Code}))
		Expect(si.topics()).To(Equal([]string{"sub:devices/" + devA + "/cmd"}))
		Expect(obs.count(handshake.ReasonACLSubscribe)).To(Equal(1))
	})

	It("tells an MQTT 5 device why a malformed packet ends its session", func() {
		g := attach(br, idA)
		g.connect(version5, devA)
		g.send(malformedAfterConnect[10].raw) // the SUBSCRIBE lacking its options byte
		dis := g.recv(version5)
		Expect(dis.FixedHeader.Type).To(Equal(packets.Disconnect))
		Expect(dis.ReasonCode).To(Equal(packets.ErrMalformedPacket.Code))
		Expect(reasonOf(g.ended())).To(Equal(handshake.ReasonMalformed))
		Expect(obs.count(handshake.ReasonMalformed)).To(Equal(1))
	})

	It("ends the session on a packet longer than the limit without reading it", func() {
		br = newBridge(Options{MaxPacket: 1024})
		g := attach(br, idA)
		g.connect(version311, devA)
		g.send([]byte{
			0x30,       // PUBLISH, QoS 0
			0x80, 0x10, // remaining length 2048
		})
		Expect(reasonOf(g.ended())).To(Equal(handshake.ReasonOversizePacket))
	})

	It("answers CONNACK server unavailable when the broker is unreachable", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		gone := ln.Addr().String()
		ln.Close()
		br = newBridge(Options{Broker: "tcp://" + gone})
		g := attach(br, idA)
		g.send(connectOf(version311, devA, "", ""))
		Expect(g.recvRaw()).To(Equal([]byte{0x20, 0x02, 0x00, 0x03}))
		Expect(reasonOf(g.ended())).To(Equal(handshake.ReasonBrokerUnavailable))
	})

	It("ends a session whose CONNECT does not come", func() {
		br = newBridge(Options{ConnectTimeout: 50 * time.Millisecond})
		g := attach(br, idA)
		Expect(reasonOf(g.ended())).To(Equal(handshake.ReasonConnectTimeout))
		Expect(obs.count(handshake.ReasonConnectTimeout)).To(Equal(1))
		Expect(obs.count(handshake.ReasonIdleTimeout)).To(BeZero())
		Expect(dials.Load()).To(BeZero())
	})

	It("ends an idle session", func() {
		br = newBridge(Options{IdleTimeout: 100 * time.Millisecond})
		g := attach(br, idA)
		g.connect(version311, devA)
		Expect(reasonOf(g.ended())).To(Equal(handshake.ReasonIdleTimeout))
		Expect(obs.count(handshake.ReasonIdleTimeout)).To(Equal(1))
	})

	It("holds a device to one and a half times a keep alive shorter than the idle bound", func() {
		pk := connectPacket(version311, devA, "", "")
		pk.Connect.Keepalive = 1
		f := newFilter(testPolicy(), idA)
		Expect(judge(f, enc(pk)).reason).To(BeEmpty())
		s := &session{b: br, f: f}
		Expect(s.idle()).To(Equal(1500 * time.Millisecond))
		f.keepAlive = 0
		Expect(s.idle()).To(Equal(DefaultIdleTimeout))
		f.keepAlive = 65535
		Expect(s.idle()).To(Equal(DefaultIdleTimeout))
	})

	It("ends the device's session when the broker ends it", func() {
		g := attach(br, idA)
		g.connect(version5, devA)
		cl, ok := si.srv.Clients.Get(devA)
		Expect(ok).To(BeTrue())
		si.srv.DisconnectClient(cl, packets.ErrSessionTakenOver)
		dis := g.recv(version5)
		Expect(dis.FixedHeader.Type).To(Equal(packets.Disconnect))
		Expect(dis.ReasonCode).To(Equal(packets.ErrSessionTakenOver.Code))
		Expect(g.ended()).To(Succeed())
	})

	It("ends every session on Close, and takes no more", func() {
		g1, g2 := attach(br, idA), attach(br, handshake.Identity{Profile: handshake.Seed, DeviceID: devB})
		g1.connect(version311, devA)
		g2.connect(version311, devB)
		Eventually(br.Sessions).Should(Equal(2))
		Expect(br.Close()).To(Succeed())
		Expect(g1.ended()).To(MatchError(ErrClosed))
		Expect(g2.ended()).To(MatchError(ErrClosed))
		Expect(br.Sessions()).To(BeZero())
		Expect(br.Close()).To(Succeed())
		a, b := net.Pipe()
		defer a.Close()
		Expect(br.AttachDevice(b, idA)).To(MatchError(ErrClosed))
	})

	DescribeTable("New refuses a broker address it cannot dial",
		func(addr string) {
			_, err := New(Options{Broker: addr})
			Expect(err).To(HaveOccurred())
		},
		Entry("empty", ""),
		Entry("no scheme", "127.0.0.1:1883"),
		Entry("TLS", "ssl://127.0.0.1:8883"),
		Entry("no port", "tcp://127.0.0.1"),
		Entry("a path", "tcp://127.0.0.1:1883/x"),
	)
})

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
