package suites_test

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"shakedown/suites"
)

// cfg takes the target flags after -args:
//
//	go test ./suites/ -args --emulated avr
//	go test ./suites/ -args --port /dev/ttyACM0 --board uno -ginkgo.junit-report=junit.xml
var cfg suites.Config

func init() { cfg.Bind(flag.CommandLine) }

func TestSuites(t *testing.T) {
	suite, rep := GinkgoConfiguration()
	cfg.Console, cfg.Log = GinkgoWriter, GinkgoWriter
	before := goleak.IgnoreCurrent()
	// Ctrl-C stops the running step, as in `shakedown test`.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := suites.Run(ctx, t, cfg, suite, rep); err != nil {
		t.Fatal(err)
	}
	stop() // its goroutine is no leak of the suites
	// The last specs' goroutines may still be winding down on a loaded
	// machine (goleak alone waits about half a second): give them time
	// before calling them leaks.
	NewWithT(t).Eventually(func() error {
		return goleak.Find(before, goleak.IgnoreTopFunction(
			"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}
