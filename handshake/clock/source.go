package clock

import (
	"context"
	"errors"
	"time"
)

// Source is a device's network clock.
type Source interface {
	// Time asks the time server and returns the time it vouches for.
	Time(ctx context.Context) (time.Time, error)
	// Protocol names the source's protocol: "sntp" or "roughtime".
	Protocol() string
}

// The two ways a Source fails. Errors wrap one of them and, for a rejected
// answer, the check that failed (ErrSignature, ErrNonce, ...).
var (
	ErrUnavailable = errors.New("clock: no time server answered")
	ErrRejected    = errors.New("clock: the time server's answer failed its check")
)

// DefaultTimeout bounds one query when ctx has no deadline.
const DefaultTimeout = 5 * time.Second

// timeout returns how long a query may take under ctx.
func timeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left > 0 {
			return left
		}
		return time.Millisecond
	}
	return DefaultTimeout
}

// rejected wraps a failed check in ErrRejected.
type rejected struct{ check error }

func (e *rejected) Error() string   { return e.check.Error() }
func (e *rejected) Unwrap() []error { return []error{ErrRejected, e.check} }

func reject(check error) error { return &rejected{check: check} }
