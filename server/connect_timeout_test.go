package server_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/server/broker"
)

// refusals is a broker.Observer that counts by label and reason.
type refusals struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *refusals) Refused(p handshake.Name, reason handshake.Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[string(p)+" "+string(reason)]++
}

func (r *refusals) AcceptFailed(string) {}

func (r *refusals) get() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair() (server, client net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	Expect(err).NotTo(HaveOccurred())
	server, err = ln.Accept()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { client.Close() }) // the broker may have closed them
	DeferCleanup(func() { server.Close() })
	return server, client
}

func writeConnect(c net.Conn, clientID, user, pass string) {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession = "MQTT", 4, true
	cp.ClientIdentifier = clientID
	if user != "" {
		cp.UsernameFlag, cp.Username, cp.PasswordFlag, cp.Password = true, user, true, []byte(pass)
	}
	ExpectWithOffset(1, cp.Write(c)).To(Succeed())
	ack, err := packets.ReadPacket(c)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, ack.(*packets.ConnackPacket).ReturnCode).To(BeZero())
}

var _ = Describe("the embedded broker's wait for CONNECT", func() {
	const timeout = 300 * time.Millisecond
	var (
		brk *broker.Embedded
		obs *refusals
	)

	BeforeEach(func() {
		obs = &refusals{counts: map[string]int{}}
		var err error
		brk, err = broker.New(broker.Options{ConnectTimeout: timeout, Observer: obs, BackendUser: "backend", BackendPassword: "s3cret"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(brk.Close)
	})

	// attach serves conn as fn does, in the background, and returns a
	// channel closed when it ends.
	attach := func(fn func() error) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			fn()
		}()
		return done
	}

	It("closes a device that finished its handshake but sends no CONNECT, and counts it", func() {
		srv, cli := tcpPair()
		start := time.Now()
		done := attach(func() error {
			return brk.AttachDevice(srv, handshake.Identity{Profile: handshake.Noise, DeviceID: "d1"})
		})
		Eventually(done).WithTimeout(20 * timeout).Should(BeClosed())
		Expect(time.Since(start)).To(BeNumerically(">=", timeout))
		_, err := cli.Read(make([]byte, 1))
		Expect(err).To(MatchError(io.EOF), "the device's conn is closed")
		Expect(obs.get()).To(Equal(map[string]int{"noise connect_timeout": 1}))
	})

	It("closes a device that sends half a CONNECT and stops", func() {
		srv, cli := tcpPair()
		done := attach(func() error {
			return brk.AttachDevice(srv, handshake.Identity{Profile: handshake.Noise, DeviceID: "d1"})
		})
		_, err := cli.Write([]byte{0x10, 0x20, 0x00}) // a CONNECT promising 32 bytes
		Expect(err).NotTo(HaveOccurred())
		Eventually(done).WithTimeout(20 * timeout).Should(BeClosed())
		Expect(obs.get()).To(Equal(map[string]int{"noise connect_timeout": 1}))
	})

	It("leaves a device that sent its CONNECT in time to its keep alive", func() {
		srv, cli := tcpPair()
		done := attach(func() error {
			return brk.AttachDevice(srv, handshake.Identity{Profile: handshake.Noise, DeviceID: "d1"})
		})
		writeConnect(cli, "d1", "", "") // keep alive 0: no deadline after CONNECT
		Consistently(done).WithTimeout(5 * timeout).ShouldNot(BeClosed())
		cli.Close()
		Eventually(done).WithTimeout(10 * time.Second).Should(BeClosed())
		Expect(obs.get()).To(BeEmpty())
	})

	It("closes a plain baseline client that sends no CONNECT", func() {
		srv, _ := tcpPair()
		done := attach(func() error { return brk.AttachPlain(srv) })
		Eventually(done).WithTimeout(20 * timeout).Should(BeClosed())
		Expect(obs.get()).To(Equal(map[string]int{"plain connect_timeout": 1}))
	})

	It("closes a backend client that sends no CONNECT, and keeps one that did", func() {
		addr, err := brk.AddBackendListener("127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		idle, err := net.Dial("tcp", addr.String())
		Expect(err).NotTo(HaveOccurred())
		defer idle.Close()
		good, err := net.Dial("tcp", addr.String())
		Expect(err).NotTo(HaveOccurred())
		defer good.Close()
		writeConnect(good, "dashboard", "backend", "s3cret")

		closed := make(chan error, 1)
		go func() {
			_, err := idle.Read(make([]byte, 1))
			closed <- err
		}()
		Eventually(closed).WithTimeout(20 * timeout).Should(Receive(MatchError(io.EOF)))
		Eventually(obs.get).Should(Equal(map[string]int{"backend connect_timeout": 1}))

		good.SetReadDeadline(time.Now().Add(3 * timeout))
		_, err = good.Read(make([]byte, 1))
		var ne net.Error
		Expect(errors.As(err, &ne) && ne.Timeout()).To(BeTrue(), "the backend client that sent CONNECT is still connected: %v", err)
	})
})
