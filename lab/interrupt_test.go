package lab_test

import (
	"context"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/mitm"
	"shakedown/reports"
)

// cutting is a target that cancels the run when a cell after the first
// asks for a listener: the signal arrives in the middle of a cell.
type cutting struct {
	mitm.Target
	verdicts *atomic.Int32
	cancel   context.CancelFunc
}

func (c cutting) Addr(l mitm.Listener) (string, error) {
	if c.verdicts.Load() >= 1 {
		c.cancel()
	}
	return c.Target.Addr(l)
}

var _ = Describe("an interrupted matrix", Label("mitm"), func() {
	It("keeps the verdicts of the cells that ran, leaves out the cell cut short and says it was interrupted", func() {
		e := startEnv("mitm-interrupt")
		DeferCleanup(e.srv.Close)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var n atomic.Int32
		l := e.newLab()
		l.Target = cutting{Target: e.srv, verdicts: &n, cancel: cancel}
		l.Progress = func(reports.Verdict) { n.Add(1) }
		res, err := l.Run(ctx, mitm.Selection{Columns: []string{"noise"}})
		Expect(err).To(MatchError(context.Canceled))
		Expect(res.Interrupted).To(BeTrue())
		Expect(res.Verdicts).To(HaveLen(1), "the second cell began and was cut short: no verdict")
		Expect(res.Verdicts[0].Outcome).NotTo(Equal(reports.Broken))
		Expect(res.Mismatches).To(BeZero())
		Expect(res.ShakedownVersion).NotTo(BeEmpty())
	})

	It("is not marked interrupted when every cell ran", func() {
		e := startEnv("mitm-whole")
		DeferCleanup(e.srv.Close)
		res, err := e.newLab().Run(context.Background(), mitm.Selection{Scenarios: []string{mitm.Catalogue()[0].Name}, Columns: []string{"noise"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Interrupted).To(BeFalse())
		Expect(res.Verdicts).To(HaveLen(1))
	})
})
