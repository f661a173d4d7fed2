package reports

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the matrix, scenario by column, then the evidence of
// the cells that matter: every SUCCEEDED, LOCKED OUT and ERROR cell and
// every outcome other than expected; with all, every cell. A run on a board
// ends with the cells not applicable on it, each with its reason.
func (m *MITM) WriteText(w io.Writer, all bool) error {
	verdicts := map[[2]string]Verdict{}
	for _, list := range [][]Verdict{m.Verdicts, m.NotApplicable} {
		for _, v := range list {
			verdicts[[2]string{v.Scenario, v.Column}] = v
		}
	}
	fmt.Fprintf(w, "MITM matrix: %d cells, %d not as expected (fixtures %q, target %s, %s)\n",
		len(m.Verdicts), m.Mismatches, m.FixturesSeed, m.Target, (time.Duration(m.DurationMS) * time.Millisecond).Round(time.Millisecond))
	if b := m.Board; b != nil {
		fmt.Fprintf(w, "on board %q (%s, firmware %q, serial %q) through its relay; %d cells not applicable on it\n",
			b.Board, b.Chip, b.Firmware, b.Serial, len(m.NotApplicable))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\t\n", strings.Join(m.Columns, "\t"))
	for _, s := range m.Scenarios {
		row := []string{s}
		for _, c := range m.Columns {
			v, ok := verdicts[[2]string{s, c}]
			switch {
			case !ok:
				row = append(row, "-")
			case v.AsExpected || v.Outcome == NotApplicable:
				row = append(row, v.Outcome.Label())
			default:
				row = append(row, v.Outcome.Label()+"!")
			}
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nrejected: the attack failed, a side was seen refusing it; SUCCEEDED: the attack worked, evidence below;\n"+
		"failed closed: the attacker withheld the device's time and it refused to connect unchecked;\n"+
		"survived / LOCKED OUT: a legitimate server change; !: not the expected outcome; -: no such cell.\n")
	if m.Board != nil {
		fmt.Fprintf(w, "n/a: the cell has no meaning on this board (reasons below); it is not a mismatch.\n")
	}
	header := false
	for _, v := range m.Verdicts {
		if !all && v.AsExpected && (v.Outcome == Rejected || v.Outcome == Survived) {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nEvidence\n")
			header = true
		}
		writeVerdict(w, v)
	}
	if len(m.NotApplicable) > 0 {
		fmt.Fprintf(w, "\nNot applicable on this board\n\n")
		for _, v := range m.NotApplicable {
			fmt.Fprintf(w, "  %s × %s (expected %s): %s\n", v.Scenario, v.Column, v.Expected.Label(), v.NotApplicable)
		}
	}
	return nil
}

func writeVerdict(w io.Writer, v Verdict) {
	exp := "expected"
	if !v.AsExpected {
		exp = "EXPECTED " + v.Expected.Label()
	}
	fmt.Fprintf(w, "\n  %s × %s (device %s): %s (%s)\n", v.Scenario, v.Column, v.Device, v.Outcome.Label(), exp)
	fmt.Fprintf(w, "    source: %s\n", v.Source)
	if v.Error != "" {
		fmt.Fprintf(w, "    error: %s\n", v.Error)
	}
	for _, f := range v.Evidence {
		fmt.Fprintf(w, "    - %s\n", f)
	}
}
