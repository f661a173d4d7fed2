package main

import (
	"bytes"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/internal/modroot"
)

var _ = Describe("the generated header", func() {
	var root string
	BeforeEach(func() {
		var err error
		root, err = modroot.Dir()
		Expect(err).NotTo(HaveOccurred())
	})

	It("is what the generator prints, byte for byte", func() {
		var buf bytes.Buffer
		Expect(generate(&buf, root)).To(Succeed())
		checkedIn, err := os.ReadFile(filepath.Join(root, "boards/firmware/test/agent/vectors.h"))
		Expect(err).NotTo(HaveOccurred())
		Expect(buf.String()).To(Equal(string(checkedIn)),
			"regenerate with: go run ./boards/firmware/test/agentvec -o boards/firmware/test/agent/vectors.h")
	})

	It("is the same on every run", func() {
		var a, b bytes.Buffer
		Expect(generate(&a, root)).To(Succeed())
		Expect(generate(&b, root)).To(Succeed())
		Expect(a.Bytes()).To(Equal(b.Bytes()))
	})

	It("fails rather than writing a header from a missing source", func() {
		var buf bytes.Buffer
		Expect(generate(&buf, GinkgoT().TempDir())).NotTo(Succeed())
	})
})
