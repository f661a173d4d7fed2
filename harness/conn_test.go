package harness_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

var _ = Describe("a session as a net.Conn", Label("board"), func() {
	var (
		r    *rig
		s    *harness.Session
		conn net.Conn
	)

	BeforeEach(func() {
		f := pskFixture("vb-conn")
		srv := startServer(f)
		r = newRig(virtual.Config{})
		Expect(r.b.Provision(ctx(), f.prov)).To(Succeed())
		var err error
		s, err = r.b.Handshake(ctx(), harness.HandshakeOptions{Profile: handshake.PSK, Server: srv.addr})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		conn = s.Conn()
		Expect(s.Conn()).To(BeIdenticalTo(conn))
		Expect(conn.RemoteAddr().String()).To(Equal(srv.addr))
		Expect(conn.LocalAddr().String()).To(ContainSubstring(r.vb.Path()))
	})

	It("carries a byte stream both ways, a message split across short reads", func() {
		long := bytes.Repeat([]byte("y"), 3*bp.MaxPayload)
		n, err := conn.Write(long)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(len(long)))
		// Each SEND is echoed on its own: one "pong:" per board payload.
		var got []byte
		buf := make([]byte, 7)
		for bytes.Count(got, []byte("y")) < len(long) {
			n, err := conn.Read(buf)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(BeNumerically(">", 0))
			got = append(got, buf[:n]...)
		}
		Expect(bytes.Count(got, []byte("pong:"))).To(Equal(3))
	})

	It("honours a read deadline, on a pending Read too", func() {
		Expect(conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))).To(Succeed())
		_, err := conn.Read(make([]byte, 8))
		Expect(err).To(MatchError(os.ErrDeadlineExceeded))
		var ne net.Error
		Expect(errors.As(err, &ne) && ne.Timeout()).To(BeTrue())

		Expect(conn.SetReadDeadline(time.Time{})).To(Succeed())
		res := make(chan error, 1)
		go func() {
			_, err := conn.Read(make([]byte, 8))
			res <- err
		}()
		Consistently(res, "30ms").ShouldNot(Receive())
		Expect(conn.SetReadDeadline(time.Now())).To(Succeed())
		Eventually(res).Should(Receive(MatchError(os.ErrDeadlineExceeded)))

		// The session is intact: clear the deadline and it carries on.
		Expect(conn.SetDeadline(time.Time{})).To(Succeed())
		_, err = conn.Write([]byte("still here"))
		Expect(err).NotTo(HaveOccurred())
		got := make([]byte, len("pong:still here"))
		_, err = io.ReadFull(conn, got)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal("pong:still here"))
	})

	It("refuses a write past its deadline without sending it", func() {
		Expect(conn.SetWriteDeadline(time.Now().Add(-time.Second))).To(Succeed())
		n, err := conn.Write([]byte("late"))
		Expect(n).To(BeZero())
		Expect(err).To(MatchError(os.ErrDeadlineExceeded))
		cs, err := r.b.Counters(ctx())
		Expect(err).NotTo(HaveOccurred())
		sent, _ := cs.Get(bp.CounterMessagesSent)
		Expect(sent).To(BeZero())
	})

	It("closes the session; a pending Read and later calls return net.ErrClosed", func() {
		res := make(chan error, 1)
		go func() {
			_, err := conn.Read(make([]byte, 8))
			res <- err
		}()
		Consistently(res, "30ms").ShouldNot(Receive())
		Expect(conn.Close()).To(Succeed())
		Eventually(res).Should(Receive(MatchError(net.ErrClosed)))
		Eventually(s.Done()).Should(BeClosed())
		_, err := conn.Write([]byte("x"))
		Expect(err).To(MatchError(net.ErrClosed))
		Expect(conn.Close()).To(Succeed())
		h, err := r.b.Hello(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(h.State).To(Equal(bp.StateIdle))
	})
})
