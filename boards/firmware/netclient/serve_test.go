package netclient_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/simulator"
)

const backendPassword = "netclient-test"

// serveProc is a `shakedown serve` process on a fixture set, with a backend
// subscriber to devices/#.
type serveProc struct {
	set       *fixtures.Set
	listeners map[string]string // the ready file: profile, "backend" -> host:port
	mu        sync.Mutex
	got       map[string][]string // topic -> payloads the subscriber received
}

func (s *serveProc) messages(topic string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got[topic]...)
}

// startServe builds the binary, makes a fixture set with two noise
// devices and runs `shakedown serve` on it until the container ends.
func startServe() *serveProc {
	dir := GinkgoT().TempDir()
	bin := filepath.Join(dir, "shakedown")
	out, err := exec.Command("go", "build", "-o", bin, "shakedown/cmd/shakedown").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	_, err = fixtures.Generate(filepath.Join(dir, "fx"), fixtures.Options{Seed: "netclient", DevicesPerProfile: 2})
	Expect(err).NotTo(HaveOccurred())
	set, err := fixtures.Load(filepath.Join(dir, "fx"))
	Expect(err).NotTo(HaveOccurred())
	ready := filepath.Join(dir, "ready.json")
	session, err := gexec.Start(exec.Command(bin, "serve", "--fixtures", filepath.Join(dir, "fx"),
		"--registry", "sqlite:"+filepath.Join(dir, "registry.db"), "--listen-noise", "127.0.0.1:0",
		"--backend", "127.0.0.1:0", "--backend-password", backendPassword, "--metrics", "127.0.0.1:0",
		"--log-level", "warn", "--ready-file", ready),
		gexec.NewPrefixedWriter("[serve] ", GinkgoWriter), gexec.NewPrefixedWriter("[serve] ", GinkgoWriter))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Eventually(session.Kill()).Should(gexec.Exit()) })
	s := &serveProc{set: set, got: map[string][]string{}}
	Eventually(func() error {
		if session.ExitCode() != -1 {
			return StopTrying("shakedown serve exited")
		}
		var r struct {
			Listeners map[string]string `json:"listeners"`
		}
		b, err := os.ReadFile(ready)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		s.listeners = r.Listeners
		return err
	}).WithTimeout(time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
	s.subscribe()
	return s
}

func (s *serveProc) subscribe() {
	b, err := simulator.Connect(ctx(), simulator.ClientConfig{Addr: s.listeners["backend"], ClientID: "netclient-backend",
		Username: "backend", Password: backendPassword})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { b.Disconnect(100) })
	tok := b.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		s.mu.Lock()
		s.got[m.Topic()] = append(s.got[m.Topic()], string(m.Payload()))
		s.mu.Unlock()
	})
	Expect(tok.WaitTimeout(30 * time.Second)).To(BeTrue())
	Expect(tok.Error()).NotTo(HaveOccurred())
}

// device is fixture device i with the server key the set pins.
func (s *serveProc) device(i int) device {
	d := s.set.DevicesOf(handshake.Noise)[i]
	return device{id: d.ID, key: d.Private, seed: []byte("a seed of 32 bytes, this test's."), pinned: s.set.NoiseCurrent.Public}
}

var _ = Describe("against a `shakedown serve` process", Ordered, Label("serve"), func() {
	var srv *serveProc
	BeforeAll(func() { srv = startServe() })

	DescribeTable("a device publishes and the backend subscriber receives it",
		func(prog program, i int) {
			d := srv.device(i)
			code, line := run(prog(ctx(), srv.listeners["noise"], d, 1, "hello "+d.id))
			Expect(line).To(Equal("published"))
			Expect(code).To(Equal(0))
			Eventually(func() []string { return srv.messages(d.topic()) }).Should(Equal([]string{"hello " + d.id}))
		},
		Entry("client/ over port/net.h", program(cProgram), 0),
		Entry("the Arduino library over a POSIX Client", program(arduinoProgram), 1),
	)
})
