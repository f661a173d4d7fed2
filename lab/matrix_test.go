package lab_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/lab"
	"shakedown/lab/labserver"
	"shakedown/mitm"
	"shakedown/reports"
)

// matrixTimeout bounds a hung matrix. The goal of under three
// minutes on two cores is a figure (the "matrix" report entry says how long
// it took), not a deadline: on a loaded machine the same matrix may take
// longer and still be right.
const matrixTimeout = 10 * time.Minute

// env is the lab of the suite: one fixture set, one in-process server.
type env struct {
	set *fixtures.Set
	srv *labserver.Server
	// board: the verdicts come from a board, which reports a refusal's
	// reason and its log, not its time server's check or its clock.
	board bool
	gate  *mitm.TimeGate // made before a board that asks it
}

func startEnv(seed string) *env { return startEnvFor(seed, 0) }

// startEnvFor is startEnv for a board of the given slack: the server's
// handshake deadline takes it on top of the lab's, as the suites do.
func startEnvFor(seed string, slack time.Duration) *env {
	set, err := fixtures.Build(fixtures.Options{Seed: seed, DevicesPerProfile: 3, Now: time.Now().UTC().Truncate(time.Second)})
	Expect(err).NotTo(HaveOccurred())
	srv, err := labserver.StartOptions(set, labserver.Options{HandshakeTimeout: labserver.HandshakeTimeout + slack})
	Expect(err).NotTo(HaveOccurred())
	return &env{set: set, srv: srv}
}

func (e *env) newLab() *lab.Lab { return &lab.Lab{Set: e.set, Target: e.srv, TargetName: "in-process"} }

var _ = Describe("the MITM matrix", Label("mitm"), Ordered, func() {
	var (
		e   *env
		res *reports.MITM
	)
	BeforeAll(func() {
		e = startEnv("mitm-matrix")
		ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
		defer cancel()
		var err error
		res, err = e.newLab().Run(ctx, mitm.Selection{})
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("matrix", fmt.Sprintf("%d cells in %d ms", len(res.Verdicts), res.DurationMS))
	})
	AfterAll(func() {
		if e != nil {
			Expect(e.srv.Close()).To(Succeed())
		}
	})

	It("has a verdict for every cell of the catalogue, in order, and counts mismatches", func() {
		var want []string
		for _, s := range mitm.Catalogue() {
			for _, c := range s.Cells {
				want = append(want, s.Name+"/"+c.Column.Name())
			}
		}
		var got []string
		mismatches := 0
		for _, v := range res.Verdicts {
			got = append(got, v.Scenario+"/"+v.Column)
			if !v.AsExpected {
				mismatches++
			}
		}
		Expect(got).To(Equal(want))
		Expect(res.Mismatches).To(Equal(mismatches))
		Expect(res.Columns).To(HaveLen(len(mitm.Columns)))
	})

	for _, s := range mitm.Catalogue() {
		for _, c := range s.Cells {
			It(fmt.Sprintf("%s on %s: %s, with evidence", s.Name, c.Column.Name(), c.Expected.Label()), func() {
				v, ok := res.Verdict(s.Name, c.Column.Name())
				Expect(ok).To(BeTrue())
				Expect(v.Error).To(BeEmpty(), describe(v))
				Expect(v.Outcome).To(Equal(c.Expected), describe(v))
				Expect(v.AsExpected).To(BeTrue())
				Expect(v.Source).To(Equal(c.Source))
				checkEvidence(e, v)
			})
		}
	}
})

