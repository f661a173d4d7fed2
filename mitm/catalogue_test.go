package mitm_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/mitm"
	"shakedown/reports"
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
					Expect(c.Expected).To(BeElementOf(reports.Rejected, reports.Succeeded, reports.FailedClosed), s.Name)
				} else {
					Expect(c.Expected).To(BeElementOf(reports.Survived, reports.LockedOut), s.Name)
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

	It("expects of the network-clock columns what issue 20 lists", func() {
		want := map[string]map[mitm.Column]reports.Outcome{
			"expired-certificate":  {mitm.ColTLSCANTP: reports.Succeeded, mitm.ColTLSCARoughtime: reports.Rejected},
			"ntp-rollback":         {mitm.ColTLSCANTP: reports.Succeeded, mitm.ColTLSCARoughtime: reports.Rejected},
			"pass-through":         {mitm.ColTLSCANTP: reports.Survived, mitm.ColTLSCARoughtime: reports.Survived},
			"certificate-renewal":  {mitm.ColTLSCANTP: reports.Survived, mitm.ColTLSCARoughtime: reports.Survived},
			"certificate-rollover": {mitm.ColTLSCANTP: reports.Survived, mitm.ColTLSCARoughtime: reports.Survived},
			"time-blocked":         {mitm.ColTLSCARoughtime: reports.FailedClosed},
		}
		for name, cells := range want {
			s, err := mitm.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			for col, o := range cells {
				c, ok := s.Cell(col)
				Expect(ok).To(BeTrue(), name+" on "+col.Name())
				Expect(c.Expected).To(Equal(o), name+" on "+col.Name())
			}
		}
		Expect(mitm.ColTLSCANTP.NetworkClock()).To(BeTrue())
		Expect(mitm.ColTLSCA.NetworkClock()).To(BeFalse())
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
