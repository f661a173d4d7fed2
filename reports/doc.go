// Package reports holds the result model of a shakedown run and renders it:
// a self-contained HTML report (every style and chart inside the file, no
// script, so it opens offline), a Markdown summary for a CI job summary, JSON,
// and a comparison with a stored baseline that fails on a regression.
//
// Reports know nothing of how results were made. The MITM matrix's types
// are this package's own: package mitm makes a MITM, with its Verdicts and
// Facts, and writes it; the other input types mirror the JSON documents the
// other commands write, field for field where the report uses them:
//
//   - MITM: the matrix of `shakedown mitm run --out` (format "shakedown-mitm/1"),
//     which MITM.WriteJSON writes and MITM.WriteText prints;
//   - Sim: the results of `shakedown sim --out` (results version 1), with
//     its HDR histograms, and optionally a Timeline of throughput samples.
//     This is the simulator's own results model, not a mirror: the
//     simulator fills a Sim as it runs, MergeSim merges the shards of one
//     fleet exactly, and Sim.Check is the one check of a results file;
//   - Boards: the board measurements the demo collects (format
//     "shakedown-boards/1"): bench figures per chip, handshake costs per
//     board and profile against the board's limits.
//
// Build a Run from files and write it:
//
//	run := &reports.Run{Title: "nightly"}
//	run.MITM, err = reports.ReadMITMFile("mitm.json")
//	run.Sim, err = reports.ReadSimFile("sim.json")
//	run.Boards, err = reports.ReadBoardsFile("boards.json")
//	err = reports.WriteHTML(f, run)      // charts drawn as inline SVG
//	err = reports.WriteMarkdown(os.Stdout, run)
//
// Compare a run with a stored baseline (a Run's JSON, from WriteJSON):
//
//	c := reports.Compare(baseline, run, reports.DefaultTolerances())
//	if c.Regressed() { ... }
//
// Every Figure keeps all its samples (a board's handshake measured five
// times has five), and Compare sets like beside like. Figures counted by an
// emulator (cycles or instructions on an emulated chip, Board.Exact) are
// deterministic: their best and worst samples are compared with a tolerance
// of zero, so any growth is a regression. Wall-clock figures move with the
// machine's load: their medians are compared with a stated percentage. A
// MITM cell that was as expected and no longer is, and a handshake that
// failed where the baseline's succeeded, are regressions too. A run
// compared with itself never regresses.
//
// The HTML report's charts are SVG drawn in Go by the chart subpackage and
// written into the page: no script, no library fetched at build time, so a
// plain `go build` or `go install` of the binary draws them.
package reports
