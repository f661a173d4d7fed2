package app

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// gcPaceSink keeps the spec's allocations from being optimised away.
var gcPaceSink []byte

var _ = Describe("the collector's target while the server is quiet (--idle-gc-percent)", func() {
	p := gcPacer{idle: 25, busy: 100}

	It("lowers the target after gcQuietWindows quiet windows in a row, and raises it after one busy window", func() {
		s := pace{target: 100}
		for range gcQuietWindows - 1 {
			s = p.next(s, gcQuietRate/2)
		}
		Expect(s.target).To(Equal(100), "one quiet window short")
		s = p.next(s, gcQuietRate/2)
		Expect(s.target).To(Equal(25))
		s = p.next(s, (gcQuietRate+gcBusyRate)/2)
		Expect(s.target).To(Equal(25), "between the rates the target stays")
		s = p.next(s, gcBusyRate*2)
		Expect(s).To(Equal(pace{target: 100}))
	})

	It("starts the count again after a window that is not quiet", func() {
		s := pace{target: 100}
		for range gcQuietWindows - 1 {
			s = p.next(s, 0)
		}
		s = p.next(s, (gcQuietRate+gcBusyRate)/2)
		for range gcQuietWindows - 1 {
			s = p.next(s, 0)
		}
		Expect(s.target).To(Equal(100))
		Expect(p.next(s, 0).target).To(Equal(25))
	})

	It("follows this process's own allocation: quiet, then busy, and Go's default again when stopped", func() {
		var (
			mu       sync.Mutex
			targets  []int
			releases int
		)
		q := gcPacer{idle: 25, busy: 100, log: slog.New(slog.DiscardHandler),
			set: func(t int) int {
				mu.Lock()
				defer mu.Unlock()
				targets = append(targets, t)
				return 0
			},
			release: func() {
				mu.Lock()
				defer mu.Unlock()
				releases++
			}}
		seen := func() []int {
			mu.Lock()
			defer mu.Unlock()
			return append([]int(nil), targets...)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			q.run(ctx, 20*time.Millisecond)
		}()
		released := func() int {
			mu.Lock()
			defer mu.Unlock()
			return releases
		}
		Eventually(seen).WithTimeout(10*time.Second).Should(Equal([]int{25}), "quiet: the idle target")
		// The target is set before the memory is returned: wait for both.
		Eventually(released).WithTimeout(10*time.Second).Should(Equal(1), "going quiet returns the freed memory once")

		// Allocate well above gcBusyRate until the pacer sees it.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				gcPaceSink = make([]byte, 1<<20)
			}
		}()
		Eventually(seen).WithTimeout(10*time.Second).Should(Equal([]int{25, 100}), "busy: Go's default")
		// Stopped while still busy, so that it cannot turn quiet first.
		cancel()
		<-done
		close(stop)
		Expect(seen()).To(Equal([]int{25, 100, 100}), "stopped: Go's default")
		Expect(released()).To(Equal(1), "the memory was returned once, on going quiet")
	})

	It("is off at 0 and at 100 or above, and when the environment sets GOGC", func() {
		log := slog.New(slog.DiscardHandler)
		_, ok := newGCPacer(0, log)
		Expect(ok).To(BeFalse())
		_, ok = newGCPacer(100, log)
		Expect(ok).To(BeFalse())
		if v, set := os.LookupEnv("GOGC"); set {
			DeferCleanup(os.Setenv, "GOGC", v)
		} else {
			DeferCleanup(os.Unsetenv, "GOGC")
		}
		Expect(os.Unsetenv("GOGC")).To(Succeed())
		q, ok := newGCPacer(25, log)
		Expect(ok).To(BeTrue())
		Expect(q.idle).To(Equal(25))
		Expect(q.busy).To(Equal(100))
		Expect(os.Setenv("GOGC", "100")).To(Succeed())
		_, ok = newGCPacer(25, log)
		Expect(ok).To(BeFalse())
	})
})
