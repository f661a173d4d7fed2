package reports

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Summary is the verdict of a run in a few numbers, the head of every
// report.
type Summary struct {
	// OK is true when nothing in the run calls for attention: every MITM
	// cell as expected, every legitimate simulated device connected, every
	// board handshake done within its limit.
	OK    bool
	Lines []SummaryLine
}

// SummaryLine is one section's verdict.
type SummaryLine struct {
	Section string
	OK      bool
	Text    string
}

// Summarise computes the run's verdict. A run that was interrupted, that
// could not start, or that has no results is never as expected.
func Summarise(run *Run) Summary {
	s := Summary{OK: true}
	add := func(sec string, ok bool, format string, a ...any) {
		s.Lines = append(s.Lines, SummaryLine{Section: sec, OK: ok, Text: fmt.Sprintf(format, a...)})
		s.OK = s.OK && ok
	}
	if run.SetupError != "" {
		add("Set-up", false, "the run did not start: %s", run.SetupError)
	}
	if run.Interrupted {
		add("Run", false, "interrupted before its end; the results below cover what ran")
	}
	if m := run.MITM; m != nil {
		succeeded, locked, broken, mism := 0, 0, 0, 0
		for _, v := range m.Verdicts {
			switch v.Outcome {
			case Succeeded:
				succeeded++
			case LockedOut:
				locked++
			case Broken:
				broken++
			}
			if !v.AsExpected {
				mism++
			}
		}
		add("MITM matrix", mism == 0 && broken == 0,
			"%d cells, %d as expected; %d attacks succeeded (expected on the insecure profiles and modes), %d lock-outs, %d errors",
			len(m.Verdicts), len(m.Verdicts)-mism, succeeded, locked, broken)
	}
	if sm := run.Sim; sm != nil {
		c := sm.Counts
		text := fmt.Sprintf("%d devices (%d hostile): %d connected, %d failed; %d of %d messages received",
			c.Slots, c.HostileDevices, c.Connected, c.ConnectFailed, c.Received, c.Acked)
		if h := sm.Histograms["connect"]; h != nil && h.Total > 0 {
			q := h.Quantiles(50, 99)
			text += fmt.Sprintf("; connect p50 %s, p99 %s", FormatMicros(q[0]), FormatMicros(q[1]))
		}
		add("Simulated fleet", c.ConnectFailed == 0 && c.Missing == 0, "%s", text)
	}
	if b := run.Boards; b != nil {
		n, ok, within, bench := 0, 0, 0, 0
		for _, bd := range b.Boards {
			bench += len(bd.Bench)
			for _, h := range bd.Handshakes {
				n++
				if h.OK {
					ok++
					if h.WithinLimit() {
						within++
					}
				}
			}
		}
		add("Boards", ok == n && within == n, "%d boards, %d bench figures; %d of %d handshakes done, %d within their limits",
			len(b.Boards), bench, ok, n, within)
	}
	if len(s.Lines) == 0 {
		add("Run", false, "no results: nothing was measured")
	}
	return s
}

// FormatMicros prints microseconds with three significant figures in µs,
// ms or s.
func FormatMicros(us float64) string {
	d := time.Duration(us * float64(time.Microsecond))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", us)
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", us/1e3)
	}
	return fmt.Sprintf("%.3g s", us/1e6)
}

// FormatCount prints a count with thousands separators.
func FormatCount(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Sprint(v)
	}
	neg := v < 0
	n := uint64(math.Round(math.Abs(v)))
	s := fmt.Sprint(n)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// failureRows flattens a stage -> reason -> count map, sorted.
func failureRows(m map[string]map[string]int64) [][3]string {
	var rows [][3]string
	for st, rs := range m {
		for r, n := range rs {
			rows = append(rows, [3]string{st, r, FormatCount(float64(n))})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i][0] != rows[j][0] {
			return rows[i][0] < rows[j][0]
		}
		return rows[i][1] < rows[j][1]
	})
	return rows
}