// describe renders a verdict for a failure message.
func describe(v reports.Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s: %s (expected %s) %s\n", v.Scenario, v.Column, v.Outcome, v.Expected, v.Error)
	for _, f := range v.Evidence {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	return b.String()
}

// of returns the facts of a kind, from a side when side is not empty.
func of(v reports.Verdict, kind reports.FactKind, side reports.Side) []reports.Fact {
	var out []reports.Fact
	for _, f := range v.Evidence {
		if f.Kind == kind && (side == "" || f.Side == side) {
			out = append(out, f)
		}
	}
	return out
}

// reads returns the values the attacker read for field.
func reads(v reports.Verdict, field string) []string {
	var out []string
	for _, f := range of(v, reports.FactRead, reports.SideAttacker) {
		if f.Field == field {
			out = append(out, f.Value)
		}
	}
	return out
}

// reasons returns the reasons side refused with ("" for any side),
// leaving out hang-ups.
func reasons(v reports.Verdict, side reports.Side) []handshake.Reason {
	var out []handshake.Reason
	for _, f := range of(v, reports.FactRefused, side) {
		if r := handshake.Reason(f.Reason); r != handshake.ReasonIO && r != handshake.ReasonTimeout {
			out = append(out, r)
		}
	}
	return out
}

func topicOf(v reports.Verdict, leaf string) string { return "devices/" + v.Device + "/" + leaf }

// checkEvidence holds every verdict to its evidence: a success shows what
// the attacker read or made a side accept, checked against the fixtures
// and the backend; a rejection shows a refusal with its reason, and every
// delivery count it reports stays put.
func checkEvidence(e *env, v reports.Verdict) {
	d, ok := e.set.Device(v.Device)
	Expect(ok).To(BeTrue(), "the verdict names a fixture device")
	switch v.Outcome {
	case reports.Rejected:
		if v.Scenario == "eavesdrop-identity" {
			Expect(of(v, reports.FactNotFound, reports.SideAttacker)).NotTo(BeEmpty(), describe(v))
		} else {
			Expect(reasons(v, "")).NotTo(BeEmpty(), "a rejection is observed, not assumed\n"+describe(v))
		}
		if check, ok := rejected[v.Scenario]; ok {
			check(v)
		}
		if v.Column == mitm.ColTLSCARoughtime.Name() && (v.Scenario == "expired-certificate" || v.Scenario == "ntp-rollback") {
			rejectedTime(e, v)
		}
		// What the backend got when the verdict was made, it keeps getting.
		for _, f := range of(v, reports.FactDelivered, reports.SideBackend) {
			Consistently(func() int { return e.srv.Count(f.Field, []byte(f.Value)) }).
				WithTimeout(100*time.Millisecond).WithPolling(10*time.Millisecond).Should(Equal(f.Count), f.Value)
		}
	case reports.Succeeded:
		check, ok := succeeded[v.Scenario]
		Expect(ok).To(BeTrue(), "every successful attack has an evidence check")
		check(e, v, d)
	case reports.Survived:
		Expect(of(v, reports.FactWorked, reports.SideDevice)).NotTo(BeEmpty(), describe(v))
		delivered := of(v, reports.FactDelivered, reports.SideBackend)
		Expect(delivered).NotTo(BeEmpty(), describe(v))
		for _, f := range delivered {
			Expect(e.srv.Count(f.Field, []byte(f.Value))).To(Equal(1), f.Value)
		}
	case reports.LockedOut:
		Expect(reasons(v, reports.SideDevice)).To(ConsistOf(handshake.ReasonCertificate), describe(v))
	case reports.FailedClosed:
		Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonTimeUnavailable}), describe(v))
		var dropped int
		for _, f := range of(v, reports.FactNote, reports.SideAttacker) {
			if strings.HasSuffix(f.Field, ".dropped") {
				dropped += f.Count
			}
		}
		Expect(dropped).To(BeNumerically(">=", 1), "the attacker dropped the device's time queries\n"+describe(v))
	default:
		Fail("no evidence for outcome " + string(v.Outcome))
	}
}

