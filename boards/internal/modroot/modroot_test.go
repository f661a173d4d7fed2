package modroot_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/internal/modroot"
)

// writeGoMod puts a go.mod of module name in dir.
func writeGoMod(dir, name string) {
	GinkgoHelper()
	Expect(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+name+"\n"), 0o644)).To(Succeed())
}

var _ = Describe("modroot", func() {
	It("finds this module's go.mod from a package folder", func() {
		root, err := modroot.Dir()
		Expect(err).NotTo(HaveOccurred())
		Expect(filepath.Join(root, "go.mod")).To(BeARegularFile())
		Expect(filepath.Join(root, "boards", "internal", "modroot")).To(BeADirectory())
	})

	It("stops at the nearest go.mod", func() {
		top := GinkgoT().TempDir()
		inner := filepath.Join(top, "a", "b", "c")
		Expect(os.MkdirAll(inner, 0o755)).To(Succeed())
		writeGoMod(top, "top")
		writeGoMod(filepath.Join(top, "a"), "a")
		Expect(modroot.From(inner)).To(Equal(filepath.Join(top, "a")))
		Expect(modroot.From(top)).To(Equal(top))
	})

	It("says so when no folder up to the root holds a go.mod", func() {
		dir := filepath.Join(GinkgoT().TempDir(), "x", "y")
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		if _, err := modroot.From(filepath.Dir(GinkgoT().TempDir())); err == nil {
			Skip("the temporary folder lies inside a module")
		}
		_, err := modroot.From(dir)
		Expect(err).To(MatchError(modroot.ErrNotFound))
	})
})
