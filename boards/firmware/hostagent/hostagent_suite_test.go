package hostagent_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestHostAgent(t *testing.T) {
	RegisterFailHandler(Fail)
	// What a quiet machine does in milliseconds may take seconds on a
	// loaded one: Eventually waits up to 30 s (it returns as soon as it holds).
	SetDefaultEventuallyTimeout(30 * time.Second)
	RunSpecs(t, "hostagent")
	// The last specs' goroutines may still be winding down on a loaded
	// machine (goleak alone waits about half a second): give them time
	// before calling them leaks.
	NewWithT(t).Eventually(func() error {
		return goleak.Find(goleak.IgnoreAnyFunction(
			"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

// agentBin is the host build of the C agent, made once for the suite.
var agentBin string

var _ = BeforeSuite(func() {
	// agent.mk runs on its own as well as included by the Makefile.
	cmd := exec.Command("make", "-C", "..", "-f", "agent.mk", "host-agent")
	cmd.Stdout = GinkgoWriter
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Run()).To(Succeed(), "building the host agent needs make and cc")
	var err error
	agentBin, err = filepath.Abs("../build/agent/host-agent")
	Expect(err).NotTo(HaveOccurred())
})
