package accept

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// The waits after failed accepts: the first, and the longest. A descriptor
// freed by a closing conn is usually back within milliseconds; a second
// bounds both the log (one line a second while the condition lasts) and the
// delay before a recovered listener serves again.
const (
	MinWait = 5 * time.Millisecond
	MaxWait = time.Second
)

// Listener is a net.Listener whose Accept rides out failures: every error
// but a closed listener is reported to its OnError function and retried
// after a wait.
type Listener struct {
	net.Listener
	onError func(err error, wait time.Duration)

	once sync.Once
	done chan struct{} // closed by Close: ends a wait
}

// Wrap returns ln with a patient Accept. onError, which may be nil, is told
// about each failed accept and how long Accept waits before it tries again;
// it runs on the accepting goroutine, so it should be quick (count, log).
func Wrap(ln net.Listener, onError func(err error, wait time.Duration)) *Listener {
	return &Listener{Listener: ln, onError: onError, done: make(chan struct{})}
}

// Accept waits for the next conn. It returns an error only once the
// listener is closed; the error then matches net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	var wait time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			return c, nil
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		wait = next(wait)
		if l.onError != nil {
			l.onError(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-l.done:
			t.Stop()
			return nil, fmt.Errorf("accept: waiting after a failed accept: %w", net.ErrClosed)
		case <-t.C:
		}
	}
}

// Close closes the listener and ends a wait in progress. Safe to call twice.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// next returns the wait after one more failure, given the last wait.
func next(last time.Duration) time.Duration {
	if last <= 0 {
		return MinWait
	}
	return min(2*last, MaxWait)
}
