package netclient_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestNetClient(t *testing.T) {
	RegisterFailHandler(Fail)
	// A loaded machine may take seconds for what a quiet one does in
	// milliseconds: Eventually waits up to 30 s, returning once it holds.
	SetDefaultEventuallyTimeout(30 * time.Second)
	RunSpecs(t, "netclient")
	NewWithT(t).Eventually(func() error {
		return goleak.Find(goleak.IgnoreAnyFunction(
			"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

// The host programs, built once for the suite.
var clientBin, arduinoBin string

var _ = BeforeSuite(func() {
	cmd := exec.Command("make", "-C", "..", "client-host", "arduino-host")
	cmd.Stdout = GinkgoWriter
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Run()).To(Succeed(), "building the host clients needs make, cc and g++")
	var err error
	clientBin, err = filepath.Abs("../build/client/client-publish")
	Expect(err).NotTo(HaveOccurred())
	arduinoBin, err = filepath.Abs("../build/arduino-host/arduino-host")
	Expect(err).NotTo(HaveOccurred())
})
