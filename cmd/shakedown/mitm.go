package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shakedown/boards"
	"shakedown/boards/virtual"
	"shakedown/fixtures"
	"shakedown/handshake/seed"
	"shakedown/harness"
	"shakedown/lab"
	"shakedown/lab/labserver"
	"shakedown/mitm"
	"shakedown/reports"
)

// mitmOptions are the flags of `shakedown mitm run`.
type mitmOptions struct {
	scenarios, profiles []string
	out, fixtureFS      string
	seed                string
	list, all           bool
	virtual, trustsCA   bool
	cellTimeout         time.Duration
	board               boardFlags
}

// newMITMCmd is `shakedown mitm`, with its one subcommand, run.
func newMITMCmd() *cobra.Command {
	o := &mitmOptions{}
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the man-in-the-middle scenario matrix against simulated devices or a board",
		Long: `Run the MITM lab: an in-process reference server (gateway and embedded broker
on 127.0.0.1), devices of every profile from a fixture set, and an attacker
between them that records, replays, alters, drops, reorders, truncates and
reflects frames, substitutes keys and terminates TLS with the attacker's
certificates.

Each scenario runs on the columns where it means something: noise, seed on
P-256 and secp160r1 (and a device that skips point validation), psk, and tls
with each verification mode. The matrix shows, per cell, "rejected" (a side
was seen refusing the attack) or "SUCCEEDED" with the evidence (what the
attacker read, what a side accepted), and, for legitimate certificate
changes, "survived" or "LOCKED OUT"; "failed closed" when the attacker
withheld a device's time and the device refused to connect unchecked. The
tls columns ca-ntp and ca-roughtime ask a time server before each handshake
(SNTP, or Roughtime under a pinned key, in front of which the attacker
stands too: the seed's clock question). Every cell carries its expected outcome
and the source of that expectation (--list shows them); the exit status is 1
when any outcome differs from its expectation.

The devices are simulated, over a TCP proxy, unless a board is given: then
every cell's device is the board, provisioned with the cell's fixture device
and run in relay mode, and the attacker sits on the relay path between the
board and the server. --virtual starts a virtual board in this process, on a
pseudo-terminal; --port (or --serial) with --board drives a real board, or
the pseudo-terminal of an emulated one or of "shakedown board virtual".
Cells a board cannot run are "n/a", with the reason, and never a mismatch:
profiles and curves its INFO does not list, the seed device that skips point
validation (no board can be provisioned into it), and the tls ca modes unless
--trusts-fixture-ca (the board protocol provisions no CA and no clock; the
virtual board is started trusting the set's CA), and ca-ntp and ca-roughtime
on any board but the virtual one (no time server can be provisioned; the
virtual board is started asking the attacker's). On a slow board raise
--cell-timeout: tamper-handshake runs one handshake per altered byte.

--out writes the matrix as JSON (format shakedown-mitm/1, see package reports),
with the board and the cells not applicable on it. Interrupted (Ctrl-C,
SIGTERM), it writes the cells that ran, marked "interrupted": true, and
exits 3.`,
		Example: `  shakedown mitm run
  shakedown mitm run --list
  shakedown mitm run --scenario impersonate-server --scenario expired-certificate --profile tls
  shakedown mitm run --profile seed-secp160r1 --all --out mitm.json
  # the seed's clock question: a clock set by NTP falls, Roughtime holds
  shakedown mitm run --profile tls-ca-noclock,tls-ca-ntp,tls-ca-roughtime --all

  # the same matrix on a virtual board, through its relay
  shakedown mitm run --virtual --out mitm-board.json
  # an emulated ATmega328P on the pseudo-terminal its runner printed
  shakedown mitm run --port /dev/pts/4 --board simavr-atmega328p --cell-timeout 30m
  # a real board on USB
  shakedown mitm run --port /dev/ttyACM0 --board uno --profile noise --cell-timeout 30m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMITM(cmd, o) },
	}
	o.bind(run.Flags())
	cmd := &cobra.Command{Use: "mitm", Short: "Man-in-the-middle and replay lab: attack proxy and scenario matrix"}
	cmd.AddCommand(run)
	return cmd
}

func (o *mitmOptions) bind(fl *pflag.FlagSet) {
	fl.StringSliceVarP(&o.scenarios, "scenario", "s", nil, "run only these scenarios (repeat or comma-separate; see --list)")
	fl.StringSliceVarP(&o.profiles, "profile", "p", nil, "run only these profiles or columns: noise, seed, psk, tls, or a column such as tls-ca-noclock")
	// -p is --port in the board commands: one meaning for a shorthand.
	fl.MarkShorthandDeprecated("profile", "use --profile (-p is --port elsewhere)")
	fl.StringVarP(&o.out, "out", "o", "", "write the results JSON to this file")
	fl.StringVar(&o.seed, "fixture-seed", "shakedown", "the seed of the fixture set built for the devices and server keys")
	renamed(fl, "seed", "fixture-seed")
	fl.StringVar(&o.fixtureFS, "fixtures", "", "load the fixture set from this directory instead of --fixture-seed")
	fl.BoolVar(&o.list, "list", false, "list the scenarios with each cell's expected outcome and its source, and exit")
	fl.BoolVar(&o.all, "all", false, "print the evidence of every cell, not only of the attacks that succeeded and the surprises")
	fl.BoolVar(&o.virtual, "virtual", false, "run the cells on a virtual board started in this process, through its relay")
	// The board flags of "shakedown board", without -p (here --profile).
	fl.StringVar(&o.board.port, "port", "", "run the cells on the board on this serial port, e.g. /dev/ttyACM0 or an emulator's /dev/pts/N")
	fl.StringVar(&o.board.serial, "serial", "", "find the board by its USB serial number instead of --port")
	fl.StringVarP(&o.board.board, "board", "b", "", "board profile of --port ("+strings.Join(boards.Names(), ", ")+"); recognised from the USB ids when omitted")
	fl.StringVar(&o.board.profileFile, "board-file", "", "a board profile YAML file of your own instead of --board")
	renamed(fl, "profile-file", "board-file")
	fl.IntVar(&o.board.baud, "baud", 0, "override the board profile's baud rate")
	fl.BoolVar(&o.trustsCA, "trusts-fixture-ca", false, "the board of --port trusts the fixture set's CA, with the devices' build date as its ca-noclock clock")
	fl.DurationVar(&o.cellTimeout, "cell-timeout", mitm.DefaultCellTimeout, "bound on each cell; raise it on a slow board")
}

// check refuses board flags that contradict each other.
func (o *mitmOptions) check() error {
	bf := &o.board
	onBoard := bf.port != "" || bf.serial != ""
	switch {
	case o.virtual && (onBoard || bf.board != "" || bf.profileFile != ""):
		return usageErrorf("--virtual starts a board of its own: give it, or --port/--serial with --board, not both")
	case !onBoard && (bf.board != "" || bf.profileFile != "" || bf.baud != 0):
		return usageErrorf("--board: which board? give --port (or --serial) with it, or --virtual")
	case o.trustsCA && !onBoard:
		return usageErrorf("--trusts-fixture-ca: for a board given by --port or --serial (the virtual board trusts the fixture CA already)")
	}
	return nil
}

// runMITM runs the matrix: the fixture set, the board if any, the lab's
// server, the cells, and the results.
func runMITM(cmd *cobra.Command, o *mitmOptions) error {
	out := cmd.OutOrStdout()
	if o.list {
		mitm.WriteCatalogue(out)
		return nil
	}
	if err := o.check(); err != nil {
		return err
	}
	sel := mitm.Selection{Scenarios: o.scenarios, Columns: o.profiles}
	if err := sel.Check(); err != nil {
		return usageError(err)
	}
	var set *fixtures.Set
	var err error
	if o.fixtureFS != "" {
		set, err = fixtures.Load(o.fixtureFS)
	} else {
		set, err = fixtures.Build(fixtures.Options{Seed: o.seed})
	}
	if err != nil {
		return setupError(err)
	}
	progress := cmd.ErrOrStderr()
	l := &lab.Lab{Set: set, TargetName: "in-process", Timeout: o.cellTimeout, Progress: func(v reports.Verdict) {
		mark := ""
		switch {
		case v.Outcome == reports.NotApplicable:
			mark = "  (" + v.NotApplicable + ")"
		case !v.AsExpected:
			mark = "  (expected " + v.Expected.Label() + ")"
		}
		fmt.Fprintf(progress, "%-22s %-24s %s%s\n", v.Scenario, v.Column, v.Outcome.Label(), mark)
	}}
	closeBoard, err := o.openBoard(cmd, l)
	if err != nil {
		return err
	}
	defer closeBoard()
	// A board computes its first handshake message after the harness has
	// connected to the server: the server's handshake deadline takes the
	// board's slack on top of the lab's.
	srv, err := labserver.StartOptions(set, labserver.Options{HandshakeTimeout: labserver.HandshakeTimeout + l.BoardSlack})
	if err != nil {
		return setupError(fmt.Errorf("starting the lab's server: %w", err))
	}
	defer srv.Close()
	l.Target = srv
	// Set up, the run starts: the warning is for a run, not for a board
	// that is not there.
	if selectsSeed(sel) {
		fmt.Fprintln(cmd.ErrOrStderr(), seed.Warning)
	}
	res, err := l.Run(cmd.Context(), sel)
	if err != nil && (res == nil || !res.Interrupted) {
		return setupError(err)
	}
	return o.results(cmd, res)
}

// openBoard opens the board the flags name, if any, as the lab's device
// under test; closeBoard closes it.
func (o *mitmOptions) openBoard(cmd *cobra.Command, l *lab.Lab) (closeBoard func(), err error) {
	ctx, progress := cmd.Context(), cmd.ErrOrStderr()
	switch {
	case o.virtual:
		gate, err := mitm.NewTimeGate()
		if err != nil {
			return nil, setupError(err)
		}
		vb, b, prof, err := startVirtualBoard(ctx, l.Set, gate)
		if err != nil {
			gate.Close()
			return nil, setupError(err)
		}
		l.Board, l.BoardTrustsSetCA, l.BoardSlack = b, true, prof.LongestLimit()
		l.Time, l.BoardAsksTimeGate = gate, true
		fmt.Fprintf(progress, "virtual board %s on %s\n", vb.Serial(), vb.Path())
		return func() { b.Close(); vb.Close(); gate.Close() }, nil
	case o.board.port != "" || o.board.serial != "":
		b, prof, err := o.board.open(ctx, cmd, false)
		if err != nil {
			return nil, err
		}
		l.Board, l.BoardTrustsSetCA, l.BoardSlack = b, o.trustsCA, prof.LongestLimit()
		fmt.Fprintf(progress, "board on %s (profile %s)\n", b.PortName(), prof.Name)
		return func() { b.Close() }, nil
	}
	return func() {}, nil
}

// results prints the matrix, writes it with --out, and says how the run
// ended: interrupted, a mismatch, or as expected.
func (o *mitmOptions) results(cmd *cobra.Command, res *reports.MITM) error {
	progress := cmd.ErrOrStderr()
	fmt.Fprintln(progress)
	if err := res.WriteText(cmd.OutOrStdout(), o.all); err != nil {
		return err
	}
	if o.out != "" {
		if err := res.WriteFile(o.out); err != nil {
			return err
		}
		fmt.Fprintf(progress, "wrote %s\n", o.out)
	}
	if res.Interrupted {
		return interruptedError(fmt.Errorf("interrupted after %d cells; their verdicts are kept", len(res.Verdicts)+len(res.NotApplicable)))
	}
	if res.Mismatches > 0 {
		return checkFailed(fmt.Errorf("mitm: %d of %d verdicts differ from their expectation", res.Mismatches, len(res.Verdicts)))
	}
	return nil
}

// startVirtualBoard starts a virtual board on a pseudo-terminal, trusting
// the set's CA with the lab's build date as its ca-noclock clock, asking
// the attacker's time gate in the network-clock modes and pinning the
// set's Roughtime key, and opens it through the harness as any board.
func startVirtualBoard(ctx context.Context, set *fixtures.Set, gate *mitm.TimeGate) (*virtual.Board, *harness.Board, boards.Profile, error) {
	prof, err := boards.Lookup("virtual")
	if err != nil {
		return nil, nil, prof, err
	}
	key, err := set.RoughtimeKey()
	if err != nil {
		return nil, nil, prof, err
	}
	cfg := virtual.FromProfile(prof, "MITM-VIRTUAL-0001", false)
	cfg.TLSRoots, cfg.BuildTime = set.Roots, set.BuildDate()
	cfg.Clocks = virtual.Clocks{NTP: gate.NTPAddr(), Roughtime: gate.RoughtimeAddr(), RoughtimeKey: key.Public().(ed25519.PublicKey)}
	vb, err := virtual.Start(cfg)
	if err != nil {
		return nil, nil, prof, err
	}
	b, err := harness.Open(ctx, vb.Path(), prof.Options())
	if err != nil {
		vb.Close()
		return nil, nil, prof, fmt.Errorf("opening the virtual board: %w", err)
	}
	return vb, b, prof, nil
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
