package netclient_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.bug.st/serial"

	"shakedown/boards/emulated"
	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/servertest"
)

// unoID is the device ID the provisioned example reports.
const unoID = "uno-0001"

// provisionHeader writes the example's shakedown_provision.h for a device
// key, the server key it pins and its seed.
func provisionHeader(dir string, key, serverKey, seed []byte) string {
	initialiser := func(b []byte) string {
		parts := make([]string, len(b))
		for i, v := range b {
			parts[i] = fmt.Sprintf("0x%02x", v)
		}
		return strings.Join(parts, ", ")
	}
	p := filepath.Join(dir, "shakedown_provision.h")
	text := fmt.Sprintf("#define SHAKEDOWN_DEVICE_ID %q\n#define SHAKEDOWN_DEVICE_KEY %s\n#define SHAKEDOWN_SERVER_KEY %s\n#define SHAKEDOWN_SEED %s\n",
		unoID, initialiser(key), initialiser(serverKey), initialiser(seed))
	Expect(os.WriteFile(p, []byte(text), 0o600)).To(Succeed())
	return p
}

// buildUno builds simavr-run and the example provisioned with header, and
// returns the image; it skips when the AVR tools are missing, unless
// SHAKEDOWN_REQUIRE_EMULATORS=1.
func buildUno(header string) string {
	out, err := exec.Command("make", "-C", "..", "build/simavr-run", "arduino-uno-test", "UNO_PROVISION="+header).CombinedOutput()
	if err != nil && os.Getenv("SHAKEDOWN_REQUIRE_EMULATORS") != "1" {
		Skip("building the Uno example under simavr needs gcc-avr, simavr, arduino-core-avr, arduino-mk: " + string(out))
	}
	Expect(err).NotTo(HaveOccurred(), string(out))
	image, err := filepath.Abs("../build/arduino-uno-test/Publish.elf")
	Expect(err).NotTo(HaveOccurred())
	return image
}

// bridge does for the emulated Uno what socat does for a real one: it
// dials the server at the board's first byte and copies bytes both ways
// until Close.
type bridge struct {
	port serial.Port
	addr string
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	mu   sync.Mutex
	conn net.Conn
}

const pollRead = 100 * time.Millisecond // a read of the port returns at least this often

func newBridge(path, addr string) *bridge {
	port, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	Expect(err).NotTo(HaveOccurred())
	Expect(port.SetReadTimeout(pollRead)).To(Succeed())
	b := &bridge{port: port, addr: addr, stop: make(chan struct{})}
	b.wg.Add(1)
	go b.fromBoard()
	DeferCleanup(b.Close)
	return b
}

func (b *bridge) stopped() bool {
	select {
	case <-b.stop:
		return true
	default:
		return false
	}
}

// fromBoard reads the port until Close; the first bytes dial the server.
func (b *bridge) fromBoard() {
	defer b.wg.Done()
	buf := make([]byte, 256)
	for !b.stopped() {
		n, err := b.port.Read(buf)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		c := b.dial()
		if c == nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// dial connects once and starts the copy from the server to the board.
func (b *bridge) dial() net.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil && !b.stopped() {
		c, err := net.Dial("tcp", b.addr)
		if err != nil {
			return nil
		}
		b.conn = c
		b.wg.Add(1)
		go b.toBoard(c)
	}
	return b.conn
}

func (b *bridge) toBoard(c net.Conn) {
	defer b.wg.Done()
	buf := make([]byte, 256)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := b.port.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Close stops both copies and waits for them; safe twice.
func (b *bridge) Close() {
	b.once.Do(func() {
		close(b.stop)
		b.mu.Lock()
		if b.conn != nil {
			b.conn.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
		b.port.Close()
	})
}

var _ = Describe("the Arduino example on an emulated Uno", Label("uno", "slow"), func() {
	It("publishes through its serial port, bridged to the server", func() {
		k := newKeys()
		image := buildUno(provisionHeader(GinkgoT().TempDir(), k.device.Private, k.server.Public, k.seed))

		// X25519 in C on a 16 MHz AVR, emulated on a loaded machine:
		// minutes of wall time per message, so deadlines of that order.
		inbox := &servertest.Inbox{}
		srv, err := servertest.Start(servertest.Options{
			Profiles:       []handshake.Name{handshake.Noise},
			Devices:        []handshake.DeviceRecord{{ID: unoID, Profile: handshake.Noise, Key: k.device.Public}},
			NoiseCurrent:   k.server,
			Subscriber:     inbox.Receive,
			Limits:         server.Limits{HandshakeTimeout: 10 * time.Minute},
			ConnectTimeout: 10 * time.Minute,
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)

		start := time.Now()
		board, err := emulated.Start(ctx(), emulated.Config{Chip: "atmega328p", Image: image, Log: GinkgoWriter})
		var missing *emulated.Error
		if errors.As(err, &missing) && errors.Is(err, emulated.ErrMissing) && os.Getenv("SHAKEDOWN_REQUIRE_EMULATORS") != "1" {
			Skip(err.Error())
		}
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(board.Close)
		newBridge(board.Path(), srv.Addr(handshake.Noise))

		Eventually(func() []string { return inbox.Messages("devices/" + unoID + "/hello") }).
			WithTimeout(20 * time.Minute).WithPolling(time.Second).Should(Equal([]string{"hello"}))
		AddReportEntry("Uno example: boot to message at the subscriber (wall time, simavr)", time.Since(start).Round(time.Second).String())
		Expect(srv.Refused()).To(BeEmpty())
	})
})
