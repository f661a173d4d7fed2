package servertest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/server/servertest"
	"shakedown/simulator"
)

// observer counts what a gateway tells its Observer.
type observer struct {
	mu        sync.Mutex
	refused   map[handshake.Reason]int
	sessions  int
	transport int
}

func (o *observer) Handshake(_ handshake.Name, reason handshake.Reason, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused[reason]++
}

func (o *observer) Session(_ handshake.Name, delta int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sessions += delta
}

func (o *observer) Bytes(handshake.Name, bool, int) {}

func (o *observer) TransportFailed(handshake.Name, handshake.Reason) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.transport++
}

func (o *observer) count(reason handshake.Reason) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refused[reason]
}

// options returns the Options of set's devices and keys.
func options(set *fixtures.Set) servertest.Options {
	return servertest.Options{Devices: set.Records(), Passwords: set.Passwords(),
		NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker}
}

func start(o servertest.Options) *servertest.Server {
	GinkgoHelper()
	srv, err := servertest.Start(o)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	return srv
}

var _ = Describe("an in-process server", func() {
	var (
		set *fixtures.Set
		ctx context.Context
	)

	BeforeEach(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "servertest", DevicesPerProfile: 2, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		DeferCleanup(cancel)
	})

	// connect runs fixture device d's handshake and MQTT CONNECT on addr.
	connect := func(d fixtures.Device, addr string) (paho.Client, error) {
		dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		return simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: addr, ClientID: d.ID, Username: user, Password: pass})
	}
	// dial runs fixture device d's handshake on addr.
	dial := func(d fixtures.Device, addr string) (net.Conn, error) {
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return handshake.Dial(hctx, dev, "tcp", addr)
	}

	It("listens on loopback for every profile, and carries each profile's devices to the broker and its subscriber", func() {
		box := &servertest.Inbox{}
		o := options(set)
		o.Subscriber = box.Receive
		srv := start(o)
		Expect(srv.Addrs()).To(HaveLen(len(handshake.Profiles)))
		for _, p := range handshake.Profiles {
			host, _, err := net.SplitHostPort(srv.Addr(p))
			Expect(err).NotTo(HaveOccurred())
			Expect(host).To(Equal("127.0.0.1"))
			d := set.DevicesOf(p)[0]
			c, err := connect(d, srv.Addr(p))
			Expect(err).NotTo(HaveOccurred(), string(p))
			t := c.Publish("devices/"+d.ID+"/telemetry", 1, false, "hello over "+string(p))
			Expect(t.WaitTimeout(10 * time.Second)).To(BeTrue())
			Expect(t.Error()).NotTo(HaveOccurred())
			Eventually(func() []string { return box.Messages("devices/" + d.ID + "/telemetry") }).Should(Equal([]string{"hello over " + string(p)}))
			c.Disconnect(50)
		}
		Expect(srv.Handshakes("")).To(Equal(len(handshake.Profiles)))
		Expect(srv.Refused()).To(BeEmpty())
		Expect(srv.Backend()).To(BeEmpty(), "no backend listener without a password")
	})

	It("listens for the chosen profiles only, and opens the backend listener on request", func() {
		o := options(set)
		o.Profiles = []handshake.Name{handshake.Noise}
		o.BackendUser, o.BackendPassword = "dashboard", "s3cret"
		srv := start(o)
		Expect(srv.Addrs()).To(HaveKey(handshake.Noise))
		Expect(srv.Addrs()).To(HaveLen(1))
		Expect(srv.Addr(handshake.Seed)).To(BeEmpty())

		got := make(chan string, 1)
		backend, err := simulator.Connect(ctx, simulator.ClientConfig{Addr: srv.Backend(), ClientID: "dashboard", Username: "dashboard", Password: "s3cret"})
		Expect(err).NotTo(HaveOccurred())
		defer backend.Disconnect(50)
		tok := backend.Subscribe("devices/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
		Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
		Expect(tok.Error()).NotTo(HaveOccurred())
		d := set.DevicesOf(handshake.Noise)[0]
		c, err := connect(d, srv.Addr(handshake.Noise))
		Expect(err).NotTo(HaveOccurred())
		defer c.Disconnect(50)
		c.Publish("devices/"+d.ID+"/telemetry", 1, false, "to the backend")
		Eventually(got).Should(Receive(Equal("to the backend")))

		_, err = simulator.Connect(ctx, simulator.ClientConfig{Addr: srv.Backend(), ClientID: "intruder", Username: "dashboard", Password: "guess"})
		Expect(err).To(HaveOccurred())
	})

	It("counts refusals, and tells the spec's Observer about them and about sessions", func() {
		obs := &observer{refused: map[handshake.Reason]int{}}
		o := options(set)
		o.Observer = obs
		srv := start(o)
		d := set.DevicesOf(handshake.Noise)[0]
		c, err := connect(d, srv.Addr(handshake.Noise))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int { obs.mu.Lock(); defer obs.mu.Unlock(); return obs.sessions }).Should(Equal(1))
		c.Disconnect(50)

		srv.Directory.Revoke(d.ID)
		_, err = connect(d, srv.Addr(handshake.Noise))
		Expect(err).To(HaveOccurred())
		Eventually(srv.Refused).Should(Equal([]handshake.Reason{handshake.ReasonRevoked}))
		Expect(srv.Handshakes(handshake.ReasonRevoked)).To(Equal(1))
		Expect(srv.Handshakes("")).To(Equal(1))
		Expect(obs.count(handshake.ReasonRevoked)).To(Equal(1))
		Expect(obs.count("")).To(Equal(1))
	})

	It("passes a session that ends on a failed record on to an Observer that counts them", func() {
		obs := &observer{refused: map[handshake.Reason]int{}}
		o := options(set)
		o.Observer, o.Sink = obs, &servertest.Echo{}
		srv := start(o)
		dev, _, _, err := simulator.NewDevice(set, set.DevicesOf(handshake.PSK)[0], simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		raw, err := net.Dial("tcp", srv.Addr(handshake.PSK))
		Expect(err).NotTo(HaveOccurred())
		defer raw.Close()
		_, err = dev.Handshake(ctx, raw)
		Expect(err).NotTo(HaveOccurred())
		// Two bytes of length, then a record no device sealed.
		_, err = raw.Write(append([]byte{0x00, 0x20}, bytes.Repeat([]byte{0xee}, 0x20)...))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int { obs.mu.Lock(); defer obs.mu.Unlock(); return obs.transport }).Should(Equal(1))
	})

	It("serves the directory it is given, with the devices of Options added: two servers share one", func() {
		noiseDev, pskDev := set.DevicesOf(handshake.Noise)[0], set.DevicesOf(handshake.PSK)[0]
		o := options(set)
		o.Devices = []handshake.DeviceRecord{noiseDev.Record()}
		first := start(o)
		o.Directory, o.Devices = first.Directory, []handshake.DeviceRecord{pskDev.Record()}
		srv := start(o)
		Expect(srv.Directory).To(BeIdenticalTo(first.Directory))
		for _, d := range []fixtures.Device{noiseDev, pskDev} {
			conn, err := dial(d, srv.Addr(d.Profile))
			Expect(err).NotTo(HaveOccurred(), d.ID)
			conn.Close()
		}
		Expect(first.Directory.Counter(noiseDev.ID)).NotTo(BeZero(), "the handshake counted in the shared directory")
		_, err := dial(set.DevicesOf(handshake.Noise)[1], srv.Addr(handshake.Noise))
		Expect(err).To(HaveOccurred(), "a device in neither")
	})

	It("refuses the broker's options beside a Sink", func() {
		o := options(set)
		o.Sink, o.Subscriber = &servertest.Echo{}, func(string, []byte) {}
		_, err := servertest.Start(o)
		Expect(err).To(MatchError(ContainSubstring("servertest: Subscriber, BackendPassword and ConnectTimeout")))
		o.Subscriber, o.BackendPassword = nil, "s3cret"
		_, err = servertest.Start(o)
		Expect(err).To(HaveOccurred())
	})

	It("refuses a profile it does not know", func() {
		_, err := servertest.Start(servertest.Options{Profiles: []handshake.Name{"telnet"}})
		Expect(err).To(MatchError(ContainSubstring(`profile "telnet"`)))
	})

	Describe("with an Echo for a Sink", func() {
		It("answers every message of a session and keeps its identity", func() {
			echo := &servertest.Echo{}
			o := options(set)
			o.Sink = echo
			srv := start(o)
			Expect(srv.Broker).To(BeNil())
			d := set.DevicesOf(handshake.Seed)[0]
			conn, err := dial(d, srv.Addr(handshake.Seed))
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close()
			Expect(exchange(conn, "ping", len("pong:ping"))).To(Equal("pong:ping"))
			Expect(echo.Identities()).To(ConsistOf(HaveField("DeviceID", d.ID)))
		})

		It("answers with its Reply", func() {
			echo := &servertest.Echo{Reply: func(m []byte) []byte { return append(m, m...) }}
			o := options(set)
			o.Sink = echo
			srv := start(o)
			conn, err := dial(set.DevicesOf(handshake.PSK)[0], srv.Addr(handshake.PSK))
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close()
			Expect(exchange(conn, "ab", 4)).To(Equal("abab"))
		})
	})

	It("changes the noise keys of a running server", func() {
		srv := start(options(set))
		d := set.DevicesOf(handshake.Noise)[0]
		conn, err := dial(d, srv.Addr(handshake.Noise))
		Expect(err).NotTo(HaveOccurred())
		conn.Close()
		other, err := noise.GenerateKeypair(rand.Reader)
		Expect(err).NotTo(HaveOccurred())
		srv.SetNoiseKeys(noise.ServerKeys{Current: other})
		_, err = dial(d, srv.Addr(handshake.Noise))
		Expect(err).To(HaveOccurred(), "the device pins the old key")
		Eventually(srv.Refused).Should(Equal([]handshake.Reason{handshake.ReasonDecrypt}))
	})

	It("adds a listener with a certificate of its own, in front of the same broker", func() {
		box := &servertest.Inbox{}
		o := options(set)
		o.Subscriber = box.Receive
		srv := start(o)
		wrapped := make(chan string, 4)
		addr, err := srv.Listen(servertest.Listener{Profile: handshake.TLS, Certificate: set.BrokerRenewed,
			Wrap: func(s server.Sink) server.Sink { return noted{Sink: s, ids: wrapped} }})
		Expect(err).NotTo(HaveOccurred())
		Expect(addr).NotTo(Equal(srv.Addr(handshake.TLS)))

		tc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reads the certificate only
		Expect(err).NotTo(HaveOccurred())
		Expect(tc.ConnectionState().PeerCertificates[0].Raw).To(Equal(set.BrokerRenewed.Certificate[0]))
		tc.Close()

		d := set.DevicesOf(handshake.TLS)[0]
		c, err := connect(d, addr)
		Expect(err).NotTo(HaveOccurred())
		defer c.Disconnect(50)
		// The certificate check above may have made a session of no device.
		Eventually(wrapped).Should(Receive(Equal(d.ID)))
		c.Publish("devices/"+d.ID+"/telemetry", 1, false, "renewed")
		Eventually(func() []string { return box.Messages("devices/" + d.ID + "/telemetry") }).Should(Equal([]string{"renewed"}))
		Expect(srv.Handshakes("")).To(BeNumerically(">=", 1))
	})

	It("ends its sessions and listeners at Close, and is safe to close twice", func() {
		o := options(set)
		o.Sink = &servertest.Echo{}
		srv, err := servertest.Start(o)
		Expect(err).NotTo(HaveOccurred())
		conn, err := dial(set.DevicesOf(handshake.PSK)[0], srv.Addr(handshake.PSK))
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		extra, err := srv.Listen(servertest.Listener{Profile: handshake.Noise})
		Expect(err).NotTo(HaveOccurred())

		Expect(srv.Close()).To(Succeed())
		Expect(srv.Close()).To(Succeed())
		Expect(conn.SetReadDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		_, err = conn.Read(make([]byte, 1))
		Expect(err).To(HaveOccurred(), "the session was closed")
		for _, a := range []string{srv.Addr(handshake.Noise), extra} {
			_, err = net.Dial("tcp", a)
			Expect(err).To(HaveOccurred(), a)
		}
		_, err = srv.Listen(servertest.Listener{Profile: handshake.Noise})
		Expect(err).To(MatchError(ContainSubstring("closed")))
	})
})

// exchange writes msg on conn and reads an answer of n bytes.
func exchange(conn net.Conn, msg string, n int) string {
	GinkgoHelper()
	Expect(conn.SetDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
	_, err := conn.Write([]byte(msg))
	Expect(err).NotTo(HaveOccurred())
	got := make([]byte, n)
	_, err = io.ReadFull(conn, got)
	Expect(err).NotTo(HaveOccurred())
	return string(got)
}

// noted is a wrapped Sink that reports each session's device.
type noted struct {
	server.Sink
	ids chan<- string
}

func (n noted) AttachDevice(conn net.Conn, id handshake.Identity) error {
	select {
	case n.ids <- id.DeviceID:
	default:
	}
	return n.Sink.AttachDevice(conn, id)
}
