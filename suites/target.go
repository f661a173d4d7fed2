package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"shakedown/boards"
	"shakedown/boards/virtual"
	"shakedown/fixtures"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/reports"
)

// board is the board under test, opened.
type board struct {
	*harness.Board
	Kind    string // reports.KindVirtual, KindEmulated or KindReal
	Profile boards.Profile
	Info    bp.Info
	Label   string // e.g. "uno on /dev/ttyACM0"
	closers []func() error
}

// Close closes the link and stops what the target started (a virtual
// board, an emulator), in reverse order.
func (b *board) Close() error {
	var errs []error
	if b.Board != nil {
		errs = append(errs, b.Board.Close())
	}
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// TrustsSetCA reports whether the board trusts the fixture set's CA: the
// virtual board does; the board protocol provisions no CA into firmware.
func (b *board) TrustsSetCA() bool { return b.Kind == reports.KindVirtual }

// Exact reports whether the board's counts are deterministic: an emulator
// counts cycles or instructions exactly.
func (b *board) Exact() bool { return b.Kind == reports.KindEmulated }

// openBoard opens the board cfg names (kind is its Kind).
func openBoard(ctx context.Context, cfg *Config, kind string, set *fixtures.Set) (*board, error) {
	console := cfg.Console
	if console == nil {
		console = io.Discard
	}
	b := &board{}
	var err error
	switch kind {
	case KindVirtual:
		err = b.openVirtual(ctx, cfg, console, set)
	case KindEmulated:
		err = b.openEmulated(ctx, cfg, console)
	case KindBoard:
		b.Kind = reports.KindReal
		w := boards.Where{Port: cfg.Port, Serial: cfg.Serial, Board: cfg.Board, ProfileFile: cfg.ProfileFile, Baud: cfg.Baud}
		b.Board, b.Profile, err = w.Open(ctx, console, func(o *harness.Options) { o.Console = console })
		if err == nil {
			b.Label = b.Profile.Name + " on " + b.Board.PortName()
		}
	default:
		err = fmt.Errorf("suites: %s is not a board target", kind)
	}
	if err == nil {
		b.Info, err = b.Board.Info(ctx)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// openVirtual starts a virtual board that trusts the fixture set's CA, with
// the lab's device build date as its clock in ca-noclock mode, as a device
// of that set would.
func (b *board) openVirtual(ctx context.Context, cfg *Config, console io.Writer, set *fixtures.Set) error {
	name := cfg.Board
	if name == "" && cfg.ProfileFile == "" {
		name = "virtual"
	}
	prof, err := profileOf(name, cfg.ProfileFile)
	if err != nil {
		return err
	}
	vcfg := virtual.FromProfile(prof, "SUITES-"+strings.ToUpper(prof.Name), cfg.Slow)
	vcfg.Console = console
	vcfg.TLSRoots, vcfg.BuildTime = set.Roots, set.BuildDate()
	vb, err := virtual.Start(vcfg)
	if err != nil {
		return fmt.Errorf("starting the virtual board: %w", err)
	}
	b.closers = append(b.closers, vb.Close)
	b.Kind, b.Profile = reports.KindVirtual, prof
	b.Label = "virtual board"
	if prof.Name != "virtual" {
		b.Label = "virtual " + prof.Name
	}
	if cfg.Slow {
		b.Label += " (slow)"
	}
	opts := prof.Options()
	opts.SerialNumber, opts.Console = vb.Serial(), console
	b.Board, err = harness.Open(ctx, vb.Path(), opts)
	return err
}

func profileOf(name, file string) (boards.Profile, error) {
	if file != "" {
		return boards.Load(file)
	}
	return boards.Lookup(name)
}
