//go:build unix

package simulator

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrFileLimit is a file-descriptor limit below what the run needs.
var ErrFileLimit = errors.New("simulator: the file-descriptor limit is below what the run needs")

// RaiseFileLimit raises the soft limit on open files (RLIMIT_NOFILE) to
// need, or to the hard limit when need is higher; a privileged process also
// raises the hard limit to need. It returns the limit in force and, when
// that is below need, an error wrapping ErrFileLimit that says how to raise it.
func RaiseFileLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("simulator: reading the file-descriptor limit: %w", err)
	}
	if lim.Cur >= need {
		return lim.Cur, nil
	}
	if lim.Max < need {
		// Needs privilege (CAP_SYS_RESOURCE); harmless to try.
		want := syscall.Rlimit{Cur: need, Max: need}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			return need, nil
		}
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("simulator: raising the file-descriptor limit: %w", err)
	}
	if lim.Cur < need {
		return lim.Cur, fmt.Errorf("%w: %d open files needed, the hard limit is %d and this process may not raise it; "+
			"raise it before starting (ulimit -Hn %d as root, LimitNOFILE= in a systemd unit, --ulimit nofile=%d:%d for a container), "+
			"or split the fleet with --shard", ErrFileLimit, need, lim.Cur, need, need, need)
	}
	return lim.Cur, nil
}

// FileLimit returns the soft limit on open files.
func FileLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return lim.Cur
}