// checkCredentials: the attacker in the middle of a tls session read the
// device's real CONNECT and telemetry, and the backend got that telemetry.
func checkCredentials(e *env, v reports.Verdict, d fixtures.Device) {
	Expect(reads(v, "connect.client_id")).To(Equal([]string{d.ID}), describe(v))
	Expect(reads(v, "connect.username")).To(Equal([]string{d.ID}))
	Expect(reads(v, "connect.password")).To(Equal([]string{d.Password()}), "the attacker read the device's password")
	payloads := reads(v, "publish.payload")
	Expect(payloads).To(HaveLen(1))
	Expect(e.srv.Count(topicOf(v, "telemetry"), []byte(payloads[0]))).To(Equal(1), "the telemetry the attacker read is what the backend received")
}

var succeeded = map[string]func(e *env, v reports.Verdict, d fixtures.Device){
	"eavesdrop-identity": func(_ *env, v reports.Verdict, d fixtures.Device) {
		Expect(reads(v, "device_id")).To(Equal([]string{d.ID}), describe(v))
	},
	"impersonate-server":  checkCredentials,
	"expired-certificate": checkClockOrCredentials,
	"ntp-rollback":        checkClockOrCredentials,
	"leaked-public-key": func(e *env, v reports.Verdict, d fixtures.Device) {
		Expect(reads(v, "connect.client_id")).To(Equal([]string{d.ID}), describe(v))
		payloads := reads(v, "publish.payload")
		Expect(payloads).To(HaveLen(1))
		Expect(e.srv.Count(topicOf(v, "telemetry"), []byte(payloads[0]))).To(BeZero(), "the telemetry went to the attacker only")
		accepted := of(v, reports.FactAccepted, reports.SideDevice)
		Expect(accepted).To(HaveLen(1))
		Expect(accepted[0].Field).To(Equal("command"))
		Expect(accepted[0].Value).To(HavePrefix("attacker's command"))
	},
	"invalid-point": func(_ *env, v reports.Verdict, d fixtures.Device) {
		Expect(reads(v, "connect.client_id")).To(ContainElement(d.ID), describe(v))
		// The order-2 point opens the session exactly for an odd key and
		// says so; the identity opens it for any key.
		odd := d.Private[len(d.Private)-1]&1 == 1
		var notes []string
		for _, f := range of(v, reports.FactRead, reports.SideAttacker) {
			notes = append(notes, f.Note)
		}
		Expect(notes).To(ContainElement(ContainSubstring("identity")))
		if odd {
			Expect(notes).To(ContainElement(ContainSubstring("private key is odd")))
		}
		Expect(of(v, reports.FactAccepted, reports.SideDevice)).To(HaveLen(3), "the device accepted all three invalid points")
	},
	"replay-to-device": func(_ *env, v reports.Verdict, _ fixtures.Device) {
		var recorded string
		for _, f := range of(v, reports.FactWorked, reports.SideDevice) {
			recorded = f.Value
		}
		Expect(recorded).NotTo(BeEmpty(), describe(v))
		var replayed []string
		for _, f := range of(v, reports.FactAccepted, reports.SideDevice) {
			if f.Field == "command" {
				replayed = append(replayed, f.Value)
			}
		}
		Expect(replayed).To(Equal([]string{recorded}), "the device accepted the recorded command a second time")
		Expect(reads(v, "reused keystream")).To(HaveLen(1), "the device reused its key and nonce")
	},
	"replay-to-server": func(e *env, v reports.Verdict, _ fixtures.Device) {
		delivered := of(v, reports.FactDelivered, reports.SideBackend)
		Expect(delivered).To(HaveLen(1), describe(v))
		Expect(delivered[0].Count).To(Equal(2))
		Consistently(func() int { return e.srv.Count(delivered[0].Field, []byte(delivered[0].Value)) }).
			WithTimeout(100*time.Millisecond).Should(Equal(2), "the replayed PUBLISH arrived again at the backend")
	},
	"leaked-device-key": func(e *env, v reports.Verdict, d fixtures.Device) {
		Expect(reads(v, "connect.client_id")).To(Equal([]string{d.ID, d.ID}), "both recorded sessions decrypted\n"+describe(v))
		payloads := reads(v, "publish.payload")
		Expect(payloads).To(HaveLen(2))
		for _, p := range payloads {
			Expect(e.srv.Count(topicOf(v, "telemetry"), []byte(p))).To(Equal(1), "the decrypted telemetry is what the device sent")
		}
	},
}

