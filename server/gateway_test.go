package server_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/servertest"
	"shakedown/simulator"
)

var _ = Describe("gateway with the embedded broker", Ordered, func() {
	var (
		set     *fixtures.Set
		srv     *servertest.Server
		backend mqtt.Client
		box     *servertest.Inbox
		ctx     context.Context
		cancel  context.CancelFunc
	)

	BeforeAll(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "gateway-test", DevicesPerProfile: 2, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		srv, err = servertest.Start(servertest.Options{Devices: set.Records(), Passwords: set.Passwords(),
			NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker,
			Limits: server.DefaultLimits, BackendUser: "backend", BackendPassword: "s3cret"})
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		box = &servertest.Inbox{}
		backend, err = simulator.Connect(ctx, simulator.ClientConfig{Addr: srv.Backend(), ClientID: "dashboard", Username: "backend", Password: "s3cret"})
		Expect(err).NotTo(HaveOccurred())
		tok := backend.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) { box.Receive(m.Topic(), m.Payload()) })
		Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
		Expect(tok.Error()).NotTo(HaveOccurred())
	})

	AfterAll(func() {
		backend.Disconnect(100)
		Expect(srv.Close()).To(Succeed())
		cancel()
	})

	connect := func(d fixtures.Device, profile handshake.Name, clientID string) (mqtt.Client, error) {
		dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		return simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(profile), ClientID: clientID, Username: user, Password: pass})
	}

	for _, p := range handshake.Profiles {
		p := p
		It(fmt.Sprintf("carries MQTT publish and subscribe over the %s profile", p), func() {
			for _, d := range set.DevicesOf(p) {
				c, err := connect(d, p, d.ID)
				Expect(err).NotTo(HaveOccurred(), d.ID)
				own := make(chan string, 1)
				tok := c.Subscribe("devices/"+d.ID+"/cmd", 1, func(_ mqtt.Client, m mqtt.Message) { own <- string(m.Payload()) })
				Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
				Expect(tok.Error()).NotTo(HaveOccurred())
				Expect(tok.(*mqtt.SubscribeToken).Result()).To(HaveKeyWithValue("devices/"+d.ID+"/cmd", byte(1)))
				pt := c.Publish("devices/"+d.ID+"/telemetry", 1, false, "hello from "+d.ID)
				Expect(pt.WaitTimeout(10 * time.Second)).To(BeTrue())
				Expect(pt.Error()).NotTo(HaveOccurred())
				Eventually(func() []string { return box.Messages("devices/" + d.ID + "/telemetry") }).
					WithTimeout(5 * time.Second).Should(ContainElement("hello from " + d.ID))
				bt := backend.Publish("devices/"+d.ID+"/cmd", 1, false, "reboot")
				Expect(bt.WaitTimeout(10 * time.Second)).To(BeTrue())
				Eventually(own).WithTimeout(5 * time.Second).Should(Receive(Equal("reboot")))
				c.Disconnect(50)
			}
		})
	}

	It("refuses a client ID other than the authenticated device's", func() {
		a, b := set.DevicesOf(handshake.Noise)[0], set.DevicesOf(handshake.Noise)[1]
		_, err := connect(a, handshake.Noise, b.ID)
		Expect(err).To(MatchError(ContainSubstring("not Authorized")))
	})

	It("refuses a subscription to another device's topics", func() {
		a, b := set.DevicesOf(handshake.Noise)[0], set.DevicesOf(handshake.Noise)[1]
		c, err := connect(a, handshake.Noise, a.ID)
		Expect(err).NotTo(HaveOccurred())
		defer c.Disconnect(50)
		tok := c.Subscribe("devices/"+b.ID+"/#", 1, nil)
		Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
		Expect(tok.(*mqtt.SubscribeToken).Result()).To(HaveKeyWithValue("devices/"+b.ID+"/#", byte(0x80)))
	})

	It("refuses a noise device on the seed and psk listeners (no downgrade)", func() {
		d := set.DevicesOf(handshake.Noise)[0]
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, p := range []handshake.Name{handshake.Seed, handshake.PSK} {
			hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
			conn, err := handshake.Dial(hctx, dev, "tcp", srv.Addr(p))
			hcancel()
			if conn != nil {
				conn.Close()
			}
			Expect(err).To(HaveOccurred(), "noise device on the %s listener", p)
		}
		// And a psk device on the seed listener, where the registry says psk.
		pd := set.DevicesOf(handshake.PSK)[0]
		pdev, _, _, err := simulator.NewDevice(set, pd, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		raw, err := net.Dial("tcp", srv.Addr(handshake.Seed))
		Expect(err).NotTo(HaveOccurred())
		defer raw.Close()
		hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
		defer hcancel()
		c, err := pdev.Handshake(hctx, raw)
		if err == nil {
			// psk sends no answer: the seed server's refusal shows as a closed conn.
			_, err = c.Read(make([]byte, 1))
		}
		Expect(err).To(HaveOccurred())
	})

	It("lets a tls device in by its machine password instead of its certificate", func() {
		d := set.DevicesOf(handshake.TLS)[0]
		dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{TLSPassword: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(pass).To(Equal(d.Password()))
		c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(handshake.TLS), ClientID: d.ID, Username: user, Password: pass})
		Expect(err).NotTo(HaveOccurred())
		c.Disconnect(50)
	})

	It("refuses a tls device with a wrong MQTT password", func() {
		d := set.DevicesOf(handshake.TLS)[0]
		dev, user, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{TLSPassword: true})
		Expect(err).NotTo(HaveOccurred())
		_, err = simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(handshake.TLS), ClientID: d.ID, Username: user, Password: "guess"})
		Expect(err).To(MatchError(ContainSubstring("not Authorized")))
	})

	It("binds a tls device's client ID to its certificate", func() {
		a, b := set.DevicesOf(handshake.TLS)[0], set.DevicesOf(handshake.TLS)[1]
		_, err := connect(a, handshake.TLS, b.ID)
		Expect(err).To(MatchError(ContainSubstring("not Authorized")))
	})

	It("refuses the certificate of a revoked tls device in the handshake", func() {
		d := set.DevicesOf(handshake.TLS)[1]
		c, err := connect(d, handshake.TLS, d.ID)
		Expect(err).NotTo(HaveOccurred())
		c.Disconnect(50)
		srv.Directory.Revoke(d.ID)
		before := srv.Handshakes(handshake.ReasonRevoked)
		_, err = connect(d, handshake.TLS, d.ID)
		Expect(err).To(HaveOccurred())
		Eventually(func() int { return srv.Handshakes(handshake.ReasonRevoked) }).Should(Equal(before + 1))
	})

	It("refuses a revoked device at its next handshake", func() {
		d := set.DevicesOf(handshake.Noise)[1]
		c, err := connect(d, handshake.Noise, d.ID)
		Expect(err).NotTo(HaveOccurred())
		c.Disconnect(50)
		srv.Directory.Revoke(d.ID)
		before := srv.Handshakes(handshake.ReasonRevoked)
		_, err = connect(d, handshake.Noise, d.ID)
		// The device learns nothing but a closed conn; the server counts why.
		Expect(err).To(HaveOccurred())
		Eventually(func() int { return srv.Handshakes(handshake.ReasonRevoked) }).Should(Equal(before + 1))
	})
})

// recorder is a server.Observer that counts handshake results by reason.
type recorder struct {
	mu      sync.Mutex
	reasons map[handshake.Reason]int
}

func (r *recorder) Handshake(_ handshake.Name, reason handshake.Reason, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons[reason]++
}

func (r *recorder) Session(handshake.Name, int)     {}
func (r *recorder) Bytes(handshake.Name, bool, int) {}

func (r *recorder) count(reason handshake.Reason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reasons[reason]
}
