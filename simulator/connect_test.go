package simulator_test

import (
	"context"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/servertest"
	"shakedown/simulator"
)

// afterHandshake is a gateway sink that never answers the CONNECT: it reads
// until the device gives up, or closes the session at once.
type afterHandshake struct{ hangUp bool }

func (s afterHandshake) AttachDevice(conn net.Conn, _ handshake.Identity) error {
	if s.hangUp {
		return conn.Close()
	}
	_, err := io.Copy(io.Discard, conn)
	return err
}

// connectDeadline bounds the connects of these specs: the handshake must
// complete within it, even on a loaded machine, for the CONNACK to be the
// step that times out.
const connectDeadline = 3 * time.Second

var _ = Describe("Connect's failure reasons after a completed handshake", func() {
	var set *fixtures.Set

	BeforeEach(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "simulator-connect", DevicesPerProfile: 1, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
	})

	connect := func(sink server.Sink) (handshake.Reason, time.Duration) {
		srv, err := servertest.Start(servertest.Options{Profiles: []handshake.Name{handshake.Noise}, Devices: set.Records(),
			NoiseCurrent: set.NoiseCurrent, Limits: server.Limits{HandshakeTimeout: 5 * time.Second}, Sink: sink})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)

		fd := set.DevicesOf(handshake.Noise)[0]
		dev, _, _, err := simulator.NewDevice(set, fd, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		var tm simulator.ConnectTimings
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.Addr(handshake.Noise), ClientID: fd.ID,
			HandshakeTimeout: connectDeadline, KeepAlive: -1, Timings: &tm})
		Expect(err).To(HaveOccurred())
		Expect(c).To(BeNil())
		Expect(tm.Handshaken).NotTo(BeZero(), "the handshake completed: the failure is the CONNACK's")
		return simulator.FailureReason(err), time.Since(start)
	}

	It("calls a CONNACK that never comes a timeout, not an I/O failure", func() {
		reason, took := connect(afterHandshake{})
		Expect(reason).To(Equal(handshake.ReasonTimeout))
		Expect(took).To(BeNumerically(">=", connectDeadline), "the connect's deadline, not an early close")
	})

	It("calls a session closed before the CONNACK an I/O failure or a reset", func() {
		reason, _ := connect(afterHandshake{hangUp: true})
		Expect(reason).To(BeElementOf(handshake.ReasonIO, handshake.ReasonConnReset))
	})
})

// A lean device meets a broker that answers CONNECT and then sends what no
// server sends: the session ends with a typed reason, counted, and the
// process goes on.
var _ = Describe("a lean device against a hostile broker", func() {
	DescribeTable("ends the session with the reason of what it read",
		func(after []byte, reason handshake.Reason) {
			addr, stop := hostileBroker(after)
			defer stop()
			sc := simulator.DefaultScenario()
			sc.Target, sc.Engine = simulator.TargetBroker, simulator.EngineLean
			sc.Broker = simulator.Broker{Addr: addr, ClientID: "lean-{n}"}
			sc.Devices, sc.Hold, sc.PublishInterval, sc.Subscriptions = 1, time.Hour, 0, nil
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := run(ctx, simulator.Config{Scenario: sc})
			Expect(res.Interrupted).To(BeFalse(), "the device ended at once, not at the hold's end")
			Expect(res.Counts.Connected).To(BeEquivalentTo(1))
			Expect(res.Counts.SessionsLost).To(BeEquivalentTo(1))
			Expect(res.Failures).To(Equal(map[string]map[string]int64{simulator.FailSession: {string(reason): 1}}))
		},
		Entry("a remaining length over the limit", []byte{0x30, 0xff, 0xff, 0xff, 0x7f}, handshake.ReasonOversizePacket),
		Entry("a remaining length of five bytes", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, handshake.ReasonMalformed),
		Entry("a second CONNACK", []byte{0x20, 0x02, 0x00, 0x00}, handshake.ReasonProtocolViolation),
		Entry("a SUBSCRIBE", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}, handshake.ReasonProtocolViolation),
		Entry("a PUBLISH of QoS 3", []byte{0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}, handshake.ReasonMalformed),
		Entry("a PUBLISH shorter than its topic", []byte{0x30, 0x03, 0x00, 0x09, 'a'}, handshake.ReasonMalformed),
		Entry("a closed connection", []byte{}, handshake.ReasonIO),
	)
})

// hostileBroker accepts one connection, answers its CONNECT with an
// accepting CONNACK and writes after; then it closes when the device does,
// or at once when after is empty.
func hostileBroker(after []byte) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 256)
		if _, err := c.Read(buf); err != nil { // the CONNECT: small, in one segment on loopback
			return
		}
		c.Write(append([]byte{0x20, 0x02, 0x00, 0x00}, after...))
		if len(after) > 0 {
			io.Copy(io.Discard, c) // until the device closes
		}
	}()
	return ln.Addr().String(), func() {
		ln.Close()
		Eventually(done).WithTimeout(30 * time.Second).Should(BeClosed())
	}
}