var rejected = map[string]func(v reports.Verdict){
	"impersonate-server": func(v reports.Verdict) {
		switch handshake.Name(v.Profile) {
		case handshake.TLS:
			Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonCertificate}), describe(v))
		case handshake.Noise:
			Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonDecrypt}), describe(v))
			Expect(reasons(v, reports.SideServer)).To(Equal([]handshake.Reason{handshake.ReasonUnknownDevice}))
		default:
			Expect(reasons(v, reports.SideAttacker)).To(Equal([]handshake.Reason{handshake.ReasonDecrypt}), describe(v))
			Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonDecrypt}))
		}
	},
	"expired-certificate": rejectedCertificate,
	"ntp-rollback":        rejectedCertificate,
	"invalid-point": func(v reports.Verdict) {
		if v.Profile == string(handshake.Seed) {
			Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonBadPoint, handshake.ReasonBadPoint, handshake.ReasonBadPoint}), describe(v))
			return
		}
		Expect(reasons(v, reports.SideDevice)).To(HaveLen(2), describe(v))
		Expect(reasons(v, reports.SideServer)).To(HaveLen(2))
	},
	"replay-to-device": func(v reports.Verdict) {
		Expect(reasons(v, reports.SideDevice)).To(HaveLen(1), describe(v))
		Expect(of(v, reports.FactAccepted, "")).To(BeEmpty())
	},
	"replay-to-server": func(v reports.Verdict) {
		want := handshake.ReasonDecrypt
		if v.Profile == string(handshake.Noise) {
			want = handshake.ReasonCounterReplay
		}
		Expect(reasons(v, reports.SideServer)).To(Equal([]handshake.Reason{want}), describe(v))
		delivered := of(v, reports.FactDelivered, reports.SideBackend)
		Expect(delivered).To(HaveLen(1))
		Expect(delivered[0].Count).To(Equal(1), "only the original arrived")
	},
	"tamper-handshake": func(v reports.Verdict) {
		var total int
		for _, f := range of(v, reports.FactNote, reports.SideAttacker) {
			total += f.Count
		}
		refused := 0
		for _, f := range of(v, reports.FactRefused, "") {
			refused += f.Count
		}
		Expect(total).To(BeNumerically(">", 0), describe(v))
		Expect(refused).To(Equal(total), "every altered session was refused by a side with a reason")
		Expect(reasons(v, "")).NotTo(ContainElement(handshake.ReasonIO))
	},
	"transport-replay":   transportRejected(1),
	"transport-reorder":  transportRejected(0),
	"transport-drop":     transportRejected(0),
	"transport-truncate": transportRejected(0),
	"reflection": func(v reports.Verdict) {
		Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonDecrypt}), describe(v))
	},
	"downgrade": func(v reports.Verdict) {
		got := reasons(v, reports.SideServer)
		Expect(got).To(ContainElement(handshake.ReasonWrongProfile), describe(v))
		Expect(got).To(ContainElement(handshake.ReasonConnackRefused))
		Expect(of(v, reports.FactAccepted, "")).To(BeEmpty())
	},
	"server-key-rollover": func(v reports.Verdict) {
		Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonDecrypt, handshake.ReasonDecrypt}), describe(v))
		Expect(of(v, reports.FactWorked, reports.SideDevice)).To(HaveLen(2), "the honest rollover went through")
	},
	"leaked-device-key": func(v reports.Verdict) {
		Expect(reads(v, "message1.counter")).To(HaveLen(1), describe(v))
		Expect(reads(v, "publish.payload")).To(BeEmpty())
		var tried int
		for _, f := range of(v, reports.FactRefused, reports.SideAttacker) {
			tried += f.Count
		}
		Expect(tried).To(BeNumerically(">=", 6), "every recorded transport record was tried")
	},
}

