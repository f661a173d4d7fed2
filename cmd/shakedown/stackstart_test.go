package main

import (
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("goroutine stacks (restartWithStackStart)", func() {
	// godebugOf is the GODEBUG a running process of the world has, read
	// from its environment; "" when it has none.
	godebugOf := func(pid int) string {
		GinkgoHelper()
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		Expect(err).NotTo(HaveOccurred())
		var found []string
		for _, kv := range strings.Split(string(data), "\x00") {
			if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
				found = append(found, v)
			}
		}
		Expect(len(found)).To(BeNumerically("<=", 1), "one GODEBUG in the environment: %q", found)
		if len(found) == 0 {
			return ""
		}
		return found[0]
	}
	serving := func(godebug ...string) int {
		GinkgoHelper()
		w := newWorld()
		w.fixtures()
		// The spec's own GODEBUG, if any, goes: the runtime reads the first.
		var env []string
		for _, kv := range w.env {
			if !strings.HasPrefix(kv, "GODEBUG=") {
				env = append(env, kv)
			}
		}
		w.env = append(env, godebug...)
		w.serve()
		pid := w.lastPid
		Expect(pid).NotTo(BeZero())
		return pid
	}

	It("starts serve with small goroutine stacks, in the same process", func() {
		Expect(godebugOf(serving("GODEBUG="))).To(Equal(stackStartSetting))
	})
	It("keeps what the user's GODEBUG says, adding to it", func() {
		Expect(godebugOf(serving("GODEBUG=madvdontneed=1"))).To(Equal("madvdontneed=1," + stackStartSetting))
	})
	It("leaves a user's own choice of stack start alone", func() {
		Expect(godebugOf(serving("GODEBUG=adaptivestackstart=1"))).To(Equal("adaptivestackstart=1"))
	})
})
