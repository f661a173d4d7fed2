package reports_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

var _ = Describe("MITM results", func() {
	sample := func() *reports.MITM {
		return &reports.MITM{Format: reports.MITMFormat, FixturesSeed: "s", Target: "t",
			Columns: []string{"noise", "tls-none"}, Scenarios: []string{"impersonate-server"}, Mismatches: 1,
			Verdicts: []reports.Verdict{
				{Scenario: "impersonate-server", Column: "noise", Profile: "noise", Device: "noise-0001",
					Expected: reports.Rejected, Outcome: reports.Rejected, AsExpected: true, Source: "src",
					Evidence: []reports.Fact{{Side: reports.SideDevice, Kind: reports.FactRefused, Stage: "msg2", Reason: "decrypt_failed"}}},
				{Scenario: "impersonate-server", Column: "tls-none", Profile: "tls", Variant: "none", Device: "tls-0001",
					Expected: reports.Succeeded, Outcome: reports.Rejected, Source: "src",
					Evidence: []reports.Fact{{Side: reports.SideAttacker, Kind: reports.FactRead, Field: "connect.password", Value: "pw"}}},
			}}
	}

	It("round-trip through JSON and refuse another format", func() {
		var b bytes.Buffer
		Expect(sample().WriteJSON(&b)).To(Succeed())
		Expect(b.String()).To(ContainSubstring(`"format": "shakedown-mitm/1"`))
		got, err := reports.ReadMITM(bytes.NewReader(b.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(sample()))
		_, err = reports.ReadMITM(strings.NewReader(`{"format":"other"}`))
		Expect(err).To(MatchError(ContainSubstring("format")))
	})

	// The files were written by `shakedown mitm run --out` before the matrix
	// produced these types: read and written again, they come back byte for
	// byte, so the results format is the one it was.
	DescribeTable("read the files mitm run wrote and write them back unchanged",
		func(name string, board bool) {
			path := filepath.Join("testdata", name)
			want, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			m, err := reports.ReadMITMFile(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.Verdicts).NotTo(BeEmpty())
			Expect(m.Board != nil).To(Equal(board))
			Expect(len(m.NotApplicable) > 0).To(Equal(board))
			var got bytes.Buffer
			Expect(m.WriteJSON(&got)).To(Succeed())
			Expect(got.String()).To(Equal(string(want)))
		},
		Entry("simulated devices", "mitm.json", false),
		Entry("a virtual board, with cells not applicable on it", "mitm-board.json", true),
	)

	It("find a cell among the verdicts and the cells not applicable", func() {
		m, err := reports.ReadMITMFile(filepath.Join("testdata", "mitm-board.json"))
		Expect(err).NotTo(HaveOccurred())
		v, ok := m.Verdict("pass-through", "seed-p256-nocheck")
		Expect(ok).To(BeTrue())
		Expect(v.Outcome).To(Equal(reports.NotApplicable))
		Expect(v.NotApplicable).To(ContainSubstring("skips point validation"))
		v, ok = m.Verdict("pass-through", "noise")
		Expect(ok).To(BeTrue())
		Expect(v.Outcome).To(Equal(reports.Survived))
		_, ok = m.Verdict("pass-through", "tls-none")
		Expect(ok).To(BeFalse(), "a column outside the run")
	})

	It("print the matrix, marking surprises and giving their evidence", func() {
		var b bytes.Buffer
		Expect(sample().WriteText(&b, false)).To(Succeed())
		out := b.String()
		Expect(out).To(ContainSubstring("1 not as expected"))
		Expect(out).To(MatchRegexp(`impersonate-server\s+rejected\s+rejected!`))
		Expect(out).To(ContainSubstring(`attacker read connect.password = "pw"`))
		Expect(out).NotTo(ContainSubstring("device refused at msg2"), "expected rejections print no evidence by default")
		b.Reset()
		Expect(sample().WriteText(&b, true)).To(Succeed())
		Expect(b.String()).To(ContainSubstring("device refused at msg2: decrypt_failed"))
	})

	It("print a board's cells not applicable, each with its reason", func() {
		m, err := reports.ReadMITMFile(filepath.Join("testdata", "mitm-board.json"))
		Expect(err).NotTo(HaveOccurred())
		var b bytes.Buffer
		Expect(m.WriteText(&b, false)).To(Succeed())
		Expect(b.String()).To(ContainSubstring(`on board "shakedown virtual board"`))
		Expect(b.String()).To(MatchRegexp(`pass-through\s+survived\s+survived\s+survived\s+n/a\s+n/a`))
		Expect(b.String()).To(ContainSubstring("Not applicable on this board"))
		for _, v := range m.NotApplicable {
			Expect(b.String()).To(ContainSubstring(v.Scenario + " × " + v.Column + " (expected " + v.Expected.Label() + "): " + v.NotApplicable))
		}
	})

	It("label the outcomes they know, and no other", func() {
		Expect(reports.Succeeded.Label()).To(Equal("SUCCEEDED"))
		Expect(reports.LockedOut.Label()).To(Equal("LOCKED OUT"))
		Expect(reports.FailedClosed.Label()).To(Equal("failed closed"))
		Expect(reports.NotApplicable.Label()).To(Equal("n/a"))
		Expect(reports.Outcome("<script>").Label()).To(Equal("?"))
	})
})
