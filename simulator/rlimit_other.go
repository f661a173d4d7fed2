//go:build !unix

package simulator

import "errors"

// ErrFileLimit is a file-descriptor limit below what the run needs.
var ErrFileLimit = errors.New("simulator: the file-descriptor limit is below what the run needs")

// RaiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func RaiseFileLimit(need uint64) (uint64, error) { return 0, nil }

// FileLimit returns 0 where there is no RLIMIT_NOFILE.
func FileLimit() uint64 { return 0 }
