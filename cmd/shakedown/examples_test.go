package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"shakedown/boards/emulated"
	"shakedown/boards/measure"
	"shakedown/fixtures"
)

// The help examples work as printed: every command line of every
// command's Example runs, in a folder of its own, and does what it says.
// What a line cannot have on a test machine is stood in for, and said here:
//
//   - placeholders: /dev/pts/3 is a virtual board the spec starts (with the
//     patient profile, for a loaded machine), /dev/pts/4 a virtual board
//     presenting the emulated ATmega328P; 127.0.0.1:8885 and :9185 are the
//     noise and metrics listeners of a server the spec starts on the
//     folder's fixture set fx;
//   - fixed ports: a server example gets free loopback listeners (the
//     machine is shared), and the spec waits for its "listening" lines;
//   - scale: fleets of thousands of devices run with a few dozen;
//   - the files a user brings: key files in hex, a password file, a fleet
//     scenario, results to report on;
//   - hardware (/dev/ttyACM0, /dev/ttyUSB0, a USB serial number) must be
//     refused with exit status 2 and one plain line; remote hosts become a
//     closed loopback port, so that no traffic leaves the machine;
//   - services: PostgreSQL and mosquitto examples run with the throwaway
//     ones of scripts/with-services.sh, and are skipped without them.

// exampleLine is one command line of a command's examples.
type exampleLine struct {
	text       string // as printed, continuation lines joined, comment cut
	background bool   // ends in &
}

// exampleBlock is the examples of one command.
type exampleBlock struct {
	path  string            // e.g. "board handshake"
	lines []exampleLine     // in order
	files map[string]string // files the examples show ("# fleet.yaml" and what follows)
}

var (
	trailingComment = regexp.MustCompile(`\s+#\s.*$`)
	fileHeading     = regexp.MustCompile(`^#\s+(\S+\.ya?ml)$`)
)

