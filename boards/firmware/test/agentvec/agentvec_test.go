package main

import (
	"bytes"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the generated header", func() {
	var root string
	BeforeEach(func() {
		var err error
		root, err = moduleRoot()
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

var _ = Describe("the hex literals", func() {
	It("cut long byte strings into 32-byte pieces", func() {
		Expect(hexLit(nil)).To(Equal(`""`))
		Expect(hexLit([]byte{0xab})).To(Equal(`"ab"`))
		Expect(hexLit(bytes.Repeat([]byte{1}, 33))).To(Equal(
			`"` + string(bytes.Repeat([]byte("01"), 32)) + `"` + "\n\t" + `"01"`))
	})
})
