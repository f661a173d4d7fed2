package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"

	"github.com/creack/pty"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// onTerminal runs the binary with a pseudo-terminal as its stdout and
// stderr and returns all it wrote there, and its exit code.
func onTerminal(w *world, env []string, args ...string) (string, int) {
	GinkgoHelper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = w.dir, append(append([]string(nil), w.env...), env...)
	tty, err := pty.Start(cmd)
	Expect(err).NotTo(HaveOccurred())
	var out bytes.Buffer
	io.Copy(&out, tty) // ends with EIO when the process is gone
	tty.Close()
	cmd.Wait()
	return out.String(), cmd.ProcessState.ExitCode()
}

var _ = Describe("colour", Label("contract"), func() {
	var w *world
	BeforeEach(func() { w = newWorld() })
	run := []string{"test", "--virtual", "--label-filter", "info", "--out", "t"}

	It("marks the specs in colour on a terminal", func() {
		out, code := onTerminal(w, []string{"TERM=xterm-256color", "NO_COLOR="}, run...)
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring("\x1b[32mok\x1b[0m"))
	})

	It("issue 14: honours NO_COLOR on a terminal", func() {
		out, code := onTerminal(w, []string{"TERM=xterm-256color", "NO_COLOR=1"}, run...)
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring("ok "))
		Expect(out).NotTo(ContainSubstring("\x1b["))
	})

	It("sends no colour to what is not a terminal", func() {
		w.env = append(w.env, "TERM=xterm-256color", "NO_COLOR=")
		for _, args := range [][]string{run, {"board", "profiles"}, {"mitm", "run", "--list"}, {"nope"}} {
			s := w.run(args...)
			Expect(s).To(gexec.Exit(), strings.Join(args, " "))
			Expect(string(s.Out.Contents())+string(s.Err.Contents())).NotTo(ContainSubstring("\x1b["), strings.Join(args, " "))
		}
	})
})
