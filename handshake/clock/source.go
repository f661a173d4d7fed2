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

// A Source fails in one of two ways, ErrUnavailable or ErrRejected; a
// rejected answer's error also wraps the check that failed, one of the
// others: the answer parses; it answers this request (Roughtime's NONC,
// SNTP's originate timestamp echoing the request's transmit timestamp);
// SNTP's sanity checks (RFC 5905); Roughtime's two signatures and the
// signed response's time, Merkle path and version (§5.4, §5.2.5, §5.3.1).
var (
	ErrUnavailable = errors.New("clock: no time server answered")
	ErrRejected    = errors.New("clock: the time server's answer failed its check")

	ErrMalformed, ErrNonce = errors.New("clock: the answer does not parse"), errors.New("clock: the answer is not for this request")
	ErrUnusable            = errors.New("clock: the server declares its time unusable")

	ErrDelegation = errors.New("clock: the delegation is not signed by the pinned key")
	ErrSignature  = errors.New("clock: the signed response does not verify under the delegated key")

	ErrValidity, ErrMerkle = errors.New("clock: the response's time lies outside its delegation"), errors.New("clock: the request is not in the signed Merkle tree")
	ErrVersion             = errors.New("clock: the response's version was not requested")
)

// QueryTimeout bounds one query (tuning: beevik/ntp's default); a nearer
// deadline of ctx shortens it. A device that waited for its whole
// handshake deadline would leave its host no time to hear why it failed.
const QueryTimeout = 5 * time.Second

// timeout returns how long a query may take under ctx.
func timeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return time.Millisecond
		}
		return min(left, QueryTimeout)
	}
	return QueryTimeout
}

// rejected wraps a failed check in ErrRejected.
type rejected struct{ check error }

func (e *rejected) Error() string   { return e.check.Error() }
func (e *rejected) Unwrap() []error { return []error{ErrRejected, e.check} }

func reject(check error) error { return &rejected{check: check} }
