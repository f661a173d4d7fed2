// Package version says which build of shakedown is running, for
// `shakedown --version` and for every results file, so that a figure can
// always be traced to the code that made it.
//
// A release build sets the version at link time:
//
//	go build -ldflags "-X shakedown/version.release=v1.2.0" ./cmd/shakedown
//
// Any other build reports what the Go toolchain stamped into the binary: the
// module's version (a pseudo-version from the commit for a build in a git
// checkout, "+dirty" with uncommitted changes), or else the commit itself,
// or "devel" when nothing is known (go run, test binaries).
package version

import (
	"runtime/debug"
	"sync"
)

// release is the version a release build sets with -ldflags -X.
var release string

var once = sync.OnceValue(compute)

// String returns the version of this build; never empty.
func String() string { return once() }

func compute() string {
	if release != "" {
		return release
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
}

// fromBuildInfo picks the most precise version the build info holds.
func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return "devel-" + rev
}
