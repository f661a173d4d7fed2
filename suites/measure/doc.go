// Package measure turns what a board does into the figures reports show:
// it provisions a board as a device of a fixture set, plans benchmarks from
// what the board says it can do, runs a timed handshake, and converts the
// board's own counts into time where the unit allows.
//
// The suites, the demo and the board commands share it, so a figure means
// the same wherever it is printed:
//
//	pv, err := measure.Provisioning(set, dev)      // the board becomes dev
//	pv, err = measure.ProvisionOf(id)               // or a fixtures.Identity of other options
//	err = b.Provision(ctx, pv)
//	h, s, err := measure.Handshake(ctx, b, opts, in, limit)
//	defer s.Close()                                 // h is a reports.Handshake
//
//	reqs, err := measure.BenchPlan(in, measure.BenchSpec{Sizes: []int{64}, Iterations: 4})
//	for _, r := range reqs { res, err := b.Bench(ctx, r.Request); rb.Bench = append(rb.Bench, r.Report(res)) }
package measure
