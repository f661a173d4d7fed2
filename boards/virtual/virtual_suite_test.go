package virtual_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestVirtual(t *testing.T) {
	RegisterFailHandler(Fail)
	before := goleak.IgnoreCurrent()
	RunSpecs(t, "virtual")
	goleak.VerifyNone(t, before, goleak.IgnoreTopFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}
