package suites

import (
	"context"
	"io"

	"shakedown/boards"
	"shakedown/boards/emulated"
	"shakedown/harness"
	"shakedown/reports"
)

func (b *board) openEmulated(ctx context.Context, cfg *Config, console io.Writer) error {
	eb, err := emulated.Start(ctx, emulated.Config{Chip: cfg.Emulated, Image: cfg.Image, Log: console})
	if err != nil {
		return err
	}
	b.closers = append(b.closers, eb.Close)
	prof, err := boards.Lookup(eb.ProfileName())
	if err != nil {
		return err
	}
	b.Kind, b.Profile = reports.KindEmulated, prof
	b.Label = "emulated " + cfg.Emulated + " (" + prof.Name + ")"
	opts := prof.Options()
	opts.Console = console
	b.Board, err = harness.Open(ctx, eb.Path(), opts)
	return err
}
