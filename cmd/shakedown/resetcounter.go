package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"shakedown/handshake"
)

// newResetCounterCmd is `shakedown devices reset-counter`.
func newResetCounterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reset-counter ID",
		Short: "Set a noise device's message-1 counter back to 0, for a device that lost its counter",
		Long: `The server accepts a noise device's message 1 only when its counter is greater
than the last one it stored (docs/protocol.md, "Counter"). A device whose
counter storage was erased or replaced starts again from a low value and is
refused (counter_replay) until its counter passes the stored one; one whose
stored counter is 2^64-1 (erased flash, accepted before that value was
reserved) is refused for good.

reset-counter sets the stored counter to 0, so the device's next handshake
may carry any counter from 1. The registry records when (devices export:
"counter_reset") and the counter it replaced.

A reset reopens replay: until the device's counter passes the old value,
every message 1 it ever sent, recorded by anyone on the path, is accepted
once more. Reset only a device that lost its counter, have it connect at
once, and confirm with --yes.`,
		Example: `  shakedown devices reset-counter sensor-17 --yes --registry sqlite:shakedown.db`,
		Args:    cobra.ExactArgs(1),
	}
	dsn := registryFlag(cmd)
	yes := cmd.Flags().Bool("yes", false, "confirm the reset (see above: it reopens replay of the device's old message 1s)")
	cmd.RunE = func(c *cobra.Command, args []string) error {
		id := args[0]
		if err := handshake.CheckDeviceID(id); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("device ID %q: %w", id, err)}
		}
		if !*yes {
			return &exitError{code: 2, err: errors.New("resetting a counter reopens replay of the device's old message 1s; confirm with --yes")}
		}
		reg, err := openRegistry(c.Context(), *dsn)
		if err != nil {
			return err
		}
		defer reg.Close()
		previous, err := reg.ResetCounter(c.Context(), id)
		if errors.Is(err, handshake.ErrUnknownDevice) {
			return &exitError{code: 2, err: fmt.Errorf("no device %q in the registry", id)}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "reset the message-1 counter of %s: it was %d, it is 0; the device's next counter may be anything from 1\n", id, previous)
		return nil
	}
	return cmd
}
