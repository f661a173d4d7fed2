package registry_test

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"shakedown/server/registry"
)

// crashTimeout bounds how long a crash test waits for the helper's output.
const crashTimeout = time.Minute

// startCrashtest starts the helper program (internal/crashtest) on dsn.
func startCrashtest(dsn, device string, start uint64, revoke string) *gexec.Session {
	GinkgoHelper()
	args := []string{"-dsn", dsn, "-device", device, "-start", strconv.FormatUint(start, 10)}
	if revoke != "" {
		args = append(args, "-revoke", revoke)
	}
	session, err := gexec.Start(exec.Command(crashtestBin, args...), nil, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return session
}

// killAfterAccepted waits until the helper printed n accepted counters,
// kills it with SIGKILL while it keeps writing, and returns the greatest
// counter it printed: one it was told is durable.
func killAfterAccepted(session *gexec.Session, n int) uint64 {
	GinkgoHelper()
	Eventually(func() int { return len(acceptedCounters(session.Out.Contents())) }).
		WithTimeout(crashTimeout).Should(BeNumerically(">=", n))
	session.Kill()
	Eventually(session).WithTimeout(crashTimeout).Should(gexec.Exit())
	// The helper never exits by itself: it must have died of the signal.
	status, ok := session.Command.ProcessState.Sys().(syscall.WaitStatus)
	Expect(ok && status.Signaled() && status.Signal() == syscall.SIGKILL).To(BeTrue(), "want death by SIGKILL, got %v", session.Command.ProcessState)
	printed := acceptedCounters(session.Out.Contents())
	Expect(printed).NotTo(BeEmpty())
	return printed[len(printed)-1]
}

// acceptedCounters parses the complete "accepted N" lines of out and
// returns the counters in ascending order.
func acceptedCounters(out []byte) []uint64 {
	var cs []uint64
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("accepted "))
		if !ok || !bytes.HasSuffix(rest, []byte("\n")) {
			continue
		}
		c, err := strconv.ParseUint(string(bytes.TrimSuffix(rest, []byte("\n"))), 10, 64)
		if err == nil {
			cs = append(cs, c)
		}
	}
	// Writers race, so lines come out of order; the greatest counts.
	slices.Sort(cs)
	return cs
}

// deviceIn reads a device through a handle of its own.
func deviceIn(dsn, id string) registry.Device {
	GinkgoHelper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, dsn)
	Expect(err).NotTo(HaveOccurred())
	defer reg.Close()
	d, err := reg.Device(ctx, id)
	Expect(err).NotTo(HaveOccurred())
	return d
}
