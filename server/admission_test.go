package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/simulator"
)

// gatedDirectory holds every key lookup until its gate opens: handshakes
// that the server is working on, for as long as a spec likes.
type gatedDirectory struct {
	*handshaketest.Directory
	gate    chan struct{}
	waiting *atomic.Int64 // lookups held at the gate
}

func (d gatedDirectory) DeviceByKey(ctx context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	d.waiting.Add(1)
	defer d.waiting.Add(-1)
	select {
	case <-d.gate:
	case <-ctx.Done():
		return handshake.DeviceRecord{}, ctx.Err()
	}
	return d.Directory.DeviceByKey(ctx, p, key)
}

var _ = Describe("the gateway's admission, over TCP", func() {
	const table = 32 // MaxHalfOpen
	var (
		set  *fixtures.Set
		gw   *server.Gateway
		addr string
		obs  *recorder
		ctx  context.Context
		gate chan struct{}
		// opens the gate; safe to call twice
		openGate func()
		lookups  *atomic.Int64
	)

	BeforeEach(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "admission-test", DevicesPerProfile: 40, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		gate = make(chan struct{})
		openGate = sync.OnceFunc(func() { close(gate) })
		lookups = new(atomic.Int64)
		dir := gatedDirectory{Directory: handshaketest.NewDirectory(set.Records()...), gate: gate, waiting: lookups}
		obs = &recorder{reasons: map[handshake.Reason]int{}}
		gw = server.NewGateway(closeSink{}, server.Limits{HandshakeTimeout: time.Minute, MaxHalfOpen: table}, obs, nil)
		DeferCleanup(gw.Close, time.Second)
		DeferCleanup(func() { openGate() }) // runs first: cleanups run last in, first out
		srv, err := server.NewProfileServer(handshake.Noise, server.ProfileDeps{Directory: dir, Counters: dir, NoiseKeys: noise.NewKeyRing(noise.ServerKeys{Current: set.NoiseCurrent})})
		Expect(err).NotTo(HaveOccurred())
		a, err := gw.Listen("127.0.0.1:0", srv)
		Expect(err).NotTo(HaveOccurred())
		addr = a.String()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		DeferCleanup(cancel)
	})

	// hold opens a connection from ip that sends one byte of a frame
	// header and then waits, as a flood's sockets do. It returns nil when
	// the server reset the connection before the dial returned.
	hold := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.DialContext(ctx, "tcp", addr)
		if errors.Is(err, syscall.ECONNRESET) {
			return nil
		}
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		c.Write([]byte{0x00}) // the server may have refused it already
		return c
	}
	// handshakeFrom runs device i's noise handshake from ip.
	handshakeFrom := func(ip string, i int) error {
		dev, _, _, err := simulator.NewDevice(set, set.DevicesOf(handshake.Noise)[i], simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		raw, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer raw.Close()
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = dev.Handshake(hctx, raw)
		return err
	}
	halfOpen := func() []int { h, w := gw.HalfOpen(); return []int{h, w} }
	// isReset reports whether the server reset c (rather than wait on it).
	isReset := func(c net.Conn) bool {
		if c == nil {
			return true
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}

	It("lets newcomers to a table full of waiting handshakes take the oldest slots", func() {
		openGate() // lookups answer at once
		var holders []net.Conn
		for i := range table {
			holders = append(holders, hold(fmt.Sprintf("127.0.1.%d", 1+i)))
		}
		for i := range 10 {
			// The table is full again before each legitimate handshake:
			// the flood replaces what the last one evicted.
			Eventually(halfOpen).Should(Equal([]int{table, table}))
			Expect(handshakeFrom("127.0.0.2", i)).To(Succeed(), "device %d", i)
			Eventually(func() int { return obs.count(handshake.ReasonEvicted) }).Should(Equal(i+1), "one holder made room")
			Eventually(halfOpen).Should(Equal([]int{table - 1, table - 1}), "the handshake gave its slot back")
			holders = append(holders, hold(fmt.Sprintf("127.0.2.%d", 1+i)))
		}
		Eventually(func() int { return obs.count("") }).Should(Equal(10))
		for i, c := range holders {
			Expect(isReset(c)).To(Equal(i < 10), "holder %d: the ten oldest were evicted, the others still wait", i)
		}
	})

	It("keeps one source's flood of more sockets than the table from locking the others out", func() {
		openGate()
		for range 3 * table {
			hold("127.0.0.1")
		}
		// Every arrival past the table evicted a waiting holder, or was
		// refused while the newest holders had not started to read.
		Eventually(func() int { return obs.count(handshake.ReasonEvicted) + obs.count(handshake.ReasonHalfOpenFull) }).Should(Equal(2 * table))
		Eventually(halfOpen).Should(Equal([]int{table, table}))
		for i := range 30 {
			Expect(handshakeFrom(fmt.Sprintf("127.0.0.%d", 2+i%3), i)).To(Succeed(), "device %d", i)
		}
		Eventually(func() int { return obs.count("") }).Should(Equal(30))
	})

	It("never evicts a handshake the server is working on: a table full of work refuses newcomers", func() {
		done := make(chan error, table)
		for i := range table {
			go func() { done <- handshakeFrom(fmt.Sprintf("127.0.0.%d", 2+i%3), i) }()
		}
		// Every handshake read its message 1 and waits for the registry.
		Eventually(lookups.Load).Should(BeEquivalentTo(table))
		Expect(halfOpen()).To(Equal([]int{table, 0}))
		late := hold("127.0.0.9")
		Eventually(func() int { return obs.count(handshake.ReasonHalfOpenFull) }).Should(Equal(1), func() string { return fmt.Sprint(halfOpen(), obs.reasons) })
		Expect(isReset(late)).To(BeTrue(), "the newcomer was refused")
		openGate()
		for range table {
			Eventually(done).WithTimeout(30 * time.Second).Should(Receive(Succeed()))
		}
		Eventually(func() int { return obs.count("") }).Should(Equal(table))
		Expect(obs.count(handshake.ReasonEvicted)).To(BeZero())
	})
})
