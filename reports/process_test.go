package reports_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"shakedown/reports"
)

// The binary as a user gets it from a fresh clone: only the files git
// tracks (and new files it does not ignore) are copied, then built with a
// plain `go build`, no make step.
var _ = Describe("shakedown report from a plain go build of a fresh checkout", Ordered, Label("process"), func() {
	var bin, dir string

	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		src := filepath.Join(dir, "src")
		root, err := filepath.Abs("..")
		Expect(err).NotTo(HaveOccurred())
		ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		ls.Dir = root
		out, err := ls.Output()
		if err != nil {
			Skip("not a git checkout: cannot tell a fresh clone's files")
		}
		n := 0
		for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			data, err := os.ReadFile(filepath.Join(root, name))
			if os.IsNotExist(err) {
				continue // deleted in the working tree, not yet committed
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(os.MkdirAll(filepath.Join(src, filepath.Dir(name)), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(src, name), data, 0o644)).To(Succeed())
			n++
		}
		Expect(n).To(BeNumerically(">", 100))
		bin = filepath.Join(dir, "shakedown-plain")
		build := exec.Command("go", "build", "-o", bin, "./cmd/shakedown")
		build.Dir = src
		b, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(b))
	})

	report := func(args ...string) *gexec.Session {
		s, err := gexec.Start(exec.Command(bin, append([]string{"report"}, args...)...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s).WithTimeout(2 * time.Minute).Should(gexec.Exit())
		return s
	}
	testdata := func(name string) string { return filepath.Join("testdata", name) }

	It("writes an HTML report with its four charts", func() {
		page := filepath.Join(dir, "r.html")
		s := report("--mitm", testdata("mitm.json"), "--sim", testdata("sim.json"), "--boards", testdata("boards.json"),
			"--html", page, "--markdown", filepath.Join(dir, "r.md"), "--json", filepath.Join(dir, "r.json"))
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		html, err := os.ReadFile(page)
		Expect(err).NotTo(HaveOccurred())
		for _, id := range []string{"chart-handshakes", "chart-chips", "chart-latency", "chart-timeline"} {
			Expect(string(html)).To(MatchRegexp(`<svg [^>]*data-chart="%s"`, id))
		}
		Expect(strings.Count(string(html), `class="bar"`)).To(BeNumerically(">=", 12))
		Expect(strings.Count(string(html), `class="line"`)).To(BeNumerically(">=", 4))
		Expect(string(html)).NotTo(ContainSubstring("<script"))
	})

	It("passes a run with several handshakes per profile compared with itself", func() {
		// boards-runs.json is `shakedown test --virtual --label-filter
		// handshake --runs 3`; compared with itself it exited 2 ("2
		// figures regressed") before figures kept their samples.
		base := filepath.Join(dir, "runs.json")
		Expect(report("--boards", testdata("boards-runs.json"), "--json", base).ExitCode()).To(Equal(0))
		s := report("--boards", testdata("boards-runs.json"), "--baseline", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("✅ no regression."))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`(\d+) figures: (\d+) ok, 0 improved, 0 regressed, 0 missing, 0 new`))
	})

	It("exits 1 when a figure regressed, and names it", func() {
		// A baseline in which the virtual board's noise handshakes took
		// half the time: today's medians are twice as slow.
		run := &reports.Run{Format: reports.RunFormat}
		var err error
		run.Boards, err = reports.ReadBoardsFile(testdata("boards-runs.json"))
		Expect(err).NotTo(HaveOccurred())
		for i := range run.Boards.Boards[0].Handshakes {
			if h := &run.Boards.Boards[0].Handshakes[i]; h.Profile == "noise" {
				h.Total /= 2
			}
		}
		base := filepath.Join(dir, "faster.json")
		f, err := os.Create(base)
		Expect(err).NotTo(HaveOccurred())
		Expect(reports.WriteJSON(f, run)).To(Succeed())
		Expect(f.Close()).To(Succeed())

		md := filepath.Join(dir, "cmp.md")
		s := report("--boards", testdata("boards-runs.json"), "--baseline", base, "--markdown", md)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("1 of 14 figures regressed against the baseline"))
		out, err := os.ReadFile(md)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).To(MatchRegexp(`\| board/virtual board/handshake/noise/total \| median of 3 / 3 \| [\d,]+ \| [\d,]+ \| \+100\.\d\d % \| 25 % \| regressed \|`))
	})

	It("writes every output it can when one fails, and exits 2", func() {
		md, js := filepath.Join(dir, "partial.md"), filepath.Join(dir, "partial.json")
		s := report("--boards", testdata("boards.json"), "--html", filepath.Join(dir, "no-such-dir", "r.html"), "--markdown", md, "--json", js)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--html: "))
		Expect(md).To(BeARegularFile())
		Expect(js).To(BeARegularFile())
	})

	It("leaves out an input it cannot read, says so in the summary, never echoes it, and exits 2", func() {
		bad := filepath.Join(dir, "bad-mitm.json")
		Expect(os.WriteFile(bad, []byte(`{"format":"SECRET-attacker-bytes"}`), 0o644)).To(Succeed())
		md := filepath.Join(dir, "bad-input.md")
		s := report("--mitm", bad, "--boards", testdata("boards.json"), "--markdown", md)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--mitm: reports: mitm: format: not the expected format or version"))
		out, err := os.ReadFile(md)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).To(ContainSubstring("note: --mitm could not be read, so its section is missing"))
		Expect(string(out)).To(ContainSubstring("## Boards"))
		Expect(string(out) + string(s.Err.Contents())).NotTo(ContainSubstring("SECRET"))
	})

	It("writes its outputs when the baseline cannot be read, and exits 2", func() {
		md := filepath.Join(dir, "no-baseline.md")
		s := report("--boards", testdata("boards.json"), "--baseline", filepath.Join(dir, "missing.json"), "--markdown", md)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--baseline: "))
		Expect(md).To(BeARegularFile())
	})

	It("exits 2 when there is nothing to write or nothing to read", func() {
		Expect(report("--boards", testdata("boards.json")).ExitCode()).To(Equal(2))
		Expect(report("--html", filepath.Join(dir, "x.html")).ExitCode()).To(Equal(2))
		Expect(report("--timeline", testdata("sim.json"), "--html", filepath.Join(dir, "x.html")).ExitCode()).To(Equal(2))
	})
})
