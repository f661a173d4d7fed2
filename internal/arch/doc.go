// Package arch holds the specs that keep the project's shape honest:
//
//   - the import rules of docs/architecture.md ("Rooms and what each may
//     import") agree with what `go list` says the packages import;
//   - no function outside tests runs over 100 lines, except the ones named
//     in long.go, which read like the specification they implement.
//
// It has no code of its own to import: `go test ./internal/arch` is the
// check, and `make test` runs it with every other package.
package arch
