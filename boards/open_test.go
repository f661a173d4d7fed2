package boards_test

import (
	"context"
	"io"
	"io/fs"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards"
)

var _ = Describe("Where.Open", func() {
	It("says plainly that a port does not exist, before any profile or link error", func() {
		port := filepath.Join(GinkgoT().TempDir(), "ttyNOPE")
		_, _, err := boards.Where{Port: port}.Open(context.Background(), io.Discard, nil)
		Expect(err).To(MatchError(fs.ErrNotExist))
		Expect(err.Error()).To(HavePrefix("boards: no serial port " + port + " (shakedown board list shows the ports)"))
		Expect(err.Error()).NotTo(ContainSubstring(": :"), "no empty fields")
		Expect(err.Error()).NotTo(ContainSubstring("as virtual"), "no profile was chosen for a port that is not there")
	})
})
