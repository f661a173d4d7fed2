package app

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The allocation rates that make the server quiet and busy again, for
// serve --idle-gc-percent (the collector's target while it is quiet).
//
// Go's collector lets garbage grow to GOGC % of the live heap and the
// goroutine stacks together before it collects. A server holding many idle
// sessions is mostly stacks (mochi's two goroutines a session, 20 KiB),
// and mochi's once-a-second housekeeping copies its map of clients twice
// a second: at GOGC 100 and 20,000 idle sessions the resident memory
// climbs by 8-11 KiB a session between collections, a minute or more
// apart. A device's publish also grows its read loop's stack to 32 KiB
// until a collection halves it again; a ping does not (docs/benchmarks.md,
// "The floor: mochi by itself"). Collecting sooner costs little while
// little is allocated, and a lot while devices connect: at 25 % the
// server's CPU per handshake rose 12-15 % under a connect storm. So the
// lower target holds only while the server allocates little.
const (
	// gcQuietRate: below it for gcQuietWindows windows in a row, the
	// server is quiet.
	gcQuietRate    = 8 << 20 // bytes a second
	gcQuietWindows = 10
	// gcBusyRate: above it for one window, the server is busy: a connect
	// storm after a quiet spell gets Go's default target within a window.
	gcBusyRate = 16 << 20
	// gcWindow is how often the rate is read.
	gcWindow = time.Second
)

// gcPacer switches the collector's target (GOGC) between idle, while the
// server allocates little, and busy otherwise.
type gcPacer struct {
	idle, busy int
	set        func(percent int) int // debug.SetGCPercent
	release    func()                // debug.FreeOSMemory
	log        *slog.Logger
}

// pace is a gcPacer's state: the target set, and how many windows in a
// row have been quiet.
type pace struct {
	target, quiet int
}

// next is the state after a window in which the server allocated rate
// bytes a second. Between the two rates the target stays as it is, so
// that a rate near one of them does not make it flap.
func (p gcPacer) next(s pace, rate float64) pace {
	switch {
	case rate > gcBusyRate:
		return pace{target: p.busy}
	case rate < gcQuietRate:
		s.quiet++
		if s.quiet >= gcQuietWindows {
			s.target = p.idle
		}
		return s
	}
	s.quiet = 0
	return s
}

// run reads the allocation rate every window until ctx is done, and sets
// the target next gives. It leaves the busy target set when it returns.
func (p gcPacer) run(ctx context.Context, window time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	last, s := sample[0].Value.Uint64(), pace{target: p.busy}
	t := time.NewTicker(window)
	defer t.Stop()
	defer func() { p.set(p.busy) }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		now := sample[0].Value.Uint64()
		rate := float64(now-last) / window.Seconds()
		last = now
		n := p.next(s, rate)
		if n.target != s.target {
			p.set(n.target)
			if n.target == p.idle {
				// What the busy spell left behind is garbage the last
				// collections freed but the runtime keeps resident for
				// reuse; quiet, it is not reused soon. One collection
				// returns it to the kernel now.
				p.release()
			}
			p.log.Debug("collector target", "gogc", n.target, "allocated_mib_per_s", rate/(1<<20))
		}
		s = n
	}
}

// newGCPacer returns the pacer of serve --idle-gc-percent idle, or false
// when there is none to run: idle is 0 (off) or not under Go's default
// target of 100, or the environment sets GOGC (the user's target stays).
func newGCPacer(idle int, log *slog.Logger) (gcPacer, bool) {
	const busy = 100 // Go's default: GOGC is not set
	if idle <= 0 || idle >= busy {
		return gcPacer{}, false
	}
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("GOGC is set: --idle-gc-percent is off", "gogc", v)
		return gcPacer{}, false
	}
	return gcPacer{idle: idle, busy: busy, set: debug.SetGCPercent, release: debug.FreeOSMemory, log: log}, true
}
