package emulated_test

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/server/broker"
)

// serverHandshakeTimeout is the server's deadline for one handshake. An
// ATmega328P under simavr computes its noise message 1 (three or four
// X25519 operations) after the harness has connected, so the server waits
// longer than `shakedown serve`'s default.
const serverHandshakeTimeout = 60 * time.Second

// labServer is the reference server in process: a gateway with the noise
// and seed listeners of a fixture set and the embedded broker behind it,
// whose backend side (Publish, Subscribe) stands in for the application.
type labServer struct {
	set    *fixtures.Set
	dir    *handshaketest.Directory
	broker *broker.Embedded
	gw     *server.Gateway
	addrs  map[handshake.Name]string

	mu    sync.Mutex
	inbox map[string][]string // what devices published, by topic
	once  sync.Once
}

func startServer() *labServer {
	set, err := fixtures.Build(fixtures.Options{Seed: "boards-emulated", DevicesPerProfile: 3})
	Expect(err).NotTo(HaveOccurred())
	s := &labServer{set: set, dir: handshaketest.NewDirectory(set.Records()...),
		addrs: map[handshake.Name]string{}, inbox: map[string][]string{}}
	pass := make([]byte, 16)
	_, err = rand.Read(pass)
	Expect(err).NotTo(HaveOccurred())
	pw, err := server.MachinePasswords(s.dir, set.Passwords())
	Expect(err).NotTo(HaveOccurred())
	s.broker, err = broker.New(broker.Options{Passwords: pw.Check,
		BackendUser: "emulated-backend", BackendPassword: hex.EncodeToString(pass)})
	Expect(err).NotTo(HaveOccurred())
	Expect(s.broker.Subscribe("devices/#", 1, s.receive)).To(Succeed())
	s.gw = server.NewGateway(s.broker, server.Limits{HandshakeTimeout: serverHandshakeTimeout}, nil, nil)
	deps := server.ProfileDeps{Directory: s.dir, Counters: s.dir,
		NoiseKeys: noise.NewKeyRing(noise.ServerKeys{Current: set.NoiseCurrent})}
	for _, p := range []handshake.Name{handshake.Noise, handshake.Seed} {
		srv, err := server.NewProfileServer(p, deps)
		Expect(err).NotTo(HaveOccurred())
		a, err := s.gw.Listen("127.0.0.1:0", srv)
		Expect(err).NotTo(HaveOccurred())
		s.addrs[p] = a.String()
	}
	return s
}

// close stops the gateway and the broker; safe twice.
func (s *labServer) close() {
	s.once.Do(func() {
		s.gw.Close(time.Second)
		s.broker.Close()
	})
}

func (s *labServer) receive(topic string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbox[topic] = append(s.inbox[topic], string(payload))
}

// delivered returns a poller of what devices published on topic.
func (s *labServer) delivered(topic string) func() []string {
	return func() []string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return append([]string(nil), s.inbox[topic]...)
	}
}

// device returns a device of the fixture set.
func (s *labServer) device(id string) fixtures.Device {
	d, ok := s.set.Device(id)
	Expect(ok).To(BeTrue(), "no fixture device %s", id)
	return d
}
