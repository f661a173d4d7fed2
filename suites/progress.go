package suites

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// maxFailureLines bounds the failure message a progress line shows; the
// whole of it is in ginkgo's own report (JSON, JUnit).
const maxFailureLines = 12

// ANSI colours of the progress marks, used only on a terminal that allows
// them (Config.Colour).
const (
	ansiGreen = "\x1b[32m"
	ansiRed   = "\x1b[31m"
	ansiGrey  = "\x1b[90m"
	ansiReset = "\x1b[0m"
)

// writeSpecLine writes one line for a spec that ran or was skipped by the
// spec itself (a profile the board lacks); a spec the label filter left
// out writes nothing. A failure's message follows, indented.
func writeSpecLine(w io.Writer, colour bool, r types.SpecReport) {
	var mark, paint string
	switch {
	case r.State.Is(types.SpecStatePassed):
		mark, paint = "ok", ansiGreen
	case r.State.Is(types.SpecStateSkipped):
		if r.Failure.Message == "" {
			return
		}
		mark, paint = "skip", ansiGrey
	case r.State.Is(types.SpecStatePending):
		return
	case r.State.Is(types.SpecStateInterrupted | types.SpecStateAborted):
		mark, paint = "STOPPED", ansiRed
	default:
		mark, paint = "FAILED", ansiRed
	}
	if colour {
		mark = paint + mark + ansiReset + strings.Repeat(" ", max(0, 7-len(mark)))
	} else {
		mark = fmt.Sprintf("%-7s", mark)
	}
	fmt.Fprintf(w, "%s %s (%s)\n", mark, r.FullText(), r.RunTime.Round(time.Millisecond))
	switch {
	case r.State.Is(types.SpecStateSkipped):
		fmt.Fprintf(w, "        %s\n", firstLine(r.Failure.Message))
	case r.State.Is(types.SpecStateInterrupted | types.SpecStateAborted):
		fmt.Fprintln(w, "        interrupted")
	case r.State.Is(types.SpecStateFailureStates):
		lines := strings.Split(strings.TrimRight(r.Failure.Message, "\n"), "\n")
		if len(lines) > maxFailureLines {
			lines = append(lines[:maxFailureLines], "...")
		}
		for _, l := range lines {
			fmt.Fprintf(w, "        %s\n", l)
		}
		fmt.Fprintf(w, "        at %s\n", r.Failure.Location)
	}
}

// writeRunLine writes the counts of the run.
func writeRunLine(w io.Writer, r types.Report) {
	var passed, failed, skipped, stopped int
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		switch {
		case s.State.Is(types.SpecStatePassed):
			passed++
		case s.State.Is(types.SpecStateSkipped | types.SpecStatePending):
			skipped++
		case s.State.Is(types.SpecStateInterrupted | types.SpecStateAborted):
			stopped++
		default:
			failed++
		}
	}
	line := fmt.Sprintf("\n%d specs ran in %s: %d passed, %d failed", passed+failed+stopped, r.RunTime.Round(time.Millisecond), passed, failed)
	if stopped > 0 {
		line += fmt.Sprintf(", %d stopped", stopped)
	}
	fmt.Fprintf(w, "%s; %d skipped\n", line, skipped)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
