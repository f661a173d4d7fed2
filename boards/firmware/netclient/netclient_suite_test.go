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
	SetDefaultEventuallyTimeout(30 * time.Second) // a loaded machine; Eventually returns once it holds
	RunSpecs(t, "netclient")
}

// The host programs, built once for the suite.
var clientBin, arduinoBin string

// The goroutines running before the first spec (ginkgo's own).
var before goleak.Option

var _ = BeforeSuite(func() {
	before = goleak.IgnoreCurrent()
	build := exec.Command("make", "-C", "..", "client-host", "arduino-host")
	build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
	Expect(build.Run()).To(Succeed(), "building the host clients needs make, cc and g++")
	clientBin, arduinoBin = filepath.Join("..", "build", "client", "client-publish"), filepath.Join("..", "build", "arduino-host", "arduino-host")
	for _, p := range []*string{&clientBin, &arduinoBin} {
		abs, err := filepath.Abs(*p)
		Expect(err).NotTo(HaveOccurred())
		*p = abs
	}
})

// Every server, subscriber and process a spec starts ends with it: no
// goroutine outlives the specs.
var _ = AfterSuite(func() {
	Eventually(func() error { return goleak.Find(before) }).Should(Succeed())
})
