package tlsprofile_test

import (
	"context"
	"crypto/ed25519"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	netclock "shakedown/handshake/clock"
	"shakedown/handshake/tlsprofile"
)

// timeServer serves h on loopback UDP for the spec.
func timeServer(h netclock.Handler) *netclock.Server {
	srv, err := netclock.Listen("127.0.0.1:0", h)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	return srv
}

func ntpDevice(at time.Time) *tlsprofile.Device {
	srv := timeServer(netclock.NTPResponder(func() time.Time { return at }))
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CANTP, ServerName: set.ServerName, Roots: set.Roots,
		Clock: netclock.NewSNTP(srv.Addr())})
}

// roughtimeKey is the key the ca-roughtime devices of these specs pin.
var roughtimeKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func roughtimeDevice(signer ed25519.PrivateKey, at time.Time) *tlsprofile.Device {
	rs, err := netclock.NewImpostor(signer, func() time.Time { return at })
	Expect(err).NotTo(HaveOccurred())
	srv := timeServer(rs.Handler())
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CARoughtime, ServerName: set.ServerName, Roots: set.Roots,
		Clock: netclock.NewRoughtime(srv.Addr(), roughtimeKey.Public().(ed25519.PublicKey))})
}

var _ = Describe("the network-clock modes", func() {
	insideExpired := func() time.Time { return set.BrokerExpired.Leaf.NotAfter.Add(-24 * time.Hour) }

	It("ca-ntp checks the chain at whatever time the SNTP server names", func() {
		dev := ntpDevice(insideExpired())
		check(dev, set.BrokerExpired, accepts)
		at, ok := dev.ClockReading()
		Expect(ok).To(BeTrue())
		Expect(at).To(BeTemporally("~", insideExpired(), 5*time.Second))
		check(ntpDevice(clock()), set.BrokerExpired, rejects(tlsprofile.ErrExpired))
		check(ntpDevice(clock()), set.Broker, accepts)
	})

	It("ca-roughtime checks the chain at the time its pinned server signed", func() {
		check(roughtimeDevice(roughtimeKey, clock()), set.Broker, accepts)
		check(roughtimeDevice(roughtimeKey, clock()), set.BrokerExpired, rejects(tlsprofile.ErrExpired))
	})

	It("ca-roughtime refuses a time signed under another key, before it sends a byte", func() {
		other := ed25519.NewKeyFromSeed(append(make([]byte, ed25519.SeedSize-1), 7))
		dev := roughtimeDevice(other, insideExpired())
		err := dev.SyncClock(context.Background())
		expectFailure(err, handshake.StageClock, handshake.ReasonTimeRejected)
		Expect(err).To(MatchError(netclock.ErrDelegation))
		_, ok := dev.ClockReading()
		Expect(ok).To(BeFalse())
	})

	DescribeTable("fail closed when the time server does not answer",
		func(mode tlsprofile.Mode) {
			srv := timeServer(nil)
			src := netclock.Source(netclock.NewSNTP(srv.Addr()))
			if mode == tlsprofile.CARoughtime {
				src = netclock.NewRoughtime(srv.Addr(), roughtimeKey.Public().(ed25519.PublicKey))
			}
			dev := mustDevice(tlsprofile.DeviceConfig{Mode: mode, ServerName: set.ServerName, Roots: set.Roots, Clock: src})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			dconn, sconn := bufPipe()
			defer sconn.Close()
			_, err := dev.Handshake(ctx, dconn)
			expectFailure(err, handshake.StageClock, handshake.ReasonTimeUnavailable)
		},
		Entry("ca-ntp", tlsprofile.CANTP),
		Entry("ca-roughtime", tlsprofile.CARoughtime),
	)

	It("needs a time server", func() {
		_, err := tlsprofile.NewDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CANTP, ServerName: set.ServerName, Roots: set.Roots})
		Expect(err).To(HaveOccurred())
	})
})
