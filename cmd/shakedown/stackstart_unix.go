//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"
)

// stackStartSetting makes new goroutines start with the smallest stack
// (2 KiB), not with the average of the stacks the last collection saw.
// serve and sim hold a goroutine or two per connection. The average is
// pulled up by each server session's read loop, which mochi's frames keep
// at 16 KiB; a write loop that started at that average never shrinks back,
// since a collection halves a stack only while a quarter of it holds what
// is in use. Measured: 4 KiB less per server session (docs/benchmarks.md,
// "Memory per device").
//
// The runtime reads the setting once, at start, from GODEBUG, and
// //go:debug does not accept it; so the process executes itself again,
// same PID, arguments and environment, with the setting added.
const stackStartSetting = "adaptivestackstart=0"

// restartWithStackStart replaces the process with itself under
// stackStartSetting, unless GODEBUG already has an adaptivestackstart (the
// user's choice wins, and the restarted process stops here). It returns
// only when it did not restart.
func restartWithStackStart() {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "adaptivestackstart=") {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	if godebug != "" {
		godebug += ","
	}
	// The runtime reads the first GODEBUG of the environment: the old one
	// goes, even when empty, or the process would restart for ever.
	env := []string{"GODEBUG=" + godebug + stackStartSetting}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	// On success Exec does not return; on failure the process goes on as
	// it is, at most 4 KiB a session heavier.
	_ = syscall.Exec(self, os.Args, env)
}
