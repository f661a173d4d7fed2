package lab_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/harness"
	"shakedown/lab"
	"shakedown/lab/labserver"
	"shakedown/mitm"
	"shakedown/reports"
)

// notApplicableOnVirtual are the cells that have no meaning on the virtual
// board (it runs every profile and curve, and trusts the fixture CA): those
// of the seed device that skips point validation, a device no board can be
// provisioned into.
var notApplicableOnVirtual = []string{
	"pass-through/" + mitm.ColSeedP256NoCheck.Name(),
	"pass-through/" + mitm.ColSeedSecp160r1NoCheck.Name(),
	"invalid-point/" + mitm.ColSeedP256NoCheck.Name(),
	"invalid-point/" + mitm.ColSeedSecp160r1NoCheck.Name(),
}

// startBoard starts a virtual board on a pseudo-terminal, trusting the
// set's CA with the lab's build date as its ca-noclock clock, and opens it
// through the harness.
func startBoard(e *env, serial string, devices map[handshake.Name]virtual.DeviceFactory) (*virtual.Board, *harness.Board) {
	gate, err := mitm.NewTimeGate()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gate.Close)
	e.gate, e.board = gate, true
	key, err := e.set.RoughtimeKey()
	Expect(err).NotTo(HaveOccurred())
	vb, err := virtual.Start(virtual.Config{Serial: serial, Devices: devices,
		TLSRoots: e.set.Roots, BuildTime: e.set.BuildDate(),
		Clocks: virtual.Clocks{NTP: gate.NTPAddr(), Roughtime: gate.RoughtimeAddr(), RoughtimeKey: key.Public().(ed25519.PublicKey)}})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
	defer cancel()
	// Four times the protocol's 250 ms per answer: on a loaded machine the
	// board's goroutine may wait its turn, and a HELLO unanswered four
	// times over ends a cell in an error.
	b, err := harness.Open(ctx, vb.Path(), harness.Options{ResponseTimeout: time.Second})
	if err != nil {
		vb.Close()
	}
	Expect(err).NotTo(HaveOccurred())
	return vb, b
}

// virtualSlack is the virtual board's slack: its profile's longest
// handshake limit (boards/profiles/virtual.yaml, 5 s) and more, which
// absorbs the serial link's latency on a loaded machine. The cells wait for
// what they observe, so a long slack costs time only when nothing comes.
const virtualSlack = 10 * time.Second

func cellName(v reports.Verdict) string { return v.Scenario + "/" + v.Column }

var _ = Describe("the MITM matrix on a board through its relay", Label("mitm", "board"), Ordered, ContinueOnFailure, func() {
	var (
		e   *env // the board's lab
		ref *reports.MITM
		res *reports.MITM
		vb  *virtual.Board
		b   *harness.Board
	)
	BeforeAll(func() {
		e = startEnvFor("mitm-board", virtualSlack)
		// The reference: simulated devices of the same fixture set, against
		// a server of their own (the backend counts stay apart).
		refSrv, err := labserver.Start(e.set, nil)
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), 2*matrixTimeout)
		defer cancel()
		ref, err = (&lab.Lab{Set: e.set, Target: refSrv, TargetName: "in-process"}).Run(ctx, mitm.Selection{})
		Expect(refSrv.Close()).To(Succeed())
		Expect(err).NotTo(HaveOccurred())

		vb, b = startBoard(e, "MITM-BOARD-0001", nil)
		l := e.newLab()
		l.Board, l.BoardTrustsSetCA, l.BoardSlack = b, true, virtualSlack
		l.Time, l.BoardAsksTimeGate = e.gate, true
		res, err = l.Run(ctx, mitm.Selection{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.WriteText(GinkgoWriter, false)).To(Succeed())
		AddReportEntry("matrix on the virtual board", fmt.Sprintf("%d cells run, %d not applicable, %d mismatches in %d ms",
			len(res.Verdicts), len(res.NotApplicable), res.Mismatches, res.DurationMS))
	})
	AfterAll(func() {
		if b != nil {
			Expect(b.Close()).To(Succeed())
		}
		if vb != nil {
			Expect(vb.Close()).To(Succeed())
		}
		if e != nil {
			Expect(e.srv.Close()).To(Succeed())
		}
	})

	It("covers every cell of the catalogue once: run, or not applicable", func() {
		var want, got []string
		for _, s := range mitm.Catalogue() {
			for _, c := range s.Cells {
				want = append(want, s.Name+"/"+c.Column.Name())
			}
		}
		for _, v := range append(append([]reports.Verdict(nil), res.Verdicts...), res.NotApplicable...) {
			got = append(got, cellName(v))
		}
		Expect(got).To(ConsistOf(want))
		Expect(res.Mismatches).To(BeZero())
		Expect(res.Board).NotTo(BeNil())
		Expect(res.Board.Serial).To(Equal("MITM-BOARD-0001"))
	})

	It("finds exactly the documented cells not applicable, each with its reason", func() {
		var got []string
		for _, v := range res.NotApplicable {
			got = append(got, cellName(v))
			Expect(v.Outcome).To(Equal(reports.NotApplicable))
			Expect(v.NotApplicable).To(ContainSubstring("skips point validation"))
			Expect(v.Evidence).To(BeEmpty(), "a cell not run has no evidence")
		}
		Expect(got).To(ConsistOf(notApplicableOnVirtual))
	})

	It("lists the cells not applicable in the text and the JSON", func() {
		var text bytes.Buffer
		Expect(res.WriteText(&text, false)).To(Succeed())
		Expect(text.String()).To(ContainSubstring("Not applicable on this board"))
		for _, v := range res.NotApplicable {
			Expect(text.String()).To(ContainSubstring(v.Scenario + " × " + v.Column + " (expected " + v.Expected.Label() + "): " + v.NotApplicable))
		}
		var doc bytes.Buffer
		Expect(res.WriteJSON(&doc)).To(Succeed())
		back, err := reports.ReadMITM(&doc)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.NotApplicable).To(Equal(res.NotApplicable))
		Expect(back.Board).To(Equal(res.Board))
	})

	It("keeps the board's own words where it refused", func() {
		logged := 0
		for _, v := range res.Verdicts {
			for _, f := range of(v, reports.FactLog, reports.SideDevice) {
				if f.Field == "log" && strings.Contains(f.Value, "handshake failed") {
					logged++
				}
			}
		}
		Expect(logged).To(BeNumerically(">", 0), "the board's log of its refused handshakes is evidence")
		v, ok := res.Verdict("impersonate-server", mitm.ColNoise.Name())
		Expect(ok).To(BeTrue())
		var words []string
		for _, f := range of(v, reports.FactLog, reports.SideDevice) {
			words = append(words, f.Value)
		}
		Expect(words).To(ContainElement(ContainSubstring("handshake failed: decrypt")), describe(v))
	})

	for _, s := range mitm.Catalogue() {
		for _, c := range s.Cells {
			name := s.Name + "/" + c.Column.Name()
			if contains(notApplicableOnVirtual, name) {
				continue
			}
			It(fmt.Sprintf("%s on %s: %s as with simulated devices, with evidence", s.Name, c.Column.Name(), c.Expected.Label()), func() {
				v, ok := res.Verdict(s.Name, c.Column.Name())
				Expect(ok).To(BeTrue())
				Expect(v.Error).To(BeEmpty(), describe(v))
				Expect(v.Outcome).To(Equal(c.Expected), describe(v))
				Expect(v.AsExpected).To(BeTrue())
				sim, ok := ref.Verdict(s.Name, c.Column.Name())
				Expect(ok).To(BeTrue())
				Expect(v.Outcome).To(Equal(sim.Outcome), "the simulated device's verdict\n"+describe(sim))
				checkEvidence(e, v)
			})
		}
	}
})

