package accept_test

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/server/accept"
)

// failing is a listener whose Accept fails with errs first, then serves
// the real listener's conns.
type failing struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (f *failing) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		f.mu.Unlock()
		return nil, err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

// waits records what the wrapper reports.
type waits struct {
	mu   sync.Mutex
	errs []error
	d    []time.Duration
}

func (w *waits) add(err error, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs, w.d = append(w.errs, err), append(w.d, d)
}

func (w *waits) errors() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]error(nil), w.errs...)
}

func (w *waits) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	return ln
}

// acceptOnce runs one Accept in the background.
func acceptOnce(l net.Listener) (<-chan net.Conn, <-chan error) {
	conns, errs := make(chan net.Conn, 1), make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errs <- err
			return
		}
		conns <- c
	}()
	return conns, errs
}

var _ = Describe("a patient listener", func() {
	It("retries failed accepts with a doubling wait, then hands over the next conn", func() {
		emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
		raw := listen()
		f := &failing{Listener: raw}
		for range 9 {
			f.errs = append(f.errs, emfile)
		}
		w := &waits{}
		l := accept.Wrap(f, w.add)
		defer l.Close()
		conns, errs := acceptOnce(l)
		c, err := net.Dial("tcp", raw.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		var got net.Conn
		Eventually(conns).WithTimeout(10 * time.Second).Should(Receive(&got))
		defer got.Close()
		Expect(errs).NotTo(Receive())
		Expect(got.RemoteAddr().String()).To(Equal(c.LocalAddr().String()))
		ms := time.Millisecond
		Expect(w.got()).To(Equal([]time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second}))
		for _, err := range w.errors() {
			Expect(errors.Is(err, syscall.EMFILE)).To(BeTrue())
		}
	})

	It("starts again from the shortest wait after a success", func() {
		transient := errors.New("transient")
		raw := listen()
		f := &failing{Listener: raw, errs: []error{transient, transient}}
		w := &waits{}
		l := accept.Wrap(f, w.add)
		defer l.Close()
		for i := range 2 {
			conns, _ := acceptOnce(l)
			c, err := net.Dial("tcp", raw.Addr().String())
			Expect(err).NotTo(HaveOccurred())
			var got net.Conn
			Eventually(conns).WithTimeout(10 * time.Second).Should(Receive(&got))
			got.Close()
			c.Close()
			if i == 0 {
				f.mu.Lock()
				f.errs = []error{transient}
				f.mu.Unlock()
			}
		}
		Expect(w.got()).To(Equal([]time.Duration{accept.MinWait, 2 * accept.MinWait, accept.MinWait}))
	})

	It("ends a wait at once when closed, with an error that says closed", func() {
		raw := listen()
		f := &failing{Listener: raw}
		for range 100 {
			f.errs = append(f.errs, errors.New("transient"))
		}
		reported := make(chan time.Duration, 100)
		l := accept.Wrap(f, func(_ error, d time.Duration) { reported <- d })
		_, errs := acceptOnce(l)
		// Wait until the wrapper sleeps its longest wait, then close.
		Eventually(reported).WithTimeout(10 * time.Second).Should(Receive(Equal(accept.MaxWait)))
		start := time.Now()
		Expect(l.Close()).To(Succeed())
		var err error
		Eventually(errs).WithTimeout(accept.MaxWait / 2).Should(Receive(&err))
		Expect(err).To(MatchError(net.ErrClosed))
		Expect(time.Since(start)).To(BeNumerically("<", accept.MaxWait))
		Expect(l.Close()).NotTo(Succeed(), "the second Close reports the closed listener, and does not panic")
	})

	It("returns at once on a closed listener", func() {
		l := accept.Wrap(listen(), nil)
		Expect(l.Close()).To(Succeed())
		_, err := l.Accept()
		Expect(err).To(MatchError(net.ErrClosed))
	})

	It("outlives a real EMFILE: the listener serves again once descriptors are free", func() {
		raw := listen()
		w := &waits{}
		l := accept.Wrap(raw, w.add)
		defer l.Close()

		// Lower this process's descriptor limit to what it uses, plus a
		// few, and take those few.
		var old syscall.Rlimit
		Expect(syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)).To(Succeed())
		entries, err := os.ReadDir("/proc/self/fd")
		Expect(err).NotTo(HaveOccurred())
		lim := old
		lim.Cur = uint64(len(entries) + 8)
		Expect(syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)).To(Succeed())
		restored := false
		restore := func() {
			if !restored {
				restored = true
				Expect(syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)).To(Succeed())
			}
		}
		defer restore()
		// The client's socket must exist before the limit bites.
		c, err := net.Dial("tcp", raw.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		var hog []*os.File
		defer func() {
			for _, f := range hog {
				f.Close()
			}
		}()
		for range 64 {
			f, err := os.Open(os.DevNull)
			if err != nil {
				Expect(errors.Is(err, syscall.EMFILE)).To(BeTrue(), "opening: %v", err)
				break
			}
			hog = append(hog, f)
		}

		conns, errs := acceptOnce(l)
		Eventually(func() int { return len(w.got()) }).WithTimeout(10 * time.Second).Should(BeNumerically(">=", 3))
		first := w.errors()[0]
		Expect(errors.Is(first, syscall.EMFILE)).To(BeTrue(), "the first failure: %v", first)
		Consistently(conns).WithTimeout(50 * time.Millisecond).ShouldNot(Receive())
		for _, f := range hog {
			f.Close()
		}
		hog = nil
		restore()
		var got net.Conn
		Eventually(conns).WithTimeout(5 * time.Second).Should(Receive(&got))
		got.Close()
		Expect(errs).NotTo(Receive())
	})
})
