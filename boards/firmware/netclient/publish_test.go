package netclient_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	fnoise "github.com/flynn/noise"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/servertest"
)

// program runs one host build with the arguments of a device.
type program func(ctx context.Context, addr string, d device, counter uint64, msg string) *exec.Cmd

type device struct {
	id        string
	key, seed []byte
	pinned    []byte // the server key the device pins
}

func (d device) topic() string { return "devices/" + d.id + "/hello" }

func hostPort(addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	Expect(err).NotTo(HaveOccurred())
	return h, p
}

// cProgram is client-publish: client/ over port/net.h.
func cProgram(ctx context.Context, addr string, d device, counter uint64, msg string) *exec.Cmd {
	h, p := hostPort(addr)
	return exec.CommandContext(ctx, clientBin, h, p, d.id, hex.EncodeToString(d.key),
		hex.EncodeToString(d.pinned), strconv.FormatUint(counter, 10), d.topic(), msg)
}

// arduinoProgram is arduino-host: the Arduino library over a POSIX Client.
func arduinoProgram(ctx context.Context, addr string, d device, counter uint64, msg string) *exec.Cmd {
	h, p := hostPort(addr)
	return exec.CommandContext(ctx, arduinoBin, h, p, d.id, hex.EncodeToString(d.key),
		hex.EncodeToString(d.pinned), hex.EncodeToString(d.seed), strconv.FormatUint(counter, 10), d.topic(), msg)
}

// run runs the program and returns its exit code and the line it printed.
func run(cmd *exec.Cmd) (int, string) {
	cmd.Stderr = GinkgoWriter
	out, err := cmd.Output()
	line := strings.TrimSpace(string(out))
	if err == nil {
		return 0, line
	}
	var exit *exec.ExitError
	Expect(err).To(BeAssignableToTypeOf(exit), "the program did not run")
	return err.(*exec.ExitError).ExitCode(), line
}

var ids atomic.Int64

// rig is a server with its broker and one registered noise device.
type rig struct {
	srv   *servertest.Server
	inbox *servertest.Inbox
	dev   device
}

// keys are a server's static keys, and a device's with its ephemeral seed.
type keys struct {
	server, device fnoise.DHKey
	seed           []byte
}

func newKeys() keys {
	skp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	dkp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	seed := make([]byte, 32)
	rand.Read(seed) // never fails (crypto/rand, Go 1.24)
	return keys{server: skp, device: dkp, seed: seed}
}

func newRig() *rig {
	k := newKeys()
	skp, dkp := k.server, k.device
	d := device{id: fmt.Sprintf("net-%04d", ids.Add(1)), key: dkp.Private, seed: k.seed, pinned: skp.Public}
	inbox := &servertest.Inbox{}
	srv, err := servertest.Start(servertest.Options{
		Profiles:     []handshake.Name{handshake.Noise},
		Devices:      []handshake.DeviceRecord{{ID: d.id, Profile: handshake.Noise, Key: dkp.Public}},
		NoiseCurrent: skp,
		Subscriber:   inbox.Receive,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	return &rig{srv: srv, inbox: inbox, dev: d}
}

func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	DeferCleanup(cancel)
	return c
}

// Codes of port/net.h and client/session.h the programs print.
const (
	netErrRefused = -3
	netErrClosed  = -5
	stageMsg2     = 4
)

var _ = Describe("a device on its own network connection", func() {
	DescribeTable("publishes one MQTT message through the noise session",
		func(prog program) {
			r := newRig()
			code, line := run(prog(ctx(), r.srv.Addr(handshake.Noise), r.dev, 1, "hello from C"))
			Expect(line).To(Equal("published"))
			Expect(code).To(Equal(0))
			Eventually(func() []string { return r.inbox.Messages(r.dev.topic()) }).
				Should(Equal([]string{"hello from C"}))
			Expect(r.srv.Refused()).To(BeEmpty())
			Expect(r.srv.Handshakes(handshake.ReasonNone)).To(Equal(1))
		},
		Entry("client/ over port/net.h", Label("c"), program(cProgram)),
		Entry("the Arduino library over a POSIX Client", Label("arduino"), program(arduinoProgram)),
	)

	DescribeTable("fails with a code and publishes nothing",
		func(prog program, spoil func(r *rig) (addr string, counter uint64), want string, reason handshake.Reason) {
			r := newRig()
			addr, counter := spoil(r)
			code, line := run(prog(ctx(), addr, r.dev, counter, "never"))
			Expect(code).To(Equal(1))
			Expect(line).To(Equal(want))
			if reason != handshake.ReasonNone {
				Eventually(r.srv.Refused).Should(ContainElement(reason))
			}
			Consistently(func() []string { return r.inbox.Messages(r.dev.topic()) }, "200ms").
				ShouldNot(ContainElement("never"))
		},
		Entry("C: the device pins another server key", program(cProgram), pinOther,
			fmt.Sprintf("failed %d stage %d", netErrClosed, stageMsg2), handshake.ReasonDecrypt),
		Entry("Arduino: the device pins another server key", program(arduinoProgram), pinOther,
			fmt.Sprintf("failed %d stage %d", netErrClosed, stageMsg2), handshake.ReasonDecrypt),
		Entry("C: a counter the server already took", program(cProgram), replay,
			fmt.Sprintf("failed %d stage %d", netErrClosed, stageMsg2), handshake.ReasonCounterReplay),
		Entry("Arduino: a counter the server already took", program(arduinoProgram), replay,
			fmt.Sprintf("failed %d stage %d", netErrClosed, stageMsg2), handshake.ReasonCounterReplay),
		Entry("C: nothing listens", program(cProgram), closedPort,
			fmt.Sprintf("failed %d stage 0", netErrRefused), handshake.ReasonNone),
		Entry("Arduino: nothing listens", program(arduinoProgram), closedPort,
			fmt.Sprintf("failed %d stage 0", netErrRefused), handshake.ReasonNone),
	)
})

// pinOther makes the device pin a key the server does not hold.
func pinOther(r *rig) (string, uint64) {
	kp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	r.dev.pinned = kp.Public
	return r.srv.Addr(handshake.Noise), 1
}

// replay publishes once with counter 5, then hands the same counter on.
func replay(r *rig) (string, uint64) {
	code, line := run(cProgram(ctx(), r.srv.Addr(handshake.Noise), r.dev, 5, "first"))
	Expect(line).To(Equal("published"))
	Expect(code).To(Equal(0))
	Eventually(func() []string { return r.inbox.Messages(r.dev.topic()) }).Should(Equal([]string{"first"}))
	return r.srv.Addr(handshake.Noise), 5
}

// closedPort is a loopback port with no listener: one that was just freed.
func closedPort(r *rig) (string, uint64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	return addr, 1
}
