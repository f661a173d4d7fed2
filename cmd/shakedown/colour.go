package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// colour reports whether output to w may carry ANSI colours: w is a
// terminal, NO_COLOR is unset or empty (no-color.org) and TERM is not
// "dumb". Nothing else in shakedown colours its output.
func colour(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
