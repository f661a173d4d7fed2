// Package cli tests `shakedown test` as a user runs it: the binary, built
// once, runs the suites against a virtual board and writes JUnit, ginkgo's
// JSON, the board's measurements and the summary; a board whose profile
// cannot be met fails with exit status 1 and a failing JUnit case; flags
// that name no single target are refused with exit status 2 before anything starts.
//
//	go test ./suites/cli/
package cli
