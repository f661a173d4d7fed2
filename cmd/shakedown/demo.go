package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"shakedown/lab/demo"
)

// newDemoCmd is `shakedown demo`: the flags of package demo's story.
func newDemoCmd() *cobra.Command {
	o := demo.DefaultOptions()
	var noChips bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole story on embedded defaults, ending in an HTML report",
		Long: `Generate a fixture set, start the reference server on loopback (SQLite
registry, embedded broker, every profile), connect one device per profile and
see each message arrive at a backend subscriber; drive the virtual board (and a
virtual Uno as slow as the real chip) through handshakes relayed to the server;
run the firmware's benchmark on the emulated chips when their toolchains and
emulators are present; run a fleet of simulated devices; run the MITM matrix;
and write the results, an HTML report and a Markdown summary. The report's path
is the last line printed. Nothing to install, nothing left running.

Exit status: 1 when a part of the demo failed; 3 when interrupted (the
results so far are written, marked "interrupted": true).`,
		Example: `  shakedown demo --out out/demo
  shakedown demo --devices 200 --no-chips      # quicker`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Chips, o.Out = !noChips, cmd.OutOrStdout()
			return runDemo(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.Dir, "out", o.Dir, "the folder the demo writes its fixtures, registry, results and report into (emptied first)")
	renamed(cmd.Flags(), "dir", "out")
	cmd.Flags().IntVar(&o.Devices, "devices", o.Devices, "simulated devices in the fleet")
	cmd.Flags().StringVar(&o.Firmware, "firmware", o.Firmware, "the firmware folder, for the emulated chips")
	cmd.Flags().BoolVar(&noChips, "no-chips", false, "skip the emulated chips")
	return cmd
}

// runDemo runs the story and turns how it went into the exit status: 3
// interrupted, 2 it could not set up, 1 a part failed or the verdict
// needs attention.
func runDemo(cmd *cobra.Command, o demo.Options) error {
	res, err := demo.Run(cmd.Context(), o)
	switch {
	case errors.Is(err, demo.ErrInterrupted) && res == nil:
		return interruptedError(errors.New("interrupted before the demo began"))
	case errors.Is(err, demo.ErrInterrupted):
		return interruptedError(fmt.Errorf("interrupted: the results so far are in %s, marked interrupted", o.Dir))
	case err != nil:
		return setupError(err)
	case res.Failures > 0:
		return checkFailed(fmt.Errorf("%d parts of the demo failed", res.Failures))
	case !res.Summary.OK:
		// The verdict and the exit status agree: a fleet whose devices
		// failed to connect is no demo that went as expected.
		return checkFailed(errors.New("the demo's verdict: needs attention (see the summary above)"))
	}
	return nil
}
