package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults of New's interval and burst.
const (
	DefaultInterval = 10 * time.Second
	DefaultBurst    = 5
)

// maxKeys bounds the keys a Logger tracks. Keys are reason codes, a fixed
// set; past the bound every new key shares overflowKey.
const (
	maxKeys     = 256
	overflowKey = "\x00overflow"
)

// Logger writes rate-limited records at info. The zero value and nil log
// nothing. It is safe for concurrent use.
type Logger struct {
	log      *slog.Logger
	interval time.Duration
	burst    int
	now      func() time.Time

	mu   sync.Mutex
	keys map[string]*window
}

// window is one key's current interval.
type window struct {
	start      time.Time
	logged     int
	suppressed int
}

// New returns a Logger writing to log (nil: nowhere) at most burst records
// per key and interval.
func New(log *slog.Logger, interval time.Duration, burst int) *Logger {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if burst < 1 {
		burst = DefaultBurst
	}
	return &Logger{log: log, interval: interval, burst: burst, now: time.Now, keys: map[string]*window{}}
}

// Info logs msg and args at info, unless key already logged burst records
// in the current interval. A record that follows suppressed ones carries
// "suppressed" with their number.
func (l *Logger) Info(key, msg string, args ...any) {
	if l == nil || l.log == nil || !l.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	n, ok := l.admit(key)
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Info(msg, args...)
}

// admit reports whether key may log now, and how many of its records were
// suppressed since its last one.
func (l *Logger) admit(key string) (suppressed int, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, found := l.keys[key]
	if !found {
		if len(l.keys) >= maxKeys {
			key = overflowKey
			w, found = l.keys[key]
		}
		if !found {
			w = &window{start: now}
			l.keys[key] = w
		}
	}
	if now.Sub(w.start) >= l.interval {
		w.start, w.logged = now, 0
	}
	if w.logged >= l.burst {
		w.suppressed++
		return 0, false
	}
	w.logged++
	suppressed, w.suppressed = w.suppressed, 0
	return suppressed, true
}