// transportRejected: the server refused the attacked records and record A
// arrived at most maxA times, record B never.
func transportRejected(maxA int) func(v reports.Verdict) {
	return func(v reports.Verdict) {
		Expect(reasons(v, reports.SideServer)).To(Equal([]handshake.Reason{handshake.ReasonDecrypt}), describe(v))
		delivered := of(v, reports.FactDelivered, reports.SideBackend)
		Expect(delivered).To(HaveLen(2))
		Expect(delivered[0].Count).To(Equal(maxA), "record A")
		Expect(delivered[1].Count).To(BeZero(), "record B")
	}
}

// times returns the times of the verdict's time facts by field.
func times(v reports.Verdict) map[string]time.Time {
	out := map[string]time.Time{}
	for _, f := range of(v, reports.FactTime, "") {
		t, err := time.Parse(time.RFC3339, f.Value)
		Expect(err).NotTo(HaveOccurred(), describe(v))
		out[f.Field] = t
	}
	return out
}

// checkClockOrCredentials: on ca-ntp the attacker forged the device's
// clock into the certificate's validity, the device checked the chain at
// that time, and then handed over its credentials.
func checkClockOrCredentials(e *env, v reports.Verdict, d fixtures.Device) {
	checkCredentials(e, v, d)
	if v.Column != mitm.ColTLSCANTP.Name() {
		return
	}
	ts := times(v)
	forged, notBefore, notAfter := ts["sntp.forged_time"], ts["certificate.not_before"], ts["certificate.not_after"]
	Expect(forged).NotTo(BeZero(), describe(v))
	Expect(notAfter.Before(time.Now())).To(BeTrue(), "the certificate has expired")
	Expect(forged.After(notBefore) && forged.Before(notAfter)).To(BeTrue(), "the forged time lies inside the certificate's validity\n"+describe(v))
	if !e.board {
		Expect(ts["device.clock"]).To(BeTemporally("~", forged, time.Minute), "the device set its clock to the forged time")
	}
	if v.Scenario == "ntp-rollback" {
		Expect(notAfter.Before(e.set.BuildDate())).To(BeTrue(), "the retired certificate expired before the device was built")
	}
}

// rejectedCertificate: the device refused the certificate (on
// ca-roughtime, after refusing the attacker's time: rejectedTime).
func rejectedCertificate(v reports.Verdict) {
	if v.Column != mitm.ColTLSCARoughtime.Name() {
		Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonCertificate}), describe(v))
		return
	}
	Expect(reasons(v, reports.SideDevice)).To(Equal([]handshake.Reason{handshake.ReasonTimeRejected, handshake.ReasonCertificate}), describe(v))
}

// rejectedTime: on ca-roughtime the device refused the attacker's time,
// which is not signed under the pinned key (the failed check, or a board's
// own words on it), and then found the certificate expired at the true
// time it checked at (a simulated device's clock).
func rejectedTime(e *env, v reports.Verdict) {
	refusals := of(v, reports.FactRefused, reports.SideDevice)
	Expect(refusals).NotTo(BeEmpty(), describe(v))
	Expect(refusals[0].Stage).To(Equal(string(handshake.StageClock)), describe(v))
	ts := times(v)
	Expect(ts["roughtime.forged_time"].Before(ts["certificate.not_after"])).To(BeTrue(), describe(v))
	if e.board {
		var words []string
		for _, f := range of(v, reports.FactLog, reports.SideDevice) {
			words = append(words, f.Value)
		}
		Expect(words).To(ContainElement(ContainSubstring("not signed by the pinned key")), describe(v))
		return
	}
	Expect(refusals[0].Field).To(Equal("roughtime.check"))
	Expect(refusals[0].Value).To(Equal("delegation_signature"), "the attacker's time is not signed under the pinned key")
	Expect(ts["device.clock"]).To(BeTemporally("~", time.Now(), 10*time.Minute), "the device checked at the true time")
	Expect(ts["device.clock"].After(ts["certificate.not_after"])).To(BeTrue())
}
