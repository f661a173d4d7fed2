// Command shakedown proves whether IoT devices resist a man in the middle:
// a reference handshake server, a device simulator, a MITM lab and a board
// harness in one binary. Run `shakedown --help` for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"shakedown/version"
)

// The exit codes: one contract for every command, in the manner of
// pytest's. A CI job can trust them: 0 never hides a failure, and 1 is
// never a mistyped flag.
const (
	exitOK          = 0 // everything as expected
	exitCheckFailed = 1 // a check failed: a spec, a MITM verdict, a regression, a threshold, a board handshake
	exitUsage       = 2 // usage or set-up error: bad flag, unknown command, missing file, target unreachable before the run
	exitInterrupted = 3 // SIGINT or SIGTERM: the results so far are written, marked "interrupted": true
	exitInternal    = 4 // internal error: a bug in shakedown
)

// exitCodesHelp is the contract as every --help shows it.
const exitCodesHelp = `Exit codes (every command):
  0  everything as expected
  1  a check failed: a spec, a MITM verdict, a baseline regression, a load
     threshold, a refused board handshake
  2  usage or set-up error: a bad flag, an unknown command, a missing or
     unreadable file, a target unreachable before the run starts
  3  interrupted (SIGINT, SIGTERM): the results so far are written and marked
     "interrupted": true; commands that run until stopped (serve, board
     virtual, board console) exit 0 when stopped
  4  internal error: a bug in shakedown; please report it`

// root is the top command; every subcommand lives in a file of its own.
var root = &cobra.Command{
	Use:   "shakedown",
	Short: "Prove whether IoT devices resist a man in the middle",
	Long: `shakedown tests the secure channel between microcontrollers and an MQTT backend.

It terminates device handshakes (Noise IK recommended; the seed discussion's
ECDH and PSK designs and MQTT over TLS for comparison), simulates fleets of
devices, reproduces man-in-the-middle and replay attacks on every profile, and
drives real or emulated boards over serial.

` + exitCodesHelp,
	Version:       version.String(),
	SilenceUsage:  true,
	SilenceErrors: true,
}

// The subcommands, each built with its flags by its constructor, newXCmd,
// in its own file.
func init() {
	root.AddCommand(newServeCmd(), newDevicesCmd(), newServerKeyCmd(), newFixturesCmd(),
		newReportCmd(), newResultsCmd(), newTestCmd(), newSimCmd(), newBoardCmd(), newDemoCmd(), newMITMCmd())
}

// exitError carries a process exit code chosen by a command. Build one with
// usageError, setupError, checkFailed, interruptedError or internalError.
type exitError struct {
	code int
	err  error
	// usage: the command line itself is wrong; the message points to --help.
	usage bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is exit 2 for a command line that is wrong: a flag value, a
// missing argument, flags that do not go together.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err, usage: true}
}

// usageErrorf is usageError of a formatted message.
func usageErrorf(format string, a ...any) error { return usageError(fmt.Errorf(format, a...)) }

// setupError is exit 2 for what stops a command before its run starts: a
// missing or unreadable file, a registry that is not there, a board or
// server that cannot be reached.
func setupError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// checkFailed is exit 1: the run completed and a check failed.
func checkFailed(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitCheckFailed, err: err}
}

// interruptedError is exit 3: a signal stopped the run; what it measured
// so far is written and marked interrupted.
func interruptedError(err error) error {
	if err == nil {
		err = errors.New("interrupted")
	}
	return &exitError{code: exitInterrupted, err: err}
}

// internalError is exit 4: shakedown itself failed.
func internalError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitInternal, err: err}
}

// exitCode maps a command's error to the process exit code. A failed
// check, an interruption and an internal error are always said so by the
// command (checkFailed, interruptedError, internalError; a panic is an
// internal error too); any other error stopped the command on its input or
// its environment: a usage or set-up error.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

func main() {
	restartWithStackStart()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal a second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	code := execute(ctx, root, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command line args on the tree of cmd and returns the
// exit code, having printed the error, if any, as one line on stderr. ctx
// is done when a signal arrived. A panic in a command is an internal error.
func execute(ctx context.Context, cmd *cobra.Command, args []string, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "shakedown: internal error: %v\n(a bug in shakedown: please report it with the command line)\n", p)
			code = exitInternal
		}
	}()
	strict(cmd)
	cmd.SetArgs(args)
	cmd.SetErr(stderr)
	ran, err := cmd.ExecuteContextC(ctx)
	code = exitCode(err)
	var ee *exitError
	if err != nil && ctx.Err() != nil && !errors.As(err, &ee) {
		// A signal stopped a command that had nothing to keep.
		code = exitInterrupted
	}
	if err == nil {
		return code
	}
	switch code {
	case exitInterrupted:
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(stderr, "shakedown: interrupted")
		case strings.HasPrefix(err.Error(), "interrupted"):
			fmt.Fprintln(stderr, "shakedown:", err)
		default:
			fmt.Fprintln(stderr, "shakedown: interrupted:", err)
		}
	case exitInternal:
		fmt.Fprintf(stderr, "shakedown: internal error: %v\n(a bug in shakedown: please report it with the command line)\n", err)
	default:
		fmt.Fprintln(stderr, "shakedown:", err)
	}
	if errors.As(err, &ee) && ee.usage && ran != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", ran.CommandPath())
	}
	return code
}

// strictDone marks a tree strict already made strict.
const strictDone = "shakedown.strict"

// strict makes the tree of cmd keep the contract where cobra would not: a
// flag or argument error is a usage error (exit 2); a group command (one
// with subcommands and nothing to run itself) refuses an unknown
// subcommand instead of printing its help and exiting 0, and without one
// prints its help and exits 2; "help TOPIC" refuses an unknown topic. Every
// --help ends with the exit codes.
func strict(cmd *cobra.Command) {
	if cmd.Annotations[strictDone] != "" {
		return
	}
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[strictDone] = "yes"
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	cmd.SetUsageTemplate(cmd.UsageTemplate() + "\nExit codes: 0 as expected, 1 a check failed, 2 usage or set-up error,\n3 interrupted, 4 internal error (shakedown --help says more).\n")
	cmd.SetHelpCommand(helpCommand(cmd))
	cmd.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.HasSubCommands() && !c.Runnable() {
			c.Args = unknownSubcommand
			c.RunE = func(c *cobra.Command, _ []string) error {
				out := c.OutOrStdout()
				c.SetOut(c.ErrOrStderr())
				c.Help()
				c.SetOut(out)
				return usageErrorf("%s: give a command: %s", c.CommandPath(), strings.Join(subcommandNames(c), ", "))
			}
			return
		}
		if args := c.Args; args != nil {
			c.Args = func(c *cobra.Command, a []string) error { return usageError(args(c, a)) }
		}
	}
	walk(cmd)
}

// unknownSubcommand is the Args of a group command: any argument is a
// subcommand that does not exist.
func unknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	} else {
		msg += "; its commands: " + strings.Join(subcommandNames(c), ", ")
	}
	return usageError(errors.New(msg))
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return names
}

// helpCommand is "shakedown help [command]": cobra's own prints "Unknown
// help topic" and exits 0.
func helpCommand(top *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type " + top.Name() + " help [path to command] for full details.",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := top.Find(args)
			if err != nil || len(rest) > 0 || target == nil {
				return usageErrorf("unknown help topic %q", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}