// parseExamples reads the Example text of a command.
func parseExamples(path, text string) exampleBlock {
	b := exampleBlock{path: path, files: map[string]string{}}
	var joined []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, " ")
		if n := len(joined); n > 0 && strings.HasSuffix(joined[n-1], `\`) {
			joined[n-1] = strings.TrimSuffix(joined[n-1], `\`) + " " + strings.TrimSpace(l)
			continue
		}
		joined = append(joined, l)
	}
	file := ""
	for _, l := range joined {
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			file = ""
		case fileHeading.MatchString(t):
			file = fileHeading.FindStringSubmatch(t)[1]
		case file != "":
			b.files[file] += strings.TrimPrefix(l, "  ") + "\n"
		case strings.HasPrefix(t, "shakedown "):
			t = strings.Join(strings.Fields(trailingComment.ReplaceAllString(t, "")), " ")
			bg := strings.HasSuffix(t, " &")
			b.lines = append(b.lines, exampleLine{text: strings.TrimSuffix(t, " &"), background: bg})
		}
	}
	return b
}

// exampleBlocks are the examples of every command of top.
func exampleBlocks(top *cobra.Command) []exampleBlock {
	var out []exampleBlock
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example != "" {
			out = append(out, parseExamples(strings.TrimPrefix(c.CommandPath(), "shakedown "), c.Example))
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(top)
	return out
}

// exampleWorld is the folder of one command's examples and what runs
// beside them.
type exampleWorld struct {
	*world
	pathDir   string // holds "shakedown", first on PATH
	listeners map[string]string
	pts, pts4 string
	skipped   []string
}

var (
	readyFileFlag = regexp.MustCompile(`--ready-file (\S+)`)
	thousands     = regexp.MustCompile(`--devices (2000|50000)\b`)
)

// hardware needs a board on USB: refused with exit 2 here.
var hardware = regexp.MustCompile(`/dev/tty(ACM|USB)\d|--serial [0-9A-F]{8,}`)

// remote hosts of the examples, and the closed loopback port they become.
var remote = strings.NewReplacer("192.168.1.10:8885", "127.0.0.1:1", "broker.example.net:8883", "127.0.0.1:1")

// knownGaps are examples that cannot work as printed yet, with why; each
// is skipped with its reason, visibly.
var knownGaps = map[string]string{
	"--timeline timeline.json": "no command writes a timeline file yet (report's example; the report branch owns it)",
	"--config gateway.yaml":    "a deployment template: your gateway.yaml, a PostgreSQL registry holding a server key, a broker",
}

func newExampleWorld() *exampleWorld {
	w := &exampleWorld{world: newWorld(), pathDir: GinkgoT().TempDir()}
	Expect(os.Symlink(bin, filepath.Join(w.pathDir, "shakedown"))).To(Succeed())
	// The firmware a user built with make -C boards/firmware agents, for a
	// run outside the checkout.
	firmware, err := filepath.Abs(filepath.Join("..", "..", "boards", "firmware", "build"))
	Expect(err).NotTo(HaveOccurred())
	w.env = append(w.env, "PATH="+w.pathDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SHAKEDOWN_BACKEND_PASSWORD=s3cret", "GITHUB_STEP_SUMMARY="+w.path("step-summary.md"),
		emulated.FirmwareEnv+"="+firmware)
	return w
}

// server starts a server on the world's fixture set fx, once.
func (w *exampleWorld) server() map[string]string {
	GinkgoHelper()
	if w.listeners == nil {
		w.listeners = w.serve()
	}
	return w.listeners
}

// substitute replaces the placeholders of a line with the world's values.
func (w *exampleWorld) substitute(line string) string {
	GinkgoHelper()
	if strings.Contains(line, "/dev/pts/3") {
		if w.pts == "" {
			w.pts = w.virtualBoard("--board-file", patient())
		}
		line = strings.ReplaceAll(line, "/dev/pts/3", w.pts+" --board-file "+patient())
	}
	if strings.Contains(line, "/dev/pts/4") {
		if w.pts4 == "" {
			w.pts4 = w.virtualBoard("--board", "simavr-atmega328p")
		}
		line = strings.ReplaceAll(line, "/dev/pts/4", w.pts4)
	}
	if strings.Contains(line, "127.0.0.1:8885") || strings.Contains(line, "127.0.0.1:9185") {
		ls := w.server()
		line = strings.NewReplacer("127.0.0.1:8885", ls["noise"], "127.0.0.1:9185", ls["metrics"]).Replace(line)
	}
	line = remote.Replace(line)
	// Scale: a few dozen devices stand in for thousands.
	line = thousands.ReplaceAllStringFunc(line, func(m string) string {
		return map[string]string{"--devices 2000": "--devices 20", "--devices 50000": "--devices 200"}[m]
	})
	if strings.HasPrefix(line, "shakedown demo --out ") && !strings.Contains(line, "--devices") {
		line += " --devices 100"
	}
	if strings.HasPrefix(line, "shakedown serve ") {
		line += " " + strings.Join(loopbackListeners, " ")
	}
	return line
}

// services substitutes the throwaway services of scripts/with-services.sh
// for the ones a line names; false when a service is not there.
func (w *exampleWorld) services(line string) (string, bool) {
	pg, mq := os.Getenv("SHAKEDOWN_PG_DSN"), os.Getenv("SHAKEDOWN_MOSQUITTO_ADDR")
	if strings.Contains(line, "postgres://gw@db/shakedown") {
		if pg == "" {
			return line, false
		}
		line = strings.ReplaceAll(line, "postgres://gw@db/shakedown", pg)
	}
	if strings.Contains(line, "mosquitto:1883") || strings.Contains(line, "127.0.0.1:1883") || strings.Contains(line, "-h 127.0.0.1 -p 1883") {
		if mq == "" {
			return line, false
		}
		host, port, _ := strings.Cut(mq, ":")
		line = strings.NewReplacer("mosquitto:1883", mq, "127.0.0.1:1883", mq, "-h 127.0.0.1 -p 1883", "-h "+host+" -p "+port).Replace(line)
	}
	return line, true
}

// runsUntilStopped are the commands that run until interrupted.
func runsUntilStopped(line string) (ready *regexp.Regexp, ok bool) {
	switch {
	case strings.HasPrefix(line, "shakedown serve "):
		return regexp.MustCompile(`listening noise\s+(\S+)`), true
	case strings.HasPrefix(line, "shakedown board virtual"):
		return regexp.MustCompile(`(/dev/pts/\d+)`), true
	case strings.HasPrefix(line, "shakedown board console "):
		return regexp.MustCompile(`interrupt to stop`), true
	}
	return nil, false
}

// shell runs a line with sh, shakedown first on PATH; a line without
// shell operators is exec'd, so that signals reach shakedown itself.
func (w *exampleWorld) shell(line string) *gexec.Session {
	GinkgoHelper()
	if !strings.ContainsAny(line, "|>") && !strings.Contains(line, "&&") {
		line = "exec " + line
	}
	return w.startCmd(exec.Command("sh", "-c", line))
}

// runLine runs one example line and checks what it did.
func (w *exampleWorld) runLine(ex exampleLine) {
	GinkgoHelper()
	line := ex.text
	for gap, why := range knownGaps {
		if strings.Contains(line, gap) {
			w.skipped = append(w.skipped, line+": "+why)
			return
		}
	}
	line, ok := w.services(line)
	if !ok {
		if os.Getenv("SHAKEDOWN_REQUIRE_PG") == "1" {
			Fail(line + ": needs PostgreSQL or mosquitto, and they were required")
		}
		w.skipped = append(w.skipped, line+": needs PostgreSQL or mosquitto (scripts/with-services.sh)")
		return
	}
	line = w.substitute(line)
	By(line)
	if ready, ok := runsUntilStopped(line); ok && !hardware.MatchString(ex.text) {
		s := w.shell(line)
		stop := func() {
			s.Signal(syscall.SIGINT)
			Eventually(s).Should(gexec.Exit(0), "%s, stopped", line)
		}
		Eventually(func() bool { return ready.Match(s.Out.Contents()) || ready.Match(s.Err.Contents()) }).Should(BeTrue(), "%s: ready", line)
		if m := readyFileFlag.FindStringSubmatch(line); m != nil {
			// the server prints its listeners, then writes the file
			Eventually(func() error { _, err := readListeners(w.path(m[1])); return err }).Should(Succeed(), "%s: its ready file", line)
		}
		Expect(s.ExitCode()).To(Equal(-1), "%s: still running", line)
		if !ex.background {
			stop()
			return
		}
		DeferCleanup(stop)
		if m := ready.FindSubmatch(s.Out.Contents()); m != nil && strings.HasPrefix(string(m[1]), "/dev/pts/") {
			w.pts = string(m[1]) // "prints its /dev/pts/N": later lines use it
		}
		return
	}
	Expect(ex.background).To(BeFalse(), "%s: a line in the background must run until stopped", line)
	s := w.shell(line)
	Eventually(s, lineDeadline(line)).Should(gexec.Exit(), line)
	stderr := string(s.Err.Contents())
	switch {
	case hardware.MatchString(ex.text):
		Expect(s.ExitCode()).To(Equal(2), "%s: a board that is not there is a set-up error\nstderr: %s", line, stderr)
		oneLine(s)
	case strings.Contains(line, "--emulated ") && emulatorMissing(line):
		Expect(s.ExitCode()).To(Equal(2), "%s\nstderr: %s", line, stderr)
		Expect(stderr).To(ContainSubstring(emulated.BuildHint), "%s: says how to build the firmware", line)
	case strings.Contains(stderr, "chart library is missing"):
		w.skipped = append(w.skipped, line+": the HTML report's chart library is not installed (make report-assets)")
	default:
		Expect(s.ExitCode()).To(Equal(0), "%s\nstdout: %s\nstderr: %s", line, s.Out.Contents(), stderr)
	}
}

// emulatedDeadline bounds an example that runs suites on an emulated chip:
// simavr runs the ATmega328P's seed P-256 handshake alone for about two
// minutes on a two-core machine whose cores are both busy, so the default
// deadline would fail a run that is only slow.
const emulatedDeadline = 20 * time.Minute

// lineDeadline is how long an example line may run before the spec calls
// it stuck.
func lineDeadline(line string) time.Duration {
	if strings.Contains(line, "--emulated ") {
		return emulatedDeadline
	}
	return 3 * time.Minute
}

// emulatorMissing: the chip's emulator or firmware is not built here, and
// the run does not require it.
func emulatorMissing(line string) bool {
	chip := strings.Fields(line[strings.Index(line, "--emulated ")+len("--emulated "):])[0]
	return emulated.Check(chip) != nil && os.Getenv("SHAKEDOWN_REQUIRE_EMULATORS") != "1"
}

// writeHexKeys writes the files of the hex example of board handshake:
// noise-0001's private key and the server's current key, as a user keeps
// them.
func (w *exampleWorld) writeHexKeys() {
	GinkgoHelper()
	set, err := fixtures.Load(w.path("fx"))
	Expect(err).NotTo(HaveOccurred())
	d, ok := set.Device("noise-0001")
	Expect(ok).To(BeTrue())
	p, err := measure.Provisioning(set, d)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(w.path("noise-0001.hex"), []byte(hex.EncodeToString(p.DeviceKey)+"\n"), 0o600)).To(Succeed())
	Expect(os.WriteFile(w.path("server.hex"), []byte(hex.EncodeToString(p.ServerKey)+"\n"), 0o644)).To(Succeed())
}

// prepare gives the folder of a command's examples what its help assumes
// a user has.
var prepare = map[string]func(w *exampleWorld){
	"board handshake": func(w *exampleWorld) {
		w.fixtures() // "shakedown serve --fixtures fx" runs
		w.server()
		w.writeHexKeys()
	},
	"devices list": func(w *exampleWorld) {
		w.fixtures()
		w.must("devices", "import", "--fixtures", "fx", "--profiles", "noise")
	},
	"devices add": func(w *exampleWorld) {
		// a certificate of the user's own, and a machine-generated password
		w.must("devices", "add", "own-ca-device", "--profile", "tls", "--out", "made", "--registry", "made.db")
		Expect(os.Rename(w.path("made/own-ca-device.crt"), w.path("meter-10.crt"))).To(Succeed())
		Expect(os.WriteFile(w.path("meter-11.pw"), []byte("n3w6D0mWk1mJ1p7Yv4o2xQkJ8m3N0b5Z\n"), 0o600)).To(Succeed())
	},
	"devices import": func(w *exampleWorld) {
		w.fixtures()
		w.must("devices", "import", "--fixtures", "fx", "--profiles", "noise", "--registry", "old.db")
		w.must("fixtures", "gen", "out/fixtures", "--devices", "2")
		// a password file as mosquitto_passwd writes it (server/credential/testdata)
		b, err := os.ReadFile(filepath.Join("..", "..", "server", "credential", "testdata", "mosquitto.passwd"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(w.path("passwd"), b, 0o600)).To(Succeed())
	},
	"devices reset-counter": func(w *exampleWorld) {
		w.must("devices", "add", "sensor-17", "--profile", "noise", "--key", strings.Repeat("5a", 32))
	},
	"devices revoke": func(w *exampleWorld) {
		w.must("devices", "add", "sensor-17", "--profile", "noise", "--key", strings.Repeat("5a", 32))
	},
	"serverkey announce": func(w *exampleWorld) {
		w.fixtures()
		w.must("devices", "import", "--fixtures", "fx", "--profiles", "noise")
	},
	"results merge": func(w *exampleWorld) {
		w.fixtures()
		ready := w.path("ready.json")
		w.server()
		for i := range 4 {
			w.must("sim", "--gateway-ready", ready, "--fixtures", "fx", "--devices", "6", "--rate", "0", "--hold", "1s",
				"--publish-interval", "500ms", "--shard", fmt.Sprintf("%d/4", i), "--out", fmt.Sprintf("shard-%d.json", i))
		}
	},
	"results show": func(w *exampleWorld) {
		w.fixtures()
		w.server()
		w.must("sim", "--gateway-ready", w.path("ready.json"), "--fixtures", "fx", "--devices", "4", "--rate", "0", "--hold", "1s",
			"--publish-interval", "500ms", "--out", "fleet.json")
	},
	"report": func(w *exampleWorld) {
		w.fixtures()
		w.server()
		w.must("sim", "--gateway-ready", w.path("ready.json"), "--fixtures", "fx", "--devices", "4", "--rate", "0", "--hold", "1s",
			"--publish-interval", "500ms", "--out", "sim.json")
		w.must("mitm", "run", "--scenario", "pass-through", "--out", "mitm.json")
		w.must("test", "--virtual", "--label-filter", "handshake", "--runs", "1", "--out", "t", "--no-report")
		Expect(os.Rename(w.path("t/boards.json"), w.path("boards.json"))).To(Succeed())
		w.must("report", "--boards", "boards.json", "--json", "baseline.json")
	},
	"test": func(w *exampleWorld) {
		// a fleet for the reference server in process
		Expect(os.WriteFile(w.path("fleet.yaml"), []byte("target: gateway\ndevices: 20\nmix: {noise: 3, psk: 1}\n"+
			"rate: 100\nhold: 1s\npublish_interval: 500ms\nqos: 1\n"), 0o644)).To(Succeed())
	},
}

// scenarioFile makes a scenario an example shows runnable here: its hosts
// are the world's server, its fleet a few dozen devices.
func (w *exampleWorld) scenarioFile(content string) string {
	GinkgoHelper()
	ls := w.listeners
	Expect(ls).NotTo(BeNil(), "the example's server runs before its scenario")
	return strings.NewReplacer("gw:8885", ls["noise"], "gw:8883", ls["tls"], "gw:1884", ls["backend"],
		"devices: 10000", "devices: 20", "devices_per_profile: 9999", "devices_per_profile: 20",
		"hold: 30s", "hold: 2s", "ramp: 5s", "ramp: 1s", "publish_interval: 5s", "publish_interval: 500ms").Replace(content)
}

var _ = Describe("the help examples", Label("examples"), func() {
	for _, b := range exampleBlocks(root) {
		It(fmt.Sprintf("of %q work as printed", b.path), func() {
			Expect(b.lines).NotTo(BeEmpty(), "an Example without a command line")
			w := newExampleWorld()
			if p := prepare[b.path]; p != nil {
				p(w)
			}
			for _, ex := range b.lines {
				for name, content := range b.files {
					if strings.Contains(ex.text, name) {
						Expect(os.WriteFile(w.path(name), []byte(w.scenarioFile(content)), 0o644)).To(Succeed())
					}
				}
				w.runLine(ex)
				if w.listeners == nil {
					if ls, err := readListeners(w.path("ready.json")); err == nil && ls["noise"] != "" {
						w.listeners = ls // the example's own server
					}
				}
			}
			if len(w.skipped) > 0 {
				AddReportEntry("examples not run", strings.Join(w.skipped, "\n"))
				fmt.Fprintf(GinkgoWriter, "not run:\n  %s\n", strings.Join(w.skipped, "\n  "))
			}
		})
	}

	It("parses what the examples show", func() {
		b := parseExamples("sim", `  # a fleet
  shakedown serve --fixtures fx &
  shakedown sim --devices 2000 \
      --rate 500 --out out.json   # a comment

  # fleet.yaml
  target: gateway
  gateway: {noise: gw:8885}`)
		Expect(b.lines).To(Equal([]exampleLine{{text: "shakedown serve --fixtures fx", background: true},
			{text: "shakedown sim --devices 2000 --rate 500 --out out.json"}}))
		Expect(b.files).To(Equal(map[string]string{"fleet.yaml": "target: gateway\ngateway: {noise: gw:8885}\n"}))
	})
})
