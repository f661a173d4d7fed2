package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// The process-level specs run the binary as a user does: built once per
// suite, with the version a release build would stamp.
const specVersion = "v0.0.0-spec"

var bin string

// binEnv names a binary to run the specs against instead of building one:
// an older build, to see which specs it fails.
const binEnv = "SHAKEDOWN_SPEC_BIN"

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(3 * time.Minute) // a loaded two-core machine
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	if bin = os.Getenv(binEnv); bin != "" {
		return
	}
	var err error
	bin, err = gexec.Build("shakedown/cmd/shakedown", "-ldflags", "-X shakedown/version.release="+specVersion)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)
})

// world is a folder to run commands in, with what they need around them:
// a fixture set, a running server, a virtual board. Everything started is
// stopped, with a signal, when the spec or container ends.
type world struct {
	dir     string
	env     []string
	lastPid int // of the command started last
}

func newWorld() *world {
	return &world{dir: GinkgoT().TempDir(), env: os.Environ()}
}

// path is a file of the world.
func (w *world) path(name string) string { return filepath.Join(w.dir, name) }

// start runs the binary in the world's folder.
func (w *world) start(args ...string) *gexec.Session {
	GinkgoHelper()
	return w.startCmd(exec.Command(bin, args...))
}

func (w *world) startCmd(cmd *exec.Cmd) *gexec.Session {
	GinkgoHelper()
	cmd.Dir, cmd.Env = w.dir, w.env
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	w.lastPid = cmd.Process.Pid
	return s
}

// run runs the binary to its end and returns the session.
func (w *world) run(args ...string) *gexec.Session {
	GinkgoHelper()
	s := w.start(args...)
	Eventually(s).Should(gexec.Exit())
	return s
}

// must runs the binary and requires exit status 0.
func (w *world) must(args ...string) *gexec.Session {
	GinkgoHelper()
	s := w.run(args...)
	Expect(s.ExitCode()).To(Equal(0), "shakedown %s\nstderr: %s", strings.Join(args, " "), s.Err.Contents())
	return s
}

// background starts a command that runs until stopped, and stops it with
// SIGINT when the spec or container ends: it must then exit 0.
func (w *world) background(args ...string) *gexec.Session {
	GinkgoHelper()
	s := w.start(args...)
	DeferCleanup(func() {
		s.Signal(syscall.SIGINT)
		Eventually(s).Should(gexec.Exit(0), "shakedown %s, stopped", strings.Join(args, " "))
	})
	return s
}

// fixtures generates a small fixture set called fx (seed demo, 6 devices per profile).
func (w *world) fixtures() {
	GinkgoHelper()
	w.must("fixtures", "gen", "fx", "--seed", "demo", "--devices", "6")
}

// loopbackListeners keeps a server on free loopback ports: the machine is
// shared, and the default ports are not ours to take.
var loopbackListeners = []string{"--listen-noise", "127.0.0.1:0", "--listen-seed", "127.0.0.1:0",
	"--listen-psk", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--backend", "127.0.0.1:0",
	"--metrics", "127.0.0.1:0", "--plain-mqtt", "127.0.0.1:0"}

// serve starts "shakedown serve" on the world's fixture set and returns
// its listeners by name (noise, seed, psk, tls, backend, metrics, plain).
func (w *world) serve(extra ...string) map[string]string {
	GinkgoHelper()
	ready := w.path("ready.json")
	os.Remove(ready)
	args := append([]string{"serve", "--fixtures", "fx", "--registry", "sqlite:fx/registry.db",
		"--backend-password", "s3cret", "--ready-file", ready}, loopbackListeners...)
	s := w.background(append(args, extra...)...)
	var ls map[string]string
	Eventually(func() (err error) {
		ls, err = readListeners(ready)
		return err
	}).Should(Succeed(), "the server's ready file")
	Expect(s.ExitCode()).To(Equal(-1), "the server is running")
	return ls
}

// readListeners reads a ready file; it may be there only in part.
func readListeners(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r struct {
		Listeners map[string]string `json:"listeners"`
	}
	return r.Listeners, json.Unmarshal(data, &r)
}

// virtualBoard starts "shakedown board virtual" and returns its
// pseudo-terminal.
func (w *world) virtualBoard(extra ...string) string {
	GinkgoHelper()
	s := w.background(append([]string{"board", "virtual"}, extra...)...)
	Eventually(s.Out).Should(gbytes.Say(`(/dev/pts/\d+)\n`))
	return firstLine(string(s.Out.Contents()))
}

// oneLine requires stderr to be one plain line from shakedown: no Go
// values, no stack, no goroutines.
func oneLine(s *gexec.Session) string {
	GinkgoHelper()
	stderr := strings.TrimRight(string(s.Err.Contents()), "\n")
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "Run 'shakedown") && !strings.HasPrefix(l, "Flag ") {
			lines = append(lines, l)
		}
	}
	Expect(lines).To(HaveLen(1), "stderr: %s", stderr)
	Expect(lines[0]).To(HavePrefix("shakedown: "))
	Expect(stderr).NotTo(ContainSubstring("goroutine"))
	Expect(stderr).NotTo(MatchRegexp(`0x[0-9a-f]{6,}`), "no Go values")
	Expect(lines[0]).NotTo(ContainSubstring(": :"), "no empty fields")
	return lines[0]
}

// verdictLine requires the verdict of a run that reported progress on
// stderr to be its last line, plain: no Go values, no goroutines anywhere.
func verdictLine(s *gexec.Session) string {
	GinkgoHelper()
	stderr := strings.TrimRight(string(s.Err.Contents()), "\n")
	Expect(stderr).NotTo(ContainSubstring("goroutine"))
	Expect(stderr).NotTo(MatchRegexp(`0x[0-9a-f]{6,}`), "no Go values")
	lines := strings.Split(stderr, "\n")
	last := lines[len(lines)-1]
	Expect(last).To(HavePrefix("shakedown: "))
	Expect(last).NotTo(ContainSubstring(": :"), "no empty fields")
	return last
}

// patient is the board profile of the specs' virtual boards: the virtual
// board with timeouts for a loaded machine (testdata/patient-virtual.yaml).
func patient() string {
	GinkgoHelper()
	p, err := filepath.Abs(filepath.Join("testdata", "patient-virtual.yaml"))
	Expect(err).NotTo(HaveOccurred())
	return p
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}
