package emulated_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestEmulated(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	suite, reporter := GinkgoConfiguration()
	if suite.Timeout == time.Hour { // ginkgo's default: a hung emulator still reaches the cleanups
		suite.Timeout = 10 * time.Minute
	}
	RunSpecs(t, "emulated boards", suite, reporter)
	// The last specs' goroutines may still be winding down on a loaded
	// machine (goleak alone waits about half a second): give them time
	// before calling them leaks.
	NewWithT(t).Eventually(func() error {
		return goleak.Find(goleak.IgnoreAnyFunction(
			"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

// lab is the in-process reference server every chip's board talks to.
var lab *labServer

var _ = BeforeSuite(func() {
	lab = startServer()
	DeferCleanup(lab.Close)
})
