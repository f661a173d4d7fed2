package modroot_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestModroot(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "modroot")
}
