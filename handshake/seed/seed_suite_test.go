package seed_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestSeed(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "seed")
}

var ignoreAtStart goleak.Option

var _ = BeforeSuite(func() {
	ignoreAtStart = goleak.IgnoreCurrent()
})

var _ = AfterSuite(func() {
	Eventually(func() error { return goleak.Find(ignoreAtStart) }).Should(Succeed())
})
