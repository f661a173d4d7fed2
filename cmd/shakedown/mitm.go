package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"shakedown/fixtures"
	"shakedown/handshake/seed"
	"shakedown/mitm"
	"shakedown/mitm/labserver"
)

func init() {
	var o struct {
		scenarios, profiles   []string
		board, out, fixtureFS string
		seed                  string
		list, all             bool
	}
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the man-in-the-middle scenario matrix against simulated devices",
		Long: `Run the MITM lab: an in-process reference server (gateway and embedded broker
on 127.0.0.1), simulated devices of every profile from a fixture set, and a TCP
proxy between them that records, replays, alters, drops, reorders, truncates
and reflects frames, substitutes keys and terminates TLS with the attacker's
certificates.

Each scenario runs on the columns where it means something: noise, seed on
P-256 and secp160r1 (and a device that skips point validation), psk, and tls
with each verification mode. The matrix shows, per cell, "rejected" (a side
was seen refusing the attack) or "SUCCEEDED" with the evidence (what the
attacker read, what a side accepted), and, for legitimate certificate
changes, "survived" or "LOCKED OUT". Every cell carries its expected outcome
and the source of that expectation (--list shows them); the exit status is 2
when any outcome differs from its expectation.

--out writes the matrix as JSON (format shakedown-mitm/1, see package mitm).

--board runs the scenarios on a board's relay path instead of simulated
devices: not yet available; it arrives with the board harness.`,
		Example: `  shakedown mitm run
  shakedown mitm run --list
  shakedown mitm run --scenario impersonate-server --scenario expired-certificate --profile tls
  shakedown mitm run --profile seed-secp160r1 --all --out mitm.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if o.list {
				mitm.WriteCatalogue(out)
				return nil
			}
			if o.board != "" {
				return errors.New("--board: running the scenarios over a board's relay path is not yet available (it arrives with the board harness)")
			}
			sel := mitm.Selection{Scenarios: o.scenarios, Columns: o.profiles}
			if err := sel.Check(); err != nil {
				return err
			}
			var set *fixtures.Set
			var err error
			if o.fixtureFS != "" {
				set, err = fixtures.Load(o.fixtureFS)
			} else {
				set, err = fixtures.Build(fixtures.Options{Seed: o.seed})
			}
			if err != nil {
				return err
			}
			if selectsSeed(sel) {
				fmt.Fprintln(cmd.ErrOrStderr(), seed.Warning)
			}
			srv, err := labserver.Start(set, nil)
			if err != nil {
				return err
			}
			defer srv.Close()
			progress := cmd.ErrOrStderr()
			lab := &mitm.Lab{Set: set, Target: srv, TargetName: "in-process", Progress: func(v mitm.Verdict) {
				mark := ""
				if !v.AsExpected {
					mark = "  (expected " + v.Expected.Label() + ")"
				}
				fmt.Fprintf(progress, "%-22s %-24s %s%s\n", v.Scenario, v.Column, v.Outcome.Label(), mark)
			}}
			res, err := lab.Run(cmd.Context(), sel)
			if err != nil {
				return err
			}
			fmt.Fprintln(progress)
			if err := res.WriteText(out, o.all); err != nil {
				return err
			}
			if o.out != "" {
				if err := res.WriteFile(o.out); err != nil {
					return err
				}
				fmt.Fprintf(progress, "wrote %s\n", o.out)
			}
			if res.Mismatches > 0 {
				return &exitError{code: 2, err: fmt.Errorf("mitm: %d of %d verdicts differ from their expectation", res.Mismatches, len(res.Verdicts))}
			}
			return nil
		},
	}
	fl := run.Flags()
	fl.StringSliceVarP(&o.scenarios, "scenario", "s", nil, "run only these scenarios (repeat or comma-separate; see --list)")
	fl.StringSliceVarP(&o.profiles, "profile", "p", nil, "run only these profiles or columns: noise, seed, psk, tls, or a column such as tls-ca-noclock")
	fl.StringVar(&o.board, "board", "", "run on a board's relay path (not yet available: arrives with the board harness)")
	fl.StringVarP(&o.out, "out", "o", "", "write the results JSON to this file")
	fl.StringVar(&o.seed, "seed", "shakedown", "fixture seed of the simulated devices and server keys")
	fl.StringVar(&o.fixtureFS, "fixtures", "", "load the fixture set from this directory instead of --seed")
	fl.BoolVar(&o.list, "list", false, "list the scenarios with each cell's expected outcome and its source, and exit")
	fl.BoolVar(&o.all, "all", false, "print the evidence of every cell, not only of the attacks that succeeded and the surprises")
	cmd := &cobra.Command{Use: "mitm", Short: "Man-in-the-middle and replay lab: attack proxy and scenario matrix"}
	cmd.AddCommand(run)
	root.AddCommand(cmd)
}

// selectsSeed reports whether a selection runs seed-profile devices.
func selectsSeed(sel mitm.Selection) bool {
	if len(sel.Columns) == 0 {
		return true
	}
	for _, c := range sel.Columns {
		if strings.HasPrefix(c, "seed") {
			return true
		}
	}
	return false
}
