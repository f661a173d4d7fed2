package measure

import (
	"context"
	"time"

	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/reports"
)

// Handshake runs one handshake on board b and reports it against limit (0:
// none): the board's own counts, as time where the unit converts, and the
// host's wall time from request to result. On success the session is
// returned open for the caller to use and close; on failure h.Reason names
// why and err is the harness's error.
func Handshake(ctx context.Context, b *harness.Board, o harness.HandshakeOptions, in bp.Info, limit time.Duration) (reports.Handshake, *harness.Session, error) {
	start := time.Now()
	s, err := b.Handshake(ctx, o)
	wall := time.Since(start)
	h := reports.Handshake{Profile: string(o.Profile), WallMS: ms(wall), LimitMS: ms(limit)}
	if err != nil {
		h.Reason = string(handshake.ReasonOf(err))
		return h, nil, err
	}
	r := s.Result
	h.OK, h.Total, h.Crypto, h.Unit, h.Sent, h.Received = true, r.Total, r.Crypto, r.Unit.String(), int(r.Sent), int(r.Received)
	if d, ok := AsDuration(float64(r.Total), r.Unit, in.ClockHz); ok {
		h.BoardMS = ms(d)
	}
	return h, s, nil
}

// BoardDuration is the handshake's time on the board itself (its own
// count through its clock) when the unit converts, else the wall time.
func BoardDuration(h reports.Handshake) time.Duration {
	if h.BoardMS > 0 {
		return time.Duration(h.BoardMS * float64(time.Millisecond))
	}
	return time.Duration(h.WallMS * float64(time.Millisecond))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
