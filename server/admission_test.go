package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
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

var _ = Describe("the gateway's admission, over TCP", func() {
	const (
		table = 32 // MaxHalfOpen
		share = 8  // PerSourceHalfOpen
	)
	var (
		set  *fixtures.Set
		gw   *server.Gateway
		addr string
		obs  *recorder
		ctx  context.Context
	)

	BeforeEach(func() {
		var err error
		set, err = fixtures.Build(fixtures.Options{Seed: "admission-test", DevicesPerProfile: 40, Now: time.Now().UTC().Truncate(time.Second)})
		Expect(err).NotTo(HaveOccurred())
		dir := handshaketest.NewDirectory(set.Records()...)
		obs = &recorder{reasons: map[handshake.Reason]int{}}
		gw = server.NewGateway(closeSink{}, server.Limits{HandshakeTimeout: time.Minute, MaxHalfOpen: table, PerSourceHalfOpen: share}, obs, nil)
		DeferCleanup(gw.Close, time.Second)
		srv, err := server.NewProfileServer(handshake.Noise, server.ProfileDeps{Directory: dir, Counters: dir, NoiseKeys: noise.NewKeyRing(noise.ServerKeys{Current: set.NoiseCurrent})})
		Expect(err).NotTo(HaveOccurred())
		a, err := gw.Listen("127.0.0.1:0", srv)
		Expect(err).NotTo(HaveOccurred())
		addr = a.String()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		DeferCleanup(cancel)
	})

	// hold opens n connections from ip that send one byte of a frame
	// header and then wait, as a flood does.
	hold := func(ip string, n int) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		for range n {
			c, err := d.DialContext(ctx, "tcp", addr)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(c.Close)
			_, err = c.Write([]byte{0x00})
			Expect(err).NotTo(HaveOccurred())
		}
	}
	// handshake runs device i's noise handshake from ip.
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

	It("holds one source to its share of the table, and the other sources get in", func() {
		hold("127.0.0.1", 100)
		Eventually(func() int { return obs.count(server.ReasonEvictedSource) }).Should(Equal(100 - share))
		Eventually(func() []int { h, s := gw.HalfOpen(); return []int{h, s} }).Should(Equal([]int{share, 1}))
		for i := range 30 {
			Expect(handshakeFrom(fmt.Sprintf("127.0.0.%d", 2+i%3), i)).To(Succeed(), "device %d", i)
		}
		Expect(obs.count("")).To(Equal(30))
		Expect(obs.count(server.ReasonEvicted)).To(BeZero(), "the table never filled")
		Expect(obs.count(server.ReasonEvictedSource)).To(Equal(100-share), "nobody else was evicted")
	})

	It("lets newcomers to a full table take the oldest slots", func() {
		var holders []net.Conn
		holdOne := func(ip string) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
			c, err := d.DialContext(ctx, "tcp", addr)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(c.Close)
			_, err = c.Write([]byte{0x00})
			Expect(err).NotTo(HaveOccurred())
			holders = append(holders, c)
		}
		for i := range table {
			holdOne(fmt.Sprintf("127.0.1.%d", 1+i)) // one slot each: no share is reached
		}
		for i := range 10 {
			// The table is full again before each legitimate handshake:
			// the flood replaces what the last one evicted.
			Eventually(func() []int { h, s := gw.HalfOpen(); return []int{h, s} }).Should(Equal([]int{table, table}))
			Expect(handshakeFrom("127.0.0.2", i)).To(Succeed(), "device %d", i)
			Eventually(func() int { return obs.count(server.ReasonEvicted) }).Should(Equal(i+1), "one holder made room")
			Eventually(func() int { h, _ := gw.HalfOpen(); return h }).Should(Equal(table-1), "the handshake gave its slot back")
			holdOne(fmt.Sprintf("127.0.2.%d", 1+i))
		}
		Expect(obs.count("")).To(Equal(10))
		// The ten evicted were the ten oldest holders: the server reset
		// them, and still waits on every other.
		for i, c := range holders {
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			timedOut := errors.As(err, &ne) && ne.Timeout()
			Expect(timedOut).To(Equal(i >= 10), "holder %d: %v", i, err)
		}
	})
})
