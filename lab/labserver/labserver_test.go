package labserver_test

import (
	"context"
	"net"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/lab/labserver"
	"shakedown/mitm"
	"shakedown/simulator"
)

var _ = Describe("the lab's server", Ordered, func() {
	var (
		set *fixtures.Set
		srv *labserver.Server
	)
	BeforeAll(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "labserver-test", DevicesPerProfile: 1, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		srv, err = labserver.Start(set, nil)
		Expect(err).NotTo(HaveOccurred())
	})
	AfterAll(func() {
		Expect(srv.Close()).To(Succeed())
		Expect(srv.Close()).To(Succeed(), "a second Close is harmless")
	})

	It("serves every listener the lab names, and no other", func() {
		for _, l := range mitm.Listeners {
			a, err := srv.Addr(l)
			Expect(err).NotTo(HaveOccurred(), string(l))
			Expect(a).To(HavePrefix("127.0.0.1:"))
		}
		_, err := srv.Addr("tls-elsewhere")
		Expect(err).To(HaveOccurred())
	})

	It("gives a device of each profile its profile's listener, and none to another profile", func() {
		seen := map[string]bool{}
		for _, p := range []handshake.Name{handshake.Noise, handshake.Seed, handshake.PSK, handshake.TLS} {
			a, err := srv.AddrOf(p)
			Expect(err).NotTo(HaveOccurred(), string(p))
			Expect(srv.Addr(mitm.ListenerOf(p))).To(Equal(a))
			Expect(seen).NotTo(HaveKey(a), "one listener per profile")
			seen[a] = true
		}
		_, err := srv.AddrOf("telnet")
		Expect(err).To(MatchError(ContainSubstring("no telnet listener")))
	})

	It("logs a refused handshake with its profile, listener and reason", func() {
		mark := srv.Mark()
		a, err := srv.Addr(mitm.ListenPSK)
		Expect(err).NotTo(HaveOccurred())
		c, err := net.Dial("tcp", a)
		Expect(err).NotTo(HaveOccurred())
		_, err = c.Write(handshake.AppendFrame(nil, []byte{0x07, 0x01, 'x'})) // version 7
		Expect(err).NotTo(HaveOccurred())
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err = c.Read(make([]byte, 1))
		Expect(err).To(HaveOccurred(), "the server answers a refusal by closing")
		Expect(err).NotTo(MatchError(os.ErrDeadlineExceeded), "closed by the server, not by the spec's deadline")
		c.Close()
		Eventually(func() []mitm.ServerEvent { return srv.Events(mark) }).Should(ContainElement(
			mitm.ServerEvent{Listener: mitm.ListenPSK, Profile: handshake.PSK, Reason: handshake.ReasonMalformed}))
		Expect(srv.Events(srv.Mark())).To(BeEmpty())
	})

	It("delivers device telemetry to the backend and commands to the device", func() {
		d := set.DevicesOf(handshake.PSK)[0]
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		a, err := srv.Addr(mitm.ListenPSK)
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: a, ClientID: d.ID, HandshakeTimeout: 30 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		defer c.Disconnect(50)
		got := make(chan string, 1)
		tok := c.Subscribe("devices/"+d.ID+"/cmd", 1, func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) })
		Expect(tok.WaitTimeout(30 * time.Second)).To(BeTrue())
		pt := c.Publish("devices/"+d.ID+"/telemetry", 1, false, "21.5")
		Expect(pt.WaitTimeout(30 * time.Second)).To(BeTrue())
		Eventually(func() int { return srv.Count("devices/"+d.ID+"/telemetry", []byte("21.5")) }).Should(Equal(1))
		Expect(srv.Command("devices/"+d.ID+"/cmd", []byte("reboot"))).To(Succeed())
		Eventually(got).Should(Receive(Equal("reboot")))
	})

	It("rolls the noise server key over when told", func() {
		d := set.DevicesOf(handshake.Noise)[0]
		pins, err := noise.NewPins(set.NoiseNext.Public)
		Expect(err).NotTo(HaveOccurred())
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{Pins: pins})
		Expect(err).NotTo(HaveOccurred())
		a, err := srv.Addr(mitm.ListenNoise)
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err = handshake.Dial(ctx, dev, "tcp", a)
		Expect(err).To(HaveOccurred(), "the server does not hold the next key yet")
		srv.SetNoiseKeys(noise.ServerKeys{Current: set.NoiseNext})
		defer srv.SetNoiseKeys(noise.ServerKeys{Current: set.NoiseCurrent})
		conn, err := handshake.Dial(ctx, dev, "tcp", a)
		Expect(err).NotTo(HaveOccurred())
		conn.Close()
	})
})
