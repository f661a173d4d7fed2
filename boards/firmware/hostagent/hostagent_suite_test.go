package hostagent_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestHostAgent(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "hostagent")
	goleak.VerifyNone(t, goleak.IgnoreAnyFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
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
