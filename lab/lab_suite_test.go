package lab_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestLab(t *testing.T) {
	RegisterFailHandler(Fail)
	// What a quiet machine does in milliseconds may take seconds on a
	// loaded one: Eventually waits up to 30 s (it returns as soon as it holds).
	SetDefaultEventuallyTimeout(30 * time.Second)
	RunSpecs(t, "lab")
	// The last specs' goroutines may still be winding down on a loaded
	// machine (goleak alone waits about half a second): give them time
	// before calling them leaks.
	NewWithT(t).Eventually(func() error {
		return goleak.Find(goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}
