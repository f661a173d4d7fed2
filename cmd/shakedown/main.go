// Command shakedown proves whether IoT devices resist a man in the middle:
// a reference handshake server, a device simulator, a MITM lab and a board
// harness in one binary. Run `shakedown --help` for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// root is the top command; every subcommand lives in a file of its own and
// adds itself in an init function.
var root = &cobra.Command{
	Use:   "shakedown",
	Short: "Prove whether IoT devices resist a man in the middle",
	Long: `shakedown tests the secure channel between microcontrollers and an MQTT backend.

It terminates device handshakes (Noise IK recommended; the seed discussion's
ECDH and PSK designs and MQTT over TLS for comparison), simulates fleets of
devices, reproduces man-in-the-middle and replay attacks on every profile, and
drives real or emulated boards over serial.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a process exit code chosen by a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "shakedown:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(1)
}
