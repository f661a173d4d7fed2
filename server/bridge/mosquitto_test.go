package bridge

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/server"
	"shakedown/server/servertest"
	"shakedown/simulator"
)

// Environment of the specs against a real mosquitto (scripts/mosquitto.sh).
const (
	envMosquittoAddr    = "SHAKEDOWN_MOSQUITTO_ADDR"
	envRequireMosquitto = "SHAKEDOWN_REQUIRE_MOSQUITTO"
)

// devicesPerProfile is the fleet each profile brings to mosquitto.
const devicesPerProfile = 100

// each runs fn(0..n-1) with at most width calls at once and returns the errors.
func each(n, width int, fn func(i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

var _ = Describe("the bridge in front of mosquitto", Ordered, Label("mosquitto"), func() {
	var (
		set     *fixtures.Set
		br      *Bridge
		obs     *counter
		srv     *servertest.Server
		box     *servertest.Inbox
		backend paho.Client
		run     string // this run's mark in every payload: the broker may be shared
		ctx     context.Context
	)

	BeforeAll(func() {
		mosq := os.Getenv(envMosquittoAddr)
		if mosq == "" {
			if os.Getenv(envRequireMosquitto) == "1" {
				Fail(envRequireMosquitto + "=1 but " + envMosquittoAddr + " is empty: start one with scripts/mosquitto.sh start")
			}
			Skip("no mosquitto: set " + envMosquittoAddr + "=$(scripts/mosquitto.sh start) to run these specs")
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
		DeferCleanup(cancel)
		nonce := make([]byte, 6)
		rand.Read(nonce)
		run = hex.EncodeToString(nonce)

		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "bridge-test", DevicesPerProfile: devicesPerProfile, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		dir := handshaketest.NewDirectory(set.Records()...)
		obs = newCounter()
		pw, err := server.MachinePasswords(dir, set.Passwords())
		Expect(err).NotTo(HaveOccurred())
		br, err = New(Options{Broker: "tcp://" + mosq, Passwords: pw.Check, Observer: obs})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(br.Close)
		srv, err = servertest.Start(servertest.Options{Directory: dir, NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker,
			Limits: server.DefaultLimits, Sink: br})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close) // before the bridge's: cleanups run last in, first out

		box = &servertest.Inbox{}
		backend, err = simulator.Connect(ctx, simulator.ClientConfig{Addr: mosq, ClientID: "shakedown-backend-" + run})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { backend.Disconnect(100) })
		tok := backend.Subscribe("devices/#", 1, func(_ paho.Client, m paho.Message) { box.Receive(m.Topic(), m.Payload()) })
		Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
		Expect(tok.Error()).NotTo(HaveOccurred())
	})

	connect := func(d fixtures.Device, clientID string, lost func(error)) (paho.Client, error) {
		dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		if err != nil {
			return nil, err
		}
		return simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(d.Profile), ClientID: clientID,
			Username: user, Password: pass, OnConnectionLost: lost})
	}

	for _, p := range handshake.Profiles {
		It(fmt.Sprintf("carries %d devices a profile over %s to mosquitto and back", devicesPerProfile, p), func() {
			devs := set.DevicesOf(p)
			clients := make([]paho.Client, len(devs))
			cmds := make([]chan string, len(devs))
			errs := each(len(devs), 25, func(i int) error {
				d := devs[i]
				cmds[i] = make(chan string, 1)
				c, err := connect(d, d.ID, nil)
				if err != nil {
					return fmt.Errorf("%s: connecting: %w", d.ID, err)
				}
				clients[i] = c
				tok := c.Subscribe("devices/"+d.ID+"/cmd", 1, func(_ paho.Client, m paho.Message) { cmds[i] <- string(m.Payload()) })
				if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					return fmt.Errorf("%s: subscribing: %v", d.ID, tok.Error())
				}
				if got := tok.(*paho.SubscribeToken).Result()["devices/"+d.ID+"/cmd"]; got != 1 {
					return fmt.Errorf("%s: SUBACK %#x", d.ID, got)
				}
				pt := c.Publish("devices/"+d.ID+"/telemetry", 1, false, run+" hello from "+d.ID)
				if !pt.WaitTimeout(10*time.Second) || pt.Error() != nil {
					return fmt.Errorf("%s: publishing: %v", d.ID, pt.Error())
				}
				return nil
			})
			DeferCleanup(func() {
				each(len(clients), 50, func(i int) error {
					if clients[i] != nil {
						clients[i].Disconnect(50)
					}
					return nil
				})
				Eventually(br.Sessions).WithTimeout(10 * time.Second).Should(BeZero())
			})
			for _, err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(br.Sessions()).To(Equal(len(devs)))

			Eventually(func() []string {
				var missing []string
				for _, d := range devs {
					if !slices.Contains(box.Messages("devices/"+d.ID+"/telemetry"), run+" hello from "+d.ID) {
						missing = append(missing, d.ID)
					}
				}
				return missing
			}).WithTimeout(10*time.Second).Should(BeEmpty(), "telemetry the backend did not receive")

			for _, d := range devs {
				Expect(backend.Publish("devices/"+d.ID+"/cmd", 1, false, run+" reboot "+d.ID).WaitTimeout(10 * time.Second)).To(BeTrue())
			}
			for i, d := range devs {
				Eventually(cmds[i]).WithTimeout(10*time.Second).Should(Receive(Equal(run+" reboot "+d.ID)), d.ID)
			}
			for _, r := range []handshake.Reason{handshake.ReasonClientID, handshake.ReasonBadPassword, handshake.ReasonACLPublish, handshake.ReasonACLSubscribe, handshake.ReasonMalformed} {
				Expect(obs.count(r)).To(BeZero(), "refusals of a well-behaved fleet: %s", r)
			}
		})
	}

	Describe("holding one device to its identity", func() {
		DescribeTable("refuses device A the client ID of device B",
			func(p handshake.Name) {
				a, b := set.DevicesOf(p)[0], set.DevicesOf(p)[1]
				before := obs.count(handshake.ReasonClientID)
				_, err := connect(a, b.ID, nil)
				Expect(err).To(MatchError(ContainSubstring("not Authorized")))
				// paho tries MQTT 3.1.1, then 3.1: each CONNECT is refused.
				Expect(obs.count(handshake.ReasonClientID)).To(BeNumerically(">", before))
			},
			Entry("noise", handshake.Noise), Entry("seed", handshake.Seed), Entry("psk", handshake.PSK), Entry("tls", handshake.TLS),
		)

		It("refuses a tls device with a wrong password", func() {
			d := set.DevicesOf(handshake.TLS)[0]
			dev, user, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{TLSPassword: true})
			Expect(err).NotTo(HaveOccurred())
			before := obs.count(handshake.ReasonBadPassword)
			_, err = simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(handshake.TLS), ClientID: d.ID, Username: user, Password: "guess"})
			Expect(err).To(MatchError(ContainSubstring("not Authorized")))
			Expect(obs.count(handshake.ReasonBadPassword)).To(BeNumerically(">", before))
		})

		It("refuses device A a subscription to device B's topics, which mosquitto never gets", func() {
			a, b := set.DevicesOf(handshake.Noise)[0], set.DevicesOf(handshake.Noise)[1]
			c, err := connect(a, a.ID, nil)
			Expect(err).NotTo(HaveOccurred())
			defer c.Disconnect(50)
			spied := make(chan string, 10)
			tok := c.Subscribe("devices/"+b.ID+"/#", 1, func(_ paho.Client, m paho.Message) { spied <- string(m.Payload()) })
			Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
			Expect(tok.(*paho.SubscribeToken).Result()).To(HaveKeyWithValue("devices/"+b.ID+"/#", byte(0x80)))
			Expect(obs.count(handshake.ReasonACLSubscribe)).To(Equal(1))

			secret := run + " for " + b.ID + " only"
			Expect(backend.Publish("devices/"+b.ID+"/cmd", 1, false, secret).WaitTimeout(10 * time.Second)).To(BeTrue())
			Eventually(func() bool { return slices.Contains(box.Messages("devices/"+b.ID+"/cmd"), secret) }).Should(BeTrue())
			Consistently(spied).Within(500 * time.Millisecond).ShouldNot(Receive())
			Expect(c.IsConnectionOpen()).To(BeTrue(), "a refused subscription keeps the session")
		})

		It("ends device A's session on a publish to device B's topic, which mosquitto never gets", func() {
			a, b := set.DevicesOf(handshake.Noise)[0], set.DevicesOf(handshake.Noise)[1]
			lost := make(chan error, 1)
			c, err := connect(a, a.ID, func(err error) { lost <- err })
			Expect(err).NotTo(HaveOccurred())
			defer c.Disconnect(50)
			forged := run + " forged by " + a.ID
			c.Publish("devices/"+b.ID+"/x", 1, false, forged)
			Eventually(lost).WithTimeout(5 * time.Second).Should(Receive())
			Expect(obs.count(handshake.ReasonACLPublish)).To(Equal(1))
			Consistently(func() bool { return slices.Contains(box.Messages("devices/"+b.ID+"/x"), forged) }).Within(time.Second).Should(BeFalse())
		})
	})

	Describe("hostile bytes after the handshake", func() {
		// rawSession completes device n's noise handshake and MQTT CONNECT of
		// version v and returns the conn that carries MQTT.
		rawSession := func(n int, v byte) *rig {
			d := set.DevicesOf(handshake.Noise)[n]
			dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
			Expect(err).NotTo(HaveOccurred())
			hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
			defer hcancel()
			conn, err := handshake.Dial(hctx, dev, "tcp", srv.Addr(handshake.Noise))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(conn.Close)
			g := &rig{conn: conn, r: bufio.NewReader(conn)}
			g.connect(v, d.ID)
			return g
		}

		// endedByBridge expects the bridge to close the session.
		endedByBridge := func(g *rig, v byte) {
			g.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				p, err := readPacket(g.r, DefaultMaxPacket)
				if err != nil {
					Expect(isTimeout(err)).To(BeFalse(), "the session is still open")
					return
				}
				// An MQTT 5 device may hear why first.
				Expect(v).To(Equal(version5))
				Expect(p.fh.Type).To(Equal(packets.Disconnect))
			}
		}

		for i, c := range malformedAfterConnect {
			It("ends the session on "+c.name, func() {
				before := obs.count(handshake.ReasonMalformed)
				g := rawSession(10+i, c.v)
				g.send(c.raw)
				endedByBridge(g, c.v)
				Eventually(func() int { return obs.count(handshake.ReasonMalformed) }).Should(Equal(before + 1))
			})
		}

		It("ends the session on a packet longer than the limit", func() {
			g := rawSession(40, version311)
			g.send([]byte{
				0x30,             // PUBLISH, QoS 0
				0x80, 0x80, 0x20, // remaining length 524,288
			})
			endedByBridge(g, version311)
			Eventually(func() int { return obs.count(handshake.ReasonOversizePacket) }).Should(Equal(1))
		})

		It("still serves devices afterwards", func() {
			d := set.DevicesOf(handshake.Noise)[41]
			c, err := connect(d, d.ID, nil)
			Expect(err).NotTo(HaveOccurred())
			c.Disconnect(50)
		})
	})
})
