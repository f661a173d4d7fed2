package emulated_test

import (
	"time"

	. "github.com/onsi/gomega"

	"shakedown/boards/emulated"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/servertest"
)

// serverHandshakeTimeout is the server's deadline for one handshake. An
// ATmega328P under simavr computes its noise message 1 (three or four
// X25519 operations) after the harness has connected, so the server waits
// longer than `shakedown serve`'s default.
const serverHandshakeTimeout = 60 * time.Second

// serverConnectTimeout bounds the broker's wait for a board's CONNECT
// after the handshake. A board computes its side of the handshake after
// the server's last message: the seed profile's P-256 takes an ATmega328P
// under simavr 300 M cycles, past broker.DefaultConnectTimeout on a busy
// machine.
const serverConnectTimeout = time.Minute

// labServer is the reference server in process (servertest) with the
// noise and seed listeners of a fixture set, whose broker's inline client
// (Broker.Publish) and subscriber stand in for the application.
type labServer struct {
	*servertest.Server
	set   *fixtures.Set
	inbox *servertest.Inbox // what devices published
}

func startServer() *labServer {
	// Two devices of each profile per chip: the chips' own specs use the
	// first (chips_test.go), the reflash spec the second (reflash_test.go).
	set, err := fixtures.Build(fixtures.Options{Seed: "boards-emulated", DevicesPerProfile: 2 * len(emulated.Chips())})
	Expect(err).NotTo(HaveOccurred())
	s := &labServer{set: set, inbox: &servertest.Inbox{}}
	s.Server, err = servertest.Start(servertest.Options{Profiles: []handshake.Name{handshake.Noise, handshake.Seed},
		Devices: set.Records(), Passwords: set.Passwords(), NoiseCurrent: set.NoiseCurrent,
		Limits: server.Limits{HandshakeTimeout: serverHandshakeTimeout}, ConnectTimeout: serverConnectTimeout, Subscriber: s.inbox.Receive})
	Expect(err).NotTo(HaveOccurred())
	return s
}

// delivered returns a poller of what devices published on topic.
func (s *labServer) delivered(topic string) func() []string {
	return func() []string { return s.inbox.Messages(topic) }
}

// device returns a device of the fixture set.
func (s *labServer) device(id string) fixtures.Device {
	d, ok := s.set.Device(id)
	Expect(ok).To(BeTrue(), "no fixture device %s", id)
	return d
}
