package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// sim as a load tool (issue 15): a fleet held until interrupted, and a
// capacity search, end to end through the binary.
var _ = Describe("sim as a load tool", Ordered, Label("contract"), func() {
	var w *world
	BeforeAll(func() {
		w = newWorld()
		w.fixtures()
		w.serve()
		w.env = append(w.env, "SHAKEDOWN_BACKEND_PASSWORD=s3cret")
	})
	fleet := func(extra ...string) []string {
		return append([]string{"sim", "--fixtures", "fx", "--gateway-ready", w.path("ready.json"), "--devices", "4", "--rate", "0",
			"--progress-interval", "200ms"}, extra...)
	}

	It("sim --hold 0 runs until SIGINT: 3, with a complete results file that merges", func() {
		s := w.start(fleet("--hold", "0", "--publish-interval", "100ms", "--out", "h0.json")...)
		Eventually(func() []byte { return s.Err.Contents() }).WithTimeout(time.Minute).Should(MatchRegexp(`[1-9]\d* received/s`), "messages arriving")
		s.Signal(syscall.SIGINT)
		Eventually(s).WithTimeout(time.Minute).Should(gexec.Exit(3))
		var r struct {
			Interrupted bool `json:"interrupted"`
			Counts      struct {
				Connected, CutShort, Received, Missing, Unpublished int64
			} `json:"counts"`
			Seconds []json.RawMessage `json:"seconds"`
		}
		data, err := os.ReadFile(w.path("h0.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &r)).To(Succeed())
		Expect(r.Interrupted).To(BeTrue())
		Expect(r.Counts.Connected).To(BeEquivalentTo(4))
		Expect(r.Counts.Received).To(BeNumerically(">", 0))
		Expect(r.Counts.Missing + r.Counts.Unpublished).To(BeZero())
		Expect(r.Seconds).NotTo(BeEmpty())
		s = w.run("results", "merge", "-o", "h0-merged.json", "h0.json")
		Expect(s.ExitCode()).To(Equal(3), "merged, and still interrupted: stderr %s", s.Err.Contents())
		Expect(w.path("h0-merged.json")).To(BeARegularFile())
		s = w.run("results", "show", "h0-merged.json")
		Expect(string(s.Out.Contents())).To(ContainSubstring("INTERRUPTED"))
		Expect(string(s.Out.Contents())).To(ContainSubstring("ramp:"))
	})

	It("sim --capacity prints its knee and writes the curve that report draws", func() {
		s := w.run(fleet("--capacity", "publish", "--capacity-start", "4", "--capacity-step", "1s", "--capacity-max-steps", "2",
			"--out", "cap.json")...)
		Expect(s.ExitCode()).To(Equal(0), "stderr: %s", s.Err.Contents())
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`judged by publish_ack\.p99<1s, and the defaults`))
		Expect(out).To(MatchRegexp(`step  1:\s+4\.0 publishes/s offered for 1s: held`))
		Expect(out).To(MatchRegexp(`knee: 8\.0 publishes/s`))
		w.must("report", "--sim", "cap.json", "--html", "cap.html")
		page, err := os.ReadFile(w.path("cap.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(page)).To(ContainSubstring("chart-capacity"))
		Expect(string(page)).To(ContainSubstring("chart-p99s"))
	})

	It("sim --cpuprofile writes the simulator's CPU profile; a path it cannot write is a usage error", func() {
		s := w.run(fleet("--hold", "1s", "--publish-interval", "200ms", "--cpuprofile", "sim-cpu.pb.gz", "--out", "cpu.json")...)
		Expect(s.ExitCode()).To(Equal(0), "stderr: %s", s.Err.Contents())
		f, err := os.Open(w.path("sim-cpu.pb.gz"))
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		zr, err := gzip.NewReader(f) // pprof's format: a gzipped protocol buffer
		Expect(err).NotTo(HaveOccurred())
		body, err := io.ReadAll(zr)
		Expect(err).NotTo(HaveOccurred())
		Expect(body).NotTo(BeEmpty())
		s = w.run(fleet("--hold", "1s", "--cpuprofile", w.path("no-such-dir/cpu.pb.gz"))...)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--cpuprofile"))
	})

	It("refuses a capacity search it cannot run: 2", func() {
		s := w.run(fleet("--capacity", "bytes")...)
		Expect(s.ExitCode()).To(Equal(2))
		s = w.run(fleet("--capacity", "connect", "--shard", "0/2")...)
		Expect(s.ExitCode()).To(Equal(2))
	})
})
