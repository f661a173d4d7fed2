package cgen_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestCgen(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "cgen")
}
