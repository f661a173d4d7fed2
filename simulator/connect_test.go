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
