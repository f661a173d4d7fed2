package lab_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/mitm"
)

// The same scenario code on a byte path that is not TCP: the device's side
// of every connection is an in-memory pipe handed to a tap, as a board
// harness's relay hands the board's side.
var _ = Describe("scenarios over a tap's path", Label("mitm"), Ordered, func() {
	var e *env
	BeforeAll(func() { e = startEnv("mitm-tap") })
	AfterAll(func() { Expect(e.srv.Close()).To(Succeed()) })

	DescribeTable("give the verdicts they give over TCP",
		func(scenario string, column mitm.Column) {
			l := e.newLab()
			l.NewByway = mitm.NewPipeByway
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			v, err := l.RunCell(ctx, scenario, column)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.Error).To(BeEmpty(), describe(v))
			Expect(v.AsExpected).To(BeTrue(), describe(v))
			checkEvidence(e, v)
		},
		Entry(nil, "pass-through", mitm.ColSeedSecp160r1),
		Entry(nil, "impersonate-server", mitm.ColTLSNone),
		Entry(nil, "impersonate-server", mitm.ColTLSCA),
		Entry(nil, "leaked-public-key", mitm.ColSeedP256),
		Entry(nil, "replay-to-device", mitm.ColPSK),
		Entry(nil, "replay-to-server", mitm.ColNoise),
		Entry(nil, "tamper-handshake", mitm.ColPSK),
		Entry(nil, "transport-reorder", mitm.ColNoise),
		Entry(nil, "reflection", mitm.ColTLSNone),
		Entry(nil, "server-key-rollover", mitm.ColNoise),
	)

	It("refuses a cell the catalogue does not have", func() {
		_, err := e.newLab().RunCell(context.Background(), "server-key-rollover", mitm.ColPSK)
		Expect(err).To(MatchError(ContainSubstring("no psk column")))
	})
})
