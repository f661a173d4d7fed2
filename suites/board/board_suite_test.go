package board_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	"go.uber.org/goleak"

	"shakedown/boards/virtual"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	"shakedown/server/app"
)

func TestBoard(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	suite, reporter := GinkgoConfiguration()
	if suite.Timeout == time.Hour { // ginkgo's default: a hung suite still reaches AfterSuite
		suite.Timeout = 10 * time.Minute // building the binary alone takes minutes on a loaded machine
	}
	before := goleak.IgnoreCurrent()
	RunSpecs(t, "board against shakedown serve", suite, reporter)
	// The last specs' goroutines may still be winding down on a loaded
	// machine (goleak alone waits about half a second): give them time
	// before calling them leaks.
	NewWithT(t).Eventually(func() error {
		return goleak.Find(before, goleak.IgnoreTopFunction(
			"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

const (
	fixtureSeed     = "board-suite"
	backendUser     = "backend"
	backendPassword = "board-suite-backend"
	// drain is the server's drain: the SIGTERM spec runs an exchange
	// within it, which a loaded machine may take seconds for.
	drain = 15 * time.Second
)

var (
	set     *fixtures.Set  // the fixture set the server imported
	server  *gexec.Session // the `shakedown serve` process
	ready   app.Ready      // its listeners
	vb      *virtual.Board // the board on its pseudo-terminal
	board   *harness.Board // the harness's link to it
	console *gbytes.Buffer // the board's console output
)

var _ = BeforeSuite(func() {
	bin, err := gexec.Build("shakedown/cmd/shakedown")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)

	work, err := os.MkdirTemp("", "board-suite-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, work)
	fx := filepath.Join(work, "fx")
	gen, err := gexec.Start(exec.Command(bin, "fixtures", "gen", fx, "--seed", fixtureSeed),
		GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(gen).Should(gexec.Exit(0))
	set, err = fixtures.Load(fx)
	Expect(err).NotTo(HaveOccurred())

	readyFile := filepath.Join(fx, "ready.json")
	server, err = gexec.Start(exec.Command(bin, "serve", "--fixtures", fx,
		"--registry", "sqlite:"+filepath.Join(fx, "reg.db"),
		"--listen-noise", "127.0.0.1:0", "--listen-seed", "127.0.0.1:0",
		"--listen-psk", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0",
		"--backend", "127.0.0.1:0", "--backend-user", backendUser, "--backend-password", backendPassword,
		"--metrics", "", "--drain", drain.String(), "--ready-file", readyFile),
		gexec.NewPrefixedWriter("[serve] ", GinkgoWriter), gexec.NewPrefixedWriter("[serve] ", GinkgoWriter))
	Expect(err).NotTo(HaveOccurred())
	// The ready file is written once everything listens; read it until it
	// parses whole, and give up at once if the server died.
	Eventually(func(g Gomega) {
		if server.ExitCode() != -1 {
			StopTrying("shakedown serve exited before it was ready").Now()
		}
		data, err := os.ReadFile(readyFile)
		g.Expect(err).NotTo(HaveOccurred())
		var r app.Ready
		g.Expect(json.Unmarshal(data, &r)).To(Succeed())
		for _, name := range []string{"noise", "seed", "psk", "tls", "backend"} {
			g.Expect(r.Listeners).To(HaveKeyWithValue(name, Not(BeEmpty())))
		}
		ready = r
	}).Should(Succeed())

	vb, err = virtual.Start(virtual.Config{Serial: "BOARD-SUITE-0001", Console: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(vb.Close)
	console = gbytes.NewBuffer()
	board, err = harness.Open(ctx(), vb.Path(), harness.Options{Console: console})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(board.Close)
})

// AfterSuite kills the server whatever happened; after the SIGTERM spec it
// has exited already and Kill does nothing.
var _ = AfterSuite(func() {
	if server != nil {
		Eventually(server.Kill()).Should(gexec.Exit())
	}
})

// ctx is a context for one step of a spec.
func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	DeferCleanup(cancel)
	return c
}

// listener returns the server's address for a profile.
func listener(p handshake.Name) string { return ready.Listeners[string(p)] }

// device returns a device of the fixture set.
func device(id string) fixtures.Device {
	d, ok := set.Device(id)
	Expect(ok).To(BeTrue(), "no fixture device %s", id)
	return d
}
