package mitm_test

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/mitm"
)

var _ = Describe("the catalogue", func() {
	It("gives every cell an expectation of its kind and a source", func() {
		names := map[string]bool{}
		for _, s := range mitm.Catalogue() {
			Expect(names).NotTo(HaveKey(s.Name))
			names[s.Name] = true
			Expect(s.Title).NotTo(BeEmpty())
			Expect(s.Cells).NotTo(BeEmpty(), s.Name)
			cols := map[string]bool{}
			for _, c := range s.Cells {
				Expect(cols).NotTo(HaveKey(c.Column.Name()), s.Name)
				cols[c.Column.Name()] = true
				Expect(c.Source).NotTo(BeEmpty(), s.Name)
				if s.Kind == mitm.KindAttack {
					Expect(c.Expected).To(BeElementOf(mitm.Rejected, mitm.Succeeded), s.Name)
				} else {
					Expect(c.Expected).To(BeElementOf(mitm.Survived, mitm.LockedOut), s.Name)
				}
				_, err := mitm.ParseColumn(c.Column.Name())
				Expect(err).NotTo(HaveOccurred())
			}
		}
	})

	It("covers what the issue asks of each profile", func() {
		want := map[string][]string{
			"impersonate-server":   {"noise", "seed-p256", "seed-secp160r1", "tls-none", "tls-fingerprint", "tls-spki"},
			"expired-certificate":  {"tls-ca", "tls-ca-noclock"},
			"certificate-rollover": {"tls-fingerprint"},
			"certificate-renewal":  {"tls-spki"},
			"leaked-public-key":    {"seed-p256", "seed-secp160r1"},
			"invalid-point":        {"noise", "seed-p256", "seed-secp160r1", "seed-p256-nocheck", "seed-secp160r1-nocheck"},
			"replay-to-device":     {"noise", "seed-p256", "seed-secp160r1"},
			"replay-to-server":     {"noise", "psk"},
			"tamper-handshake":     {"noise"},
			"transport-replay":     {"noise"},
			"transport-reorder":    {"noise"},
			"transport-drop":       {"noise"},
			"transport-truncate":   {"noise"},
			"reflection":           {"noise"},
			"downgrade":            {"noise"},
			"server-key-rollover":  {"noise"},
			"leaked-device-key":    {"noise", "seed-p256", "seed-secp160r1", "psk"},
		}
		for name, cols := range want {
			s, err := mitm.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			for _, c := range cols {
				col, err := mitm.ParseColumn(c)
				Expect(err).NotTo(HaveOccurred())
				_, ok := s.Cell(col)
				Expect(ok).To(BeTrue(), name+" on "+c)
			}
		}
	})

	It("selects by scenario, profile and column, and refuses unknown names", func() {
		Expect(mitm.Selection{Scenarios: []string{"downgrade"}, Columns: []string{"tls", "seed-p256"}}.Check()).To(Succeed())
		Expect(mitm.Selection{Scenarios: []string{"nope"}}.Check()).To(MatchError(ContainSubstring("unknown scenario")))
		Expect(mitm.Selection{Columns: []string{"tls-maybe"}}.Check()).To(MatchError(ContainSubstring("unknown profile or column")))
		_, err := mitm.ParseColumn("seed")
		Expect(err).To(HaveOccurred())
	})

	It("lists every scenario with its sources", func() {
		var b bytes.Buffer
		mitm.WriteCatalogue(&b)
		for _, s := range mitm.Catalogue() {
			Expect(b.String()).To(ContainSubstring(s.Name + " (" + string(s.Kind) + ")"))
		}
		Expect(b.String()).To(ContainSubstring("Noise rev. 34 §7.7"))
	})
})

var _ = Describe("results", func() {
	sample := func() *mitm.Results {
		return &mitm.Results{Format: mitm.ResultsFormat, FixturesSeed: "s", Target: "t",
			Columns: []string{"noise", "tls-none"}, Scenarios: []string{"impersonate-server"}, Mismatches: 1,
			Verdicts: []mitm.Verdict{
				{Scenario: "impersonate-server", Column: "noise", Profile: handshake.Noise, Device: "noise-0001",
					Expected: mitm.Rejected, Outcome: mitm.Rejected, AsExpected: true, Source: "src",
					Evidence: []mitm.Fact{{Side: mitm.SideDevice, Kind: mitm.FactRefused, Stage: handshake.StageMsg2, Reason: handshake.ReasonDecrypt}}},
				{Scenario: "impersonate-server", Column: "tls-none", Profile: handshake.TLS, Variant: "none", Device: "tls-0001",
					Expected: mitm.Succeeded, Outcome: mitm.Rejected, Source: "src",
					Evidence: []mitm.Fact{{Side: mitm.SideAttacker, Kind: mitm.FactRead, Field: "connect.password", Value: "pw"}}},
			}}
	}

	It("round-trips through JSON and refuses another format", func() {
		var b bytes.Buffer
		Expect(sample().WriteJSON(&b)).To(Succeed())
		Expect(b.String()).To(ContainSubstring(`"format": "shakedown-mitm/1"`))
		got, err := mitm.ReadResults(bytes.NewReader(b.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(sample()))
		_, err = mitm.ReadResults(strings.NewReader(`{"format":"other"}`))
		Expect(err).To(MatchError(ContainSubstring("format")))
	})

	It("prints the matrix, marking surprises and giving their evidence", func() {
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
})
