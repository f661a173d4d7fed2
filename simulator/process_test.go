package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/simulator"
)

// These specs run the real binary: `shakedown serve` as the server process,
// and `shakedown sim` and `shakedown results merge` as the shards would run.
var _ = Describe("against a real server process", Ordered, Label("process"), func() {
	const (
		devices  = 2000
		password = "process-test"
	)
	var (
		bin, dir, fx, ready string
		serve               *gexec.Session
		listeners           map[string]string
	)

	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		bin = filepath.Join(dir, "shakedown")
		build := exec.Command("go", "build", "-o", bin, "../cmd/shakedown")
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "building shakedown: %s", out)

		// A fixture set of 2,000 noise devices: generated for every profile,
		// then cut down to noise in its manifest, so the server imports
		// only what the fleet uses.
		fx = filepath.Join(dir, "fx")
		_, err = fixtures.Generate(fx, fixtures.Options{Seed: "simulator-process", DevicesPerProfile: devices})
		Expect(err).NotTo(HaveOccurred())
		keepProfile(fx, handshake.Noise)

		ready = filepath.Join(dir, "ready.json")
		cmd := exec.Command(bin, "serve", "--fixtures", fx, "--registry", "sqlite:"+filepath.Join(dir, "registry.db"),
			"--listen-noise", "127.0.0.1:0", "--listen-seed", "", "--listen-psk", "", "--listen-tls", "",
			"--backend", "127.0.0.1:0", "--backend-password", password, "--metrics", "",
			// A handshake deadline far above any handshake on a loaded
			// machine: these specs count devices, they do not time them.
			"--handshake-timeout", "60s", "--max-half-open", "8192", "--log-level", "error", "--ready-file", ready,
			"--per-source-rate", "0") // the whole fleet comes from one address
		serve, err = gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() (map[string]string, error) {
			b, err := os.ReadFile(ready)
			if err != nil {
				return nil, err
			}
			var r struct{ Listeners map[string]string }
			err = json.Unmarshal(b, &r)
			listeners = r.Listeners
			return listeners, err
		}).WithTimeout(30 * time.Second).WithPolling(50 * time.Millisecond).Should(HaveKey("noise"))
	})

	AfterAll(func() {
		if serve != nil {
			serve.Interrupt()
			Eventually(serve).WithTimeout(time.Minute).Should(gexec.Exit())
		}
	})

	// Arrivals come at 1,000 a second, more than a loaded 2-core machine
	// serves: connects then queue for seconds (13 s at the worst measured
	// with two CPU burners). The deadlines are a minute, and each device
	// holds long enough that half the fleet is connected at once however
	// far the connects spread.
	It("connects 2,000 devices and delivers every message", func() {
		sc := simulator.DefaultScenario()
		sc.Devices = devices
		sc.Rate = 1000
		sc.Hold = 15 * time.Second
		sc.PublishInterval = 5 * time.Second
		sc.Timeouts = simulator.Timeouts{Handshake: time.Minute, Ack: time.Minute, Drain: time.Minute}
		sc.Fixtures = simulator.Fixtures{Dir: fx}
		sc.Gateway = map[string]string{"noise": listeners["noise"]}
		sc.Backend = simulator.Backend{Addr: listeners["backend"], Username: "backend", Password: password}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		res := run(ctx, simulator.Config{Scenario: sc})
		var sum bytes.Buffer
		Expect(simulator.WriteSummary(&sum, res)).To(Succeed())
		AddReportEntry("2,000 devices against shakedown serve", sum.String())

		c := res.Counts
		Expect(res.Failures).To(BeEmpty())
		Expect(c.Connected).To(BeEquivalentTo(devices), "every device connected")
		Expect(c.Subscribed).To(BeEquivalentTo(devices))
		Expect(c.Published).To(BeEquivalentTo(devices * 3))
		Expect(c.Acked).To(Equal(c.Published))
		Expect(c.Received).To(Equal(c.Published), "every message arrived")
		Expect(c.Missing + c.Duplicates + c.Malformed + c.Unpublished).To(BeZero())
		Expect(total(res, simulator.StageEndToEnd)).To(BeEquivalentTo(devices * 3))
		Expect(res.Shards[0].PeakActive).To(BeNumerically(">", devices/2))
		// Every device holds 15 s, so the fleet stood still long enough
		// for the settled sample; the gauge proves how many were connected
		// at once, and never more than the sampled peak.
		sh := res.Shards[0]
		Expect(sh.SettledActive).To(BeNumerically(">", devices/2))
		Expect(sh.SettledRSS).To(BeNumerically(">", sh.SettledBaselineRSS))
		Expect(sh.SettledKiBPerDevice).To(BeNumerically("~", float64(sh.SettledRSS-sh.SettledBaselineRSS)/float64(sh.SettledActive)/1024, 0.01))
		atOnce, _ := res.ConnectedAtOnce()
		Expect(atOnce).To(BeNumerically(">", devices/2))
		Expect(atOnce).To(BeNumerically("<=", sh.PeakActive))
	})

	It("merges four shard processes into the results of one process running the same fleet", func() {
		// Hostile devices that the server refuses at once (garbage, replay):
		// a half-open one would wait for the server's handshake deadline.
		common := []string{"sim", "--fixtures", fx, "--gateway-ready", ready, "--backend-password", password,
			"--devices", "400", "--rate", "400", "--hold", "1s", "--publish-interval", "250ms",
			"--hostile-share", "0.05", "--hostile-kinds", "garbage,replay", "--hostile-timeout", "50s",
			"--handshake-timeout", "1m", "--ack-timeout", "1m", "--drain-timeout", "1m", "--quiet"}
		var shards []*gexec.Session
		var files []string
		for i := range 4 {
			out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
			files = append(files, out)
			args := append(append([]string{}, common...), "--shard", fmt.Sprintf("%d/4", i), "--results", out)
			s, err := gexec.Start(exec.Command(bin, args...), GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			shards = append(shards, s)
		}
		for _, s := range shards {
			Eventually(s).WithTimeout(3 * time.Minute).Should(gexec.Exit(0))
		}
		mergedFile := filepath.Join(dir, "merged.json")
		m, err := gexec.Start(exec.Command(bin, append([]string{"results", "merge", "-o", mergedFile}, files...)...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(m).WithTimeout(time.Minute).Should(gexec.Exit(0))
		Expect(string(m.Out.Contents())).To(ContainSubstring("shards 4 of 4"))
		Expect(string(m.Out.Contents())).To(MatchRegexp(`ok\s+devices_lost==0\s+0`), "the merged fleet's thresholds are judged")

		By("refusing a verdict on part of the fleet")
		part, err := gexec.Start(exec.Command(bin, append([]string{"results", "merge", "-o", filepath.Join(dir, "part.json")}, files[:3]...)...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(part).WithTimeout(time.Minute).Should(gexec.Exit(1))
		Expect(string(part.Err.Contents())).To(ContainSubstring("3 of 4 shards merged"))

		wholeFile := filepath.Join(dir, "whole.json")
		w, err := gexec.Start(exec.Command(bin, append(append([]string{}, common...), "--results", wholeFile)...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(w).WithTimeout(3 * time.Minute).Should(gexec.Exit(0))

		merged, whole := readResultsFile(mergedFile), readResultsFile(wholeFile)
		Expect(merged.Complete()).To(BeTrue())
		Expect(merged.FleetID).To(Equal(whole.FleetID))
		Expect(merged.Counts).To(Equal(whole.Counts))
		Expect(merged.Counts.Connected).To(BeEquivalentTo(380))
		Expect(merged.Counts.Received).To(BeEquivalentTo(380 * 4))
		Expect(merged.Counts.HostileDevices).To(BeEquivalentTo(20))
		Expect(merged.Failures).To(Equal(whole.Failures))
		Expect(merged.Hostile).To(Equal(whole.Hostile))
		Expect(merged.Hostile).To(Equal(map[string]map[string]int64{
			simulator.HostileGarbage: {simulator.OutcomeClosed: 10},
			simulator.HostileReplay:  {simulator.OutcomeClosed: 10},
		}))
		for _, st := range simulator.Stages {
			Expect(total(merged, st)).To(Equal(total(whole, st)), "samples of %s", st)
		}
	})

	// sim starts `shakedown sim` on the server's noise devices with args.
	sim := func(args ...string) *gexec.Session {
		common := []string{"sim", "--fixtures", fx, "--backend-password", password, "--backend-addr", listeners["backend"],
			"--progress-interval", "100ms", "--handshake-timeout", "1m", "--ack-timeout", "1m", "--drain-timeout", "1m"}
		if !slices.Contains(args, "--gateway") {
			common = append(common, "--gateway", "noise="+listeners["noise"])
		}
		s, err := gexec.Start(exec.Command(bin, append(common, args...)...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		return s
	}

	DescribeTable("exits 3 on a signal, with results complete up to it and marked interrupted",
		func(sig os.Signal) {
			out := filepath.Join(dir, "interrupted-"+sig.String()+".json")
			// 20 s of arrivals: the signal comes in the middle of them.
			s := sim("--devices", "100", "--rate", "5", "--hold", "1h", "--publish-interval", "1s", "--results", out)
			Eventually(s.Err).WithTimeout(time.Minute).Should(gbytes.Say(`connected ([3-9]|[1-9]\d+) `))
			s.Signal(sig)
			Eventually(s).WithTimeout(time.Minute).Should(gexec.Exit(3))
			Expect(string(s.Err.Contents())).To(ContainSubstring("interrupted"))
			Expect(string(s.Out.Contents())).To(ContainSubstring("INTERRUPTED"))
			r := readResultsFile(out)
			c := r.Counts
			Expect(r.Interrupted).To(BeTrue())
			Expect(c.Slots+c.NotStarted).To(BeEquivalentTo(100), "every slot is started or not started")
			Expect(c.NotStarted).To(BeNumerically(">", 0))
			Expect(c.Connected).To(BeNumerically(">=", 3))
			Expect(c.CutShort).To(Equal(c.Legit))
			Expect(c.DevicesLost + c.ConnectFailed + c.PublishFailed).To(BeZero())
			Expect(r.Failures).To(BeEmpty())

			By("keeping interrupted through results merge, which exits 3 too")
			merged := filepath.Join(dir, "merged-"+sig.String()+".json")
			m, err := gexec.Start(exec.Command(bin, "results", "merge", "-o", merged, out), GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			Eventually(m).WithTimeout(time.Minute).Should(gexec.Exit(3))
			Expect(readResultsFile(merged).Interrupted).To(BeTrue())
		},
		Entry("SIGINT", os.Interrupt),
		Entry("SIGTERM", syscall.SIGTERM),
	)

	It("exits 1 by the default thresholds when the gateway goes away mid-run", func() {
		p := startProxy(listeners["noise"])
		defer p.close()
		s := sim("--gateway", "noise="+p.addr(), "--devices", "20", "--rate", "100", "--hold", "10m", "--publish-interval", "1s")
		Eventually(s.Err).WithTimeout(time.Minute).Should(gbytes.Say(`connected 20 `))
		p.close()
		Eventually(s).WithTimeout(time.Minute).Should(gexec.Exit(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("devices_lost==0 (was 20)"))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`FAILED\s+devices_lost==0\s+20\s+default`))
		Expect(string(s.Out.Contents())).To(ContainSubstring("sessions lost 20"))
	})

	It("exits 1 naming the threshold a run breaks, and 2 for one it cannot read", func() {
		s := sim("--devices", "10", "--rate", "100", "--hold", "1s", "--publish-interval", "500ms",
			"--threshold", "connect.p99<1us", "--threshold", "missing==0")
		Eventually(s).WithTimeout(time.Minute).Should(gexec.Exit(1))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`1 of 4 thresholds failed: connect.p99<1us \(was [0-9.]+(µs|ms|s)\)`))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`ok\s+missing==0\s+0[ ]*\n`))

		s = sim("--devices", "10", "--threshold", "connect.p99<2")
		Eventually(s).WithTimeout(time.Minute).Should(gexec.Exit(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("a latency wants a duration with its unit"))
	})
})

func readResultsFile(path string) *simulator.Results {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	r, err := simulator.DecodeResults(f)
	Expect(err).NotTo(HaveOccurred())
	return r
}

// keepProfile rewrites a fixture directory's manifest to list only the
// devices of profile p (and every file that is not another device's key).
func keepProfile(dir string, p handshake.Name) {
	path := filepath.Join(dir, fixtures.ManifestName)
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var m fixtures.Manifest
	Expect(json.Unmarshal(b, &m)).To(Succeed())
	drop := map[string]bool{}
	var keep []fixtures.DeviceEntry
	for _, d := range m.Devices {
		if d.Profile == p {
			keep = append(keep, d)
		} else {
			drop[d.Private] = true
		}
	}
	m.Devices = keep
	var files []fixtures.FileEntry
	for _, f := range m.Files {
		if !drop[f.Path] && !strings.HasPrefix(f.Path, "devices/") || strings.HasPrefix(f.Path, "devices/"+string(p)+"/") {
			files = append(files, f)
		}
	}
	m.Files = files
	out, err := json.MarshalIndent(m, "", "  ")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, out, 0o644)).To(Succeed())
}
