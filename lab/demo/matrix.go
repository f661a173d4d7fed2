package demo

import (
	"context"
	"fmt"
	"io"

	"shakedown/fixtures"
	"shakedown/lab"
	"shakedown/lab/labserver"
	"shakedown/mitm"
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
	l := &lab.Lab{Set: set, Target: srv, TargetName: "in-process", Progress: func(reports.Verdict) { n++ }}
	res, err := l.Run(ctx, sel)
	if err != nil && (res == nil || !res.Interrupted) {
		return nil, err
	}
	succeeded := 0
	for _, v := range res.Verdicts {
		if v.Outcome == reports.Succeeded {
			succeeded++
		}
	}
	fmt.Fprintf(out, "   %d cells, %d attacks succeeded, %d outcomes other than expected\n", n, succeeded, res.Mismatches)
	return res, nil
}
