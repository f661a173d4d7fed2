package demo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/lab/demo"
	"shakedown/mitm"
	"shakedown/reports"
)

// scenarios are the part of the matrix the specs run: small, and every
// column.
var scenarios = []string{"pass-through", "eavesdrop-identity"}

// quick is a demo that tells the whole story in seconds: a small fleet,
// the virtual board at full speed, no emulated chips, two scenarios of
// the matrix.
func quick(dir string) demo.Options {
	o := demo.DefaultOptions()
	o.Dir, o.Devices, o.Chips = dir, 12, false
	o.Boards = []demo.VirtualBoard{{Profile: "virtual", About: "the virtual board", Profiles: handshake.Profiles, Bench: true}}
	o.MITM = mitm.Selection{Scenarios: scenarios}
	return o
}

// storyTimeout bounds a spec's story: a hang, not a slow machine.
const storyTimeout = 10 * time.Minute

// story is the demo's output; when cancel is set, it is called once the
// output shows a line starting with at.
type story struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	at     string
	cancel context.CancelFunc
}

func (s *story) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if s.cancel != nil && strings.Contains(s.buf.String(), "\n"+s.at) {
		s.cancel()
	}
	return len(p), nil
}

func (s *story) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// written lists the files and folders Run wrote into dir.
func written(dir string) []string {
	es, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

var _ = Describe("the demo", func() {
	var (
		dir string
		out *story
	)

	BeforeEach(func() {
		dir = filepath.Join(GinkgoT().TempDir(), "demo")
		out = &story{}
	})

	It("tells the whole story and writes each section, the run, the summary and the report", func(ctx SpecContext) {
		o := quick(dir)
		o.Out = out
		res, err := demo.Run(ctx, o)
		Expect(err).NotTo(HaveOccurred(), out.String())

		Expect(written(dir)).To(ConsistOf("fixtures", "registry.db", "fleet.db",
			"boards.json", "sim.json", "mitm.json", "run.json", "report.md", "report.html"))
		Expect(res.HTML).To(Equal(filepath.Join(must(filepath.Abs(dir)), "report.html")))
		Expect(res.Markdown).To(Equal(filepath.Join(dir, "report.md")))
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		Expect(lines[len(lines)-1]).To(Equal(res.HTML), "the report's path is the last line")
		for _, part := range []string{"== fixtures:", "== server:", "== one device per profile", "== boards:", "== fleet: 12 simulated devices", "== MITM matrix", "== results in "} {
			Expect(out.String()).To(ContainSubstring(part))
		}
		Expect(out.String()).NotTo(ContainSubstring("== emulated chips"))

		run, err := reports.ReadRunFile(filepath.Join(dir, "run.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(run.Interrupted).To(BeFalse())
		Expect(run.Notes).To(ContainElement("emulated chips skipped (--no-chips)"))
		Expect(run.Boards.Boards).To(HaveLen(1))
		Expect(run.Boards.Boards[0].Handshakes).To(HaveLen(len(handshake.Profiles)))
		Expect(run.Boards.Boards[0].Bench).NotTo(BeEmpty())
		Expect(run.Sim).NotTo(BeNil())
		Expect(run.Sim.Scenario.Devices).To(Equal(12))
		Expect(run.Sim.Timeline.Samples).NotTo(BeEmpty())
		Expect(run.MITM.Verdicts).NotTo(BeEmpty())
		for _, v := range run.MITM.Verdicts {
			Expect(scenarios).To(ContainElement(v.Scenario))
		}
		Expect(res.Run.Boards.Boards).To(HaveLen(1))
		Expect(res.Summary).To(Equal(reports.Summarise(run)))

		html, err := os.ReadFile(res.HTML)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(html)).To(HavePrefix("<!DOCTYPE html>"))
	}, NodeTimeout(storyTimeout))

	It("counts a part that fails, notes it in the report and goes on with the story", func(ctx SpecContext) {
		o := quick(dir)
		o.Out = out
		o.Boards = append(o.Boards, demo.VirtualBoard{Profile: "no-such-board", About: "a board that is not there"})
		res, err := demo.Run(ctx, o)
		Expect(err).NotTo(HaveOccurred(), out.String())

		Expect(res.Failures).To(BeNumerically(">=", 1))
		Expect(out.String()).To(ContainSubstring("   no-such-board board FAILED: "))
		run, err := reports.ReadRunFile(filepath.Join(dir, "run.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(run.Notes).To(ContainElement(HavePrefix("the no-such-board board failed: ")))
		Expect(run.Boards.Boards).To(HaveLen(1), "the board that works is in the report")
		Expect(written(dir)).To(ContainElements("sim.json", "mitm.json", "report.html"), "the parts after the failed one ran")
	}, NodeTimeout(storyTimeout))

	It("keeps the results so far, marked interrupted, when it is interrupted", func(ctx SpecContext) {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		out.at, out.cancel = "== fleet:", cancel
		o := quick(dir)
		o.Out = out
		res, err := demo.Run(rctx, o)
		Expect(err).To(MatchError(demo.ErrInterrupted))
		Expect(err.Error()).To(ContainSubstring("the results so far are in " + dir))

		Expect(res).NotTo(BeNil())
		Expect(res.Run.Interrupted).To(BeTrue())
		Expect(res.Summary.OK).To(BeFalse(), "an interrupted run is never as expected")
		Expect(written(dir)).To(ContainElements("boards.json", "run.json", "report.md", "report.html"))
		Expect(written(dir)).NotTo(ContainElement("mitm.json"), "the matrix never began")
		run, err := reports.ReadRunFile(filepath.Join(dir, "run.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(run.Interrupted).To(BeTrue())
		Expect(run.Boards.Interrupted).To(BeTrue())
		Expect(run.Boards.Boards).To(HaveLen(1), "the board ran before the interruption")
		Expect(out.String()).NotTo(ContainSubstring("== MITM matrix"))
	}, NodeTimeout(storyTimeout))

	It("refuses a folder it cannot make, before anything runs", func(ctx SpecContext) {
		file := filepath.Join(GinkgoT().TempDir(), "a-file")
		Expect(os.WriteFile(file, nil, 0o644)).To(Succeed())
		o := quick(filepath.Join(file, "demo"))
		o.Out = out
		res, err := demo.Run(ctx, o)
		Expect(err).To(HaveOccurred())
		Expect(err).NotTo(MatchError(demo.ErrInterrupted))
		Expect(err.Error()).To(HavePrefix("demo: "))
		Expect(res).To(BeNil())
	}, NodeTimeout(storyTimeout))
})

func must[T any](v T, err error) T {
	Expect(err).NotTo(HaveOccurred())
	return v
}
