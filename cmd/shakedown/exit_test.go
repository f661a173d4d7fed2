package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// tree is a small command tree of its own for the in-process specs of the
// exit-code plumbing: a group with one command whose RunE is given.
func tree(run func(*cobra.Command, []string) error) *cobra.Command {
	top := &cobra.Command{Use: "shakedown", SilenceUsage: true, SilenceErrors: true}
	group := &cobra.Command{Use: "group", Short: "a group"}
	group.AddCommand(&cobra.Command{Use: "do", Short: "does it", Args: cobra.NoArgs, RunE: run})
	top.AddCommand(group)
	return top
}

var _ = Describe("the exit-code plumbing (execute)", func() {
	var stderr *bytes.Buffer
	BeforeEach(func() { stderr = new(bytes.Buffer) })

	returning := func(err error) *cobra.Command {
		return tree(func(*cobra.Command, []string) error { return err })
	}

	DescribeTable("maps what a command returns to one exit code and one line",
		func(err error, code int, line string) {
			Expect(execute(context.Background(), returning(err), []string{"group", "do"}, stderr)).To(Equal(code))
			if line == "" {
				Expect(stderr.String()).To(BeEmpty())
				return
			}
			Expect(stderr.String()).To(HavePrefix(line))
		},
		Entry("nothing: 0", nil, exitOK, ""),
		Entry("a failed check: 1", checkFailed(errors.New("3 specs failed")), exitCheckFailed, "shakedown: 3 specs failed\n"),
		Entry("a bad value: 2, pointing to --help", usageErrorf("--rate: want a number"), exitUsage,
			"shakedown: --rate: want a number\nRun 'shakedown group do --help' for usage.\n"),
		Entry("a set-up error: 2", setupError(errors.New("opening the registry: no such file")), exitUsage,
			"shakedown: opening the registry: no such file\n"),
		Entry("any error a command did not classify: 2, it stopped on its input or environment",
			fmt.Errorf("reading: %w", &os.PathError{Op: "open", Path: "x.json", Err: os.ErrNotExist}),
			exitUsage, "shakedown: reading: open x.json: file does not exist\n"),
		Entry("an interrupted run: 3", interruptedError(errors.New("interrupted after 4 of 9 cells")), exitInterrupted,
			"shakedown: interrupted after 4 of 9 cells\n"),
		Entry("an explicit internal error: 4", internalError(errors.New("broken invariant")), exitInternal,
			"shakedown: internal error: broken invariant\n"),
	)

	It("keeps the outermost code when errors wrap each other", func() {
		err := checkFailed(fmt.Errorf("mitm: %w", setupError(errors.New("inner"))))
		Expect(exitCode(err)).To(Equal(exitCheckFailed))
	})

	It("turns a panic into an internal error (4) without a stack trace", func() {
		cmd := tree(func(*cobra.Command, []string) error { panic("nil map") })
		Expect(execute(context.Background(), cmd, []string{"group", "do"}, stderr)).To(Equal(exitInternal))
		Expect(stderr.String()).To(HavePrefix("shakedown: internal error: nil map\n"))
		Expect(stderr.String()).NotTo(ContainSubstring("goroutine"))
	})

	It("is 3 when a signal stopped a command that returned an unclassified error", func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		cmd := tree(func(c *cobra.Command, _ []string) error { return c.Context().Err() })
		Expect(execute(ctx, cmd, []string{"group", "do"}, stderr)).To(Equal(exitInterrupted))
		Expect(stderr.String()).To(Equal("shakedown: interrupted\n"))
	})

	It("is 0 when a signal stopped a command that runs until stopped and returned nil", func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		cmd := tree(func(c *cobra.Command, _ []string) error { <-c.Context().Done(); return nil })
		Expect(execute(ctx, cmd, []string{"group", "do"}, stderr)).To(Equal(exitOK))
	})

	DescribeTable("makes the command line itself a usage error (2)",
		func(args []string, line string) {
			ran := false
			cmd := tree(func(*cobra.Command, []string) error { ran = true; return nil })
			Expect(execute(context.Background(), cmd, args, stderr)).To(Equal(exitUsage))
			Expect(ran).To(BeFalse())
			Expect(stderr.String()).To(ContainSubstring(line))
		},
		Entry("a mistyped subcommand under a group", []string{"group", "od"}, `unknown command "od" for "shakedown group"; did you mean do?`),
		Entry("a mistyped top command", []string{"gruop"}, `unknown command "gruop" for "shakedown"; did you mean group?`),
		Entry("a group without a command", []string{"group"}, "shakedown group: give a command: do"),
		Entry("an unknown flag", []string{"group", "do", "--nope"}, "unknown flag: --nope"),
		Entry("an argument too many", []string{"group", "do", "extra"}, `unknown command "extra" for "shakedown group do"`),
		Entry("help on a topic that does not exist", []string{"help", "nope"}, `unknown help topic "nope"`),
	)

	It("is 0 for --help, and the help ends with the exit codes", func() {
		out := new(bytes.Buffer)
		cmd := returning(nil)
		cmd.SetOut(out)
		Expect(execute(context.Background(), cmd, []string{"group", "do", "--help"}, stderr)).To(Equal(exitOK))
		Expect(out.String()).To(ContainSubstring("Exit codes: 0 as expected, 1 a check failed, 2 usage or set-up error,\n3 interrupted, 4 internal error"))
	})
})
