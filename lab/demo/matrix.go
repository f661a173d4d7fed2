package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"shakedown/fixtures"
	"shakedown/mitm"
	"shakedown/mitm/labserver"
	"shakedown/reports"
)

// runMatrix runs the MITM matrix's cells of sel against the lab's server
// in process. An interrupted matrix returns its verdicts so far.
func runMatrix(ctx context.Context, set *fixtures.Set, sel mitm.Selection, out io.Writer) (*reports.MITM, error) {
	srv, err := labserver.Start(set, nil)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	n := 0
	lab := &mitm.Lab{Set: set, Target: srv, TargetName: "in-process", Progress: func(mitm.Verdict) { n++ }}
	res, err := lab.Run(ctx, sel)
	if err != nil && (res == nil || !res.Interrupted) {
		return nil, err
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		return nil, err
	}
	m, err := reports.ReadMITM(&buf)
	if err != nil {
		return nil, err
	}
	succeeded := 0
	for _, v := range m.Verdicts {
		if v.Outcome == reports.Succeeded {
			succeeded++
		}
	}
	fmt.Fprintf(out, "   %d cells, %d attacks succeeded, %d outcomes other than expected\n", n, succeeded, m.Mismatches)
	return m, nil
}
