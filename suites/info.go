package suites

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// describeInfo: the board is the board its profile describes.
func describeInfo() {
	Describe("board", Label("info"), func() {
		BeforeEach(needBoard)

		It("is the board its profile describes", func(_ SpecContext) {
			in, p := cur.b.Info, cur.b.Profile
			Expect(strings.EqualFold(chipFamily(in.Chip), chipFamily(p.Chip))).To(BeTrue(),
				"the board says chip %q, its profile %s says %q", in.Chip, p.Name, p.Chip)
			if p.ClockHz > 0 {
				Expect(in.ClockHz).To(Equal(p.ClockHz), "core clock")
			}
			if p.Agent.MaxPayload > 0 {
				Expect(int(in.MaxPayload)).To(Equal(p.Agent.MaxPayload), "max_payload")
			}
			Expect(in.Unit).To(Equal(p.Unit()), "cost unit")
			for _, n := range p.Agent.Profiles {
				Expect(in.Profiles).To(ContainElement(handshake.Name(n)), "the profile %s lists %s", p.Name, n)
			}
		})

		It("answers again after a soft reset, with its identity kept", func(_ SpecContext) {
			ctx := step()
			c0, err := cur.b.Counters(ctx)
			must(err, "reading the counters")
			before := cur.b.Info.Serial
			_, err = cur.b.Reset(ctx, bp.ResetSoft)
			must(err, "resetting the board")
			in, err := cur.b.Board.Info(ctx)
			must(err, "asking for INFO after the reset")
			Expect(in.Serial).To(Equal(before), "the serial number must survive a reset")
			c1, err := cur.b.Counters(ctx)
			must(err, "reading the counters after the reset")
			AddReportEntry("counters before and after the reset", map[string]bp.Counters{"before": c0, "after": c1})
		})
	})
}

// chipFamily is a chip's name without what follows it ("Cortex-M3 (QEMU
// mps2-an385)" is a Cortex-M3).
func chipFamily(s string) string {
	if i := strings.IndexAny(s, " ("); i > 0 {
		return s[:i]
	}
	return s
}
