package weierstrass_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestWeierstrass(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "weierstrass")
}
