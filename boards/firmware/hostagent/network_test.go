package hostagent_test

import (
	"errors"
	"net"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/seed"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// The host port has a network (port/host/net.c): in network mode the C
// agent dials the server itself and the harness only observes its events.
var _ = Describe("the C agent in network mode", func() {
	DescribeTable("connects by itself, shakes hands and carries a session",
		func(fx func() fixture) {
			f := fx()
			srv := startServer(f)
			r := newRig()
			Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
			s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: f.prov.Profile, Mode: bp.ModeNetwork, Server: srv.addr})
			Expect(err).NotTo(HaveOccurred())
			exchange(s, "over the agent's own connection")
			Expect(s.Close()).To(Succeed())
			Eventually(s.Done()).Should(BeClosed())
			Eventually(srv.Identities).Should(HaveLen(1))
			Expect(srv.Identities()[0].DeviceID).To(Equal(f.prov.DeviceID))
			Expect(srv.Refused()).To(BeEmpty())
			Expect(counter(r.b, bp.CounterRelayBytesRx)).To(BeZero()) // nothing went through the harness
			Expect(counter(r.b, bp.CounterRelayBytesTx)).To(BeZero())
			h, err := r.b.Hello(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(h.State).To(Equal(bp.StateIdle))
		},
		Entry("noise IK", func() fixture { return newNoiseFixture("c-net-noise") }),
		Entry("seed on P-256", func() fixture { return seedFixture("c-net-seed", seed.P256, bp.CurveP256) }),
		Entry("psk", func() fixture { return pskFixture("c-net-psk") }),
	)

	It("reports a server nobody listens on as a failure at the dial stage", func() {
		f := newNoiseFixture("c-net-dial")
		r := newRig()
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := l.Addr().String()
		Expect(l.Close()).To(Succeed())
		_, err = r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Mode: bp.ModeNetwork, Server: addr})
		var he *handshake.Error
		Expect(errors.As(err, &he)).To(BeTrue(), "%v", err)
		Expect(he.Stage).To(Equal(handshake.StageDial))
		Expect(he.Reason).To(Equal(handshake.ReasonIO))
		Expect(counter(r.b, bp.CounterHandshakesFailed)).To(BeEquivalentTo(1))
		// The board is idle again and takes the next handshake.
		srv := startServer(f)
		s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Mode: bp.ModeNetwork, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		exchange(s, "after a failed dial")
		Expect(s.Close()).To(Succeed())
	})

	It("ends the session when the server closes it", func() {
		f := newNoiseFixture("c-net-end")
		srv := startServer(f)
		r := newRig()
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		s, err := r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.Noise, Mode: bp.ModeNetwork, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		exchange(s, "before the server goes")
		Expect(srv.Close()).To(Succeed())
		Eventually(s.Done()).Should(BeClosed())
		h, err := r.b.Hello(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(h.State).To(Equal(bp.StateIdle))
	})
})
