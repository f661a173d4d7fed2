package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestApp(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "shakedown serve (process)")
	goleak.VerifyNone(t, goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}

// binary is the shakedown binary built for the suite.
var binary string

var _ = BeforeSuite(func() {
	dir, err := os.MkdirTemp("", "shakedown-bin")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	binary = buildBinary(dir)
})

// buildBinary builds the shakedown binary into dir and returns its path.
func buildBinary(dir string) string {
	bin := filepath.Join(dir, "shakedown")
	out, err := exec.Command("go", "build", "-o", bin, "shakedown/cmd/shakedown").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	return bin
}
