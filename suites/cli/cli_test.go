package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"shakedown/reports"
)

func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(3 * time.Minute)
	RunSpecs(t, "shakedown test")
}

var bin string

var _ = BeforeSuite(func() {
	var err error
	bin, err = gexec.Build("shakedown/cmd/shakedown")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)
})

// junit is the part of a JUnit XML report the specs read.
type junit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(path string) junit {
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var j junit
	Expect(xml.Unmarshal(data, &j)).To(Succeed())
	return j
}

func shakedown(args ...string) *gexec.Session {
	s, err := gexec.Start(exec.Command(bin, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return s
}

var _ = Describe("shakedown test", func() {
	It("runs the suites on a virtual board and writes JUnit, JSON, measurements and a summary", func() {
		dir := GinkgoT().TempDir()
		s := shakedown("test", "--virtual", "--label-filter", "info || handshake || ecdh-bench", "--out", dir)
		Eventually(s).Should(gexec.Exit(0))
		Expect(s.Out).To(gbytes.Say("junit.xml"))

		j := readJUnit(filepath.Join(dir, "junit.xml"))
		Expect(j.Failures).To(BeZero())
		var names []string
		for _, c := range j.Suites[0].Cases {
			if c.Skipped == nil {
				names = append(names, c.Name)
			}
		}
		Expect(names).To(ContainElements(
			ContainSubstring("handshake noise completes within"),
			ContainSubstring("handshake seed p256 completes within"),
			ContainSubstring("times every curve")))

		data, err := os.ReadFile(filepath.Join(dir, "ginkgo.json"))
		Expect(err).NotTo(HaveOccurred())
		var g []map[string]any
		Expect(json.Unmarshal(data, &g)).To(Succeed())
		Expect(g).To(HaveLen(1))

		b, err := reports.ReadBoardsFile(filepath.Join(dir, "boards.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(b.Boards).To(HaveLen(1))
		Expect(b.Boards[0].Kind).To(Equal(reports.KindVirtual))
		Expect(b.Boards[0].Bench).NotTo(BeEmpty())
		profiles := map[string]int{}
		for _, h := range b.Boards[0].Handshakes {
			Expect(h.OK).To(BeTrue(), h.Profile)
			profiles[h.Profile]++
		}
		Expect(profiles).To(HaveKeyWithValue("noise", 3)) // --runs defaults to 3
		Expect(profiles).To(HaveKey("seed secp160r1"))
		Expect(filepath.Join(dir, "summary.md")).To(BeAnExistingFile())
	})

	It("fails with exit status 1 and a failing JUnit case when a handshake misses its limit", func() {
		dir := GinkgoT().TempDir()
		s := shakedown("test", "--virtual", "--board-file", filepath.Join("..", "testdata", "strict.yaml"),
			"--label-filter", "handshake", "--focus", "noise", "--runs", "1", "--out", dir)
		Eventually(s).Should(gexec.Exit(1))
		j := readJUnit(filepath.Join(dir, "junit.xml"))
		Expect(j.Failures).To(Equal(1))
		b, err := reports.ReadBoardsFile(filepath.Join(dir, "boards.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(b.Boards[0].Handshakes).To(HaveLen(1))
		Expect(b.Boards[0].Handshakes[0].WithinLimit()).To(BeFalse())
	})

	DescribeTable("refuses flags that name no single target, before anything starts",
		func(args []string, msg string) {
			s := shakedown(append([]string{"test", "--out", GinkgoT().TempDir()}, args...)...)
			Eventually(s).Should(gexec.Exit())
			Expect(s.ExitCode()).To(Equal(2), "a usage error, not a failed spec")
			Expect(s.Err).To(gbytes.Say(msg))
		},
		Entry("two targets", []string{"--virtual", "--emulated", "avr"}, "give one target"),
		Entry("--slow off a virtual board", []string{"--port", "/dev/null", "--slow"}, "--slow is for the virtual board"),
		Entry("no runs", []string{"--runs", "0"}, "--runs must be 1 or more"),
	)
})
