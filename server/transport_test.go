package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/server/lograte"
	"shakedown/server/servertest"
	"shakedown/simulator"
)

// failureRecorder is an Observer and a TransportObserver.
type failureRecorder struct {
	recorder
	mu     sync.Mutex
	failed map[string]int // "profile reason"
}

func (r *failureRecorder) TransportFailed(p handshake.Name, reason handshake.Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed[string(p)+" "+string(reason)]++
}

func (r *failureRecorder) count(p handshake.Name, reason handshake.Reason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed[string(p)+" "+string(reason)]
}

// spoilConn changes the next write the device makes once armed: the
// attacker on the path alters a record, or plays it twice.
type spoilConn struct {
	net.Conn
	mu     sync.Mutex
	armed  bool
	at     int  // the byte to flip
	replay bool // send the write twice instead
	cut    bool // send half of the write, then close
}

func (c *spoilConn) arm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = true
}

func (c *spoilConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	armed := c.armed
	c.armed = false
	c.mu.Unlock()
	if !armed {
		return c.Conn.Write(p)
	}
	q := append([]byte(nil), p...)
	switch {
	case c.replay:
		q = append(q, p...)
	case c.cut:
		c.Conn.Write(q[:len(q)/2])
		return 0, c.Conn.Close()
	default:
		q[c.at] ^= 0x01
	}
	if _, err := c.Conn.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ = Describe("a session whose record fails after the handshake", Ordered, func() {
	var (
		set    *fixtures.Set
		srv    *servertest.Server
		obs    *failureRecorder
		logs   *gbytes.Buffer
		ctx    context.Context
		cancel context.CancelFunc
	)

	BeforeAll(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "transport-test", DevicesPerProfile: 1, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		obs = &failureRecorder{recorder: recorder{reasons: map[handshake.Reason]int{}}, failed: map[string]int{}}
		logs = gbytes.NewBuffer()
		srv, err = servertest.Start(servertest.Options{Devices: set.Records(), Passwords: set.Passwords(),
			NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker,
			Limits: server.DefaultLimits, Observer: obs, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	})

	AfterAll(func() {
		Expect(srv.Close()).To(Succeed())
		cancel()
	})

	DescribeTable("is counted with the record's reason and logged at info, without the payload",
		func(p handshake.Name, spoil *spoilConn, reason handshake.Reason) {
			d := set.DevicesOf(p)[0]
			dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
			Expect(err).NotTo(HaveOccurred())
			c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(p), ClientID: d.ID, Username: user, Password: pass,
				KeepAlive: -1, WrapConn: func(conn net.Conn) net.Conn { spoil.Conn = conn; return spoil }})
			Expect(err).NotTo(HaveOccurred())
			defer c.Disconnect(0)
			before := obs.count(p, reason)

			spoil.arm()
			c.Publish("devices/"+d.ID+"/telemetry", 1, false, "SECRET-PAYLOAD")
			Eventually(func() int { return obs.count(p, reason) }).WithTimeout(10 * time.Second).Should(Equal(before + 1))
			Eventually(logs).Should(gbytes.Say(`"level":"INFO","msg":"session ended on a failed record","profile":"` + string(p) + `","reason":"` + string(reason) + `"`))
			Expect(string(logs.Contents())).NotTo(ContainSubstring("SECRET-PAYLOAD"))
		},
		// Frames: 2 bytes of length, then the record; byte 5 is in its ciphertext.
		Entry("noise, an altered record", handshake.Noise, &spoilConn{at: 5}, handshake.ReasonDecrypt),
		Entry("noise, a replayed record", handshake.Noise, &spoilConn{replay: true}, handshake.ReasonDecrypt),
		Entry("seed, an altered record", handshake.Seed, &spoilConn{at: 5}, handshake.ReasonDecrypt),
		Entry("psk, a replayed record", handshake.PSK, &spoilConn{replay: true}, handshake.ReasonDecrypt),
		Entry("noise, a record cut short", handshake.Noise, &spoilConn{cut: true}, handshake.ReasonShortFrame),
		// TLS records: 5 bytes of header, then the ciphertext.
		Entry("tls, an altered record", handshake.TLS, &spoilConn{at: 8}, handshake.ReasonDecrypt),
	)

	It("logs refused handshakes at info with their reason, a few per reason, and counts every one", func() {
		before := srv.Handshakes(handshake.ReasonDecrypt)
		const n = 20
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", srv.Addr(handshake.Noise))
			Expect(err).NotTo(HaveOccurred())
			// A message 1 of the right length that no device wrote.
			_, err = c.Write(append([]byte{0x00, noise.MsgLenIK1}, bytes.Repeat([]byte{0xee}, noise.MsgLenIK1)...))
			Expect(err).NotTo(HaveOccurred())
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = c.Read(make([]byte, 1))
			Expect(err).To(HaveOccurred(), "the server answers nothing and closes")
			c.Close()
		}
		Eventually(func() int { return srv.Handshakes(handshake.ReasonDecrypt) }).Should(Equal(before + n))
		logged := bytes.Count(logs.Contents(), []byte(`"level":"INFO","msg":"handshake refused","profile":"noise","reason":"decrypt_failed"`))
		Expect(logged).To(BeNumerically(">=", 1))
		Expect(logged).To(BeNumerically("<=", 2*lograte.DefaultBurst), "rate-limited: at most a burst per 10 s")
		Expect(string(logs.Contents())).NotTo(ContainSubstring(`"msg":"handshake refused","profile":"noise","reason":"io"`))
	})

	It("leaves a session that ends cleanly uncounted", func() {
		d := set.DevicesOf(handshake.Noise)[0]
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		before := map[handshake.Reason]int{}
		for _, r := range []handshake.Reason{handshake.ReasonDecrypt, handshake.ReasonShortFrame, handshake.ReasonOversizeFrame} {
			before[r] = obs.count(handshake.Noise, r)
		}
		c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(handshake.Noise), ClientID: d.ID})
		Expect(err).NotTo(HaveOccurred())
		t := c.Publish("devices/"+d.ID+"/telemetry", 1, false, "fine")
		Expect(t.WaitTimeout(10 * time.Second)).To(BeTrue())
		c.Disconnect(50)
		Eventually(srv.Gateway.Sessions).WithTimeout(5 * time.Second).Should(BeZero())
		for r, n := range before {
			Expect(obs.count(handshake.Noise, r)).To(Equal(n), string(r))
		}
	})
})
