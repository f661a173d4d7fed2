package boardproto_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	bp "shakedown/harness/boardproto"
)

// relayPair connects two RelayConns: whatever one writes, the other reads.
func relayPair() (a, b *bp.RelayConn) {
	var mu sync.Mutex
	var peerA, peerB *bp.RelayConn
	a = bp.NewRelayConn(bp.RelayConfig{Send: func(_ context.Context, p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		peerB.Deliver(p)
		return len(p), nil
	}, Closed: func() { peerB.CloseRead(nil) }})
	b = bp.NewRelayConn(bp.RelayConfig{Send: func(_ context.Context, p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		peerA.Deliver(p)
		return len(p), nil
	}, Closed: func() { peerA.CloseRead(nil) }})
	peerA, peerB = a, b
	return a, b
}

var _ = Describe("RelayConn", func() {
	It("carries bytes both ways and ends with EOF when the peer closes", func() {
		a, b := relayPair()
		_, err := a.Write([]byte("hello"))
		Expect(err).NotTo(HaveOccurred())
		buf := make([]byte, 3)
		n, err := b.Read(buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(buf[:n])).To(Equal("hel"))
		Expect(b.Buffered()).To(Equal(2))
		Expect(a.Close()).To(Succeed())
		rest, err := io.ReadAll(b)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(rest)).To(Equal("lo"))
		Expect(b.Close()).To(Succeed())
		Expect(b.Close()).To(Succeed())
	})

	It("wakes a pending Read when the read deadline passes", func() {
		a, _ := relayPair()
		defer a.Close()
		Expect(a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))).To(Succeed())
		_, err := a.Read(make([]byte, 1))
		Expect(err).To(MatchError(os.ErrDeadlineExceeded))
		var ne net.Error
		Expect(errors.As(err, &ne)).To(BeTrue())
		Expect(ne.Timeout()).To(BeTrue())
	})

	It("wakes a pending Read when the deadline is moved into the past", func() {
		a, _ := relayPair()
		defer a.Close()
		errc := make(chan error, 1)
		go func() {
			_, err := a.Read(make([]byte, 1))
			errc <- err
		}()
		Consistently(errc, 30*time.Millisecond).ShouldNot(Receive())
		Expect(a.SetDeadline(time.Unix(1, 0))).To(Succeed())
		Eventually(errc).Should(Receive(MatchError(os.ErrDeadlineExceeded)))
	})

	It("keeps a Read waiting when the deadline is cleared", func() {
		a, b := relayPair()
		defer a.Close()
		defer b.Close()
		Expect(a.SetReadDeadline(time.Now().Add(time.Hour))).To(Succeed())
		got := make(chan string, 1)
		go func() {
			buf := make([]byte, 8)
			n, _ := a.Read(buf)
			got <- string(buf[:n])
		}()
		Expect(a.SetReadDeadline(time.Time{})).To(Succeed())
		Consistently(got, 30*time.Millisecond).ShouldNot(Receive())
		_, err := b.Write([]byte("late"))
		Expect(err).NotTo(HaveOccurred())
		Eventually(got).Should(Receive(Equal("late")))
	})

	It("unblocks Read on Close", func() {
		a, _ := relayPair()
		errc := make(chan error, 1)
		go func() {
			_, err := a.Read(make([]byte, 1))
			errc <- err
		}()
		Expect(a.Close()).To(Succeed())
		Eventually(errc).Should(Receive(MatchError(net.ErrClosed)))
	})

	It("cancels a blocked Send at the write deadline", func() {
		release := make(chan struct{})
		c := bp.NewRelayConn(bp.RelayConfig{Send: func(ctx context.Context, p []byte) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-release:
				return len(p), nil
			}
		}})
		defer c.Close()
		Expect(c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))).To(Succeed())
		_, err := c.Write([]byte("x"))
		Expect(err).To(MatchError(os.ErrDeadlineExceeded))
		Expect(c.SetWriteDeadline(time.Time{})).To(Succeed())
		close(release)
		n, err := c.Write([]byte("xy"))
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(2))
	})

	It("asks for bytes through Want before waiting", func() {
		wants := make(chan struct{}, 4)
		var c *bp.RelayConn
		c = bp.NewRelayConn(bp.RelayConfig{Want: func() {
			select {
			case wants <- struct{}{}:
			default:
			}
		}})
		defer c.Close()
		got := make(chan string, 1)
		go func() {
			buf := make([]byte, 4)
			n, _ := c.Read(buf)
			got <- string(buf[:n])
		}()
		Eventually(wants).Should(Receive())
		c.Deliver([]byte("data"))
		Eventually(got).Should(Receive(Equal("data")))
	})
})
