package cgen_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/firmware/test/internal/cgen"
)

// gen is a generator that prints one comment.
func gen(w io.Writer) error {
	_, err := io.WriteString(w, "/* header */\n")
	return err
}

var _ = Describe("HexLit", func() {
	It("is an empty literal for no bytes", func() {
		Expect(cgen.HexLit(nil, "\t")).To(Equal(`""`))
	})

	It("keeps up to 32 bytes on one line", func() {
		Expect(cgen.HexLit([]byte{0xab}, "\t")).To(Equal(`"ab"`))
		Expect(cgen.HexLit(bytes.Repeat([]byte{2}, 32), "\t")).To(Equal(`"` + strings.Repeat("02", 32) + `"`))
	})

	DescribeTable("cuts longer byte strings into 32-byte pieces after a newline and the indent",
		func(indent string) {
			Expect(cgen.HexLit(bytes.Repeat([]byte{1}, 65), indent)).To(Equal(
				`"` + strings.Repeat("01", 32) + `"` + "\n" + indent +
					`"` + strings.Repeat("01", 32) + `"` + "\n" + indent + `"01"`))
		},
		Entry("a tab (agentvec)", "\t"),
		Entry("a tab and a space (vectorgen)", "\t "),
	)
})

var _ = Describe("Header", func() {
	It("draws the same bytes from the same seed, others from another", func() {
		a, b, c := cgen.New([32]byte{1}), cgen.New([32]byte{1}), cgen.New([32]byte{2})
		ra, rb, rc := a.Random(64), b.Random(64), c.Random(64)
		Expect(ra).To(HaveLen(64))
		Expect(ra).To(Equal(rb))
		Expect(ra).NotTo(Equal(rc))
		Expect(a.Random(64)).NotTo(Equal(ra), "the source moves on")
	})

	It("writes what Printf collected", func() {
		h := cgen.New([32]byte{})
		h.Printf("#define N %d\n", 3)
		h.Printf("/* %s */\n", "end")
		var buf bytes.Buffer
		n, err := h.WriteTo(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(buf.String()).To(Equal("#define N 3\n/* end */\n"))
		Expect(n).To(Equal(int64(buf.Len())))
	})
})

var _ = Describe("Run", func() {
	var stdout, stderr bytes.Buffer
	BeforeEach(func() {
		stdout.Reset()
		stderr.Reset()
	})

	It("prints the header on standard output without -o", func() {
		Expect(cgen.Run("gen", nil, &stdout, &stderr, gen)).To(Equal(0))
		Expect(stdout.String()).To(Equal("/* header */\n"))
		Expect(stderr.String()).To(BeEmpty())
	})

	It("writes the header to the file -o names", func() {
		out := filepath.Join(GinkgoT().TempDir(), "h.h")
		Expect(cgen.Run("gen", []string{"-o", out}, &stdout, &stderr, gen)).To(Equal(0))
		Expect(os.ReadFile(out)).To(Equal([]byte("/* header */\n")))
		Expect(stdout.String()).To(BeEmpty())
	})

	It("writes nothing and exits 1 when the generator fails", func() {
		out := filepath.Join(GinkgoT().TempDir(), "h.h")
		failing := func(w io.Writer) error {
			_, _ = io.WriteString(w, "partial")
			return errors.New("reading the sources: missing")
		}
		Expect(cgen.Run("gen", []string{"-o", out}, &stdout, &stderr, failing)).To(Equal(1))
		Expect(stderr.String()).To(Equal("gen: reading the sources: missing\n"))
		Expect(out).NotTo(BeAnExistingFile())
	})

	It("exits 1 when the file cannot be written", func() {
		out := filepath.Join(GinkgoT().TempDir(), "no-such-dir", "h.h")
		Expect(cgen.Run("gen", []string{"-o", out}, &stdout, &stderr, gen)).To(Equal(1))
		Expect(stderr.String()).To(HavePrefix("gen: writing the header: "))
	})

	It("exits 2 on a usage error", func() {
		Expect(cgen.Run("gen", []string{"-x"}, &stdout, &stderr, gen)).To(Equal(2))
		Expect(cgen.Run("gen", []string{"extra"}, &stdout, &stderr, gen)).To(Equal(2))
		Expect(stdout.String()).To(BeEmpty())
	})
})