var _ = Describe("cells a board cannot run", Label("mitm", "board"), Ordered, func() {
	var (
		e  *env
		vb *virtual.Board
		b  *harness.Board
	)
	BeforeAll(func() {
		e = startEnvFor("mitm-board-limits", virtualSlack)
		// A board whose firmware runs noise and tls only.
		vb, b = startBoard(e, "MITM-NOISE-TLS", map[handshake.Name]virtual.DeviceFactory{
			handshake.Noise: virtual.Device, handshake.TLS: virtual.Device})
	})
	AfterAll(func() {
		Expect(b.Close()).To(Succeed())
		Expect(vb.Close()).To(Succeed())
		Expect(e.srv.Close()).To(Succeed())
	})

	It("are the profiles missing from its INFO, and the ca modes unless it trusts the set's CA", func() {
		l := e.newLab()
		l.Board, l.BoardSlack = b, virtualSlack // BoardTrustsSetCA left false
		ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
		defer cancel()
		res, err := l.Run(ctx, mitm.Selection{Scenarios: []string{"pass-through"}})
		Expect(err).NotTo(HaveOccurred())
		var run []string
		for _, v := range res.Verdicts {
			run = append(run, v.Column)
			Expect(v.Outcome).To(Equal(reports.Survived), describe(v))
			checkEvidence(e, v)
		}
		Expect(run).To(Equal([]string{"noise", "tls-none", "tls-fingerprint", "tls-spki"}))
		why := map[string]string{}
		for _, v := range res.NotApplicable {
			why[v.Column] = v.NotApplicable
		}
		Expect(why).To(HaveLen(len(mitm.Columns) - len(run)))
		for _, c := range []string{"seed-p256", "seed-secp160r1", "seed-p256-nocheck", "seed-secp160r1-nocheck", "psk"} {
			Expect(why[c]).To(MatchRegexp(`^the board does not run the (seed|psk) profile \(its INFO lists noise, tls\)$`), c)
		}
		for _, c := range []string{"tls-ca", "tls-ca-noclock", "tls-ca-ntp", "tls-ca-roughtime"} {
			Expect(why[c]).To(ContainSubstring("provisions no trust anchor and no clock"), c)
		}
		Expect(res.Mismatches).To(BeZero())
	})

	It("are reported by RunCell too, without running", func() {
		l := e.newLab()
		l.Board, l.BoardSlack = b, virtualSlack
		ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
		defer cancel()
		v, err := l.RunCell(ctx, "expired-certificate", mitm.ColTLSCANoClock)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Outcome).To(Equal(reports.NotApplicable))
		Expect(v.Evidence).To(BeEmpty())
		Expect(v.NotApplicable).To(ContainSubstring("trust anchor"))
	})
})

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
