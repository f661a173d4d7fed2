package clock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/ntp"
)

// SNTP is a device's clock set by SNTP (RFC 4330) from one server. Nothing
// in the answer is authenticated: whoever answers sets the device's time.
type SNTP struct{ addr string }

// NewSNTP returns the clock of a device that asks the server at addr.
func NewSNTP(addr string) *SNTP { return &SNTP{addr: addr} }

// Protocol returns "sntp".
func (s *SNTP) Protocol() string { return "sntp" }

// Time asks the server and returns the local clock corrected by the offset
// it measured (RFC 4330 §5: ((T2 - T1) + (T3 - T4)) / 2).
func (s *SNTP) Time(ctx context.Context) (time.Time, error) {
	r, err := ntp.QueryWithOptions(s.addr, ntp.QueryOptions{Timeout: timeout(ctx)})
	if err != nil {
		if errors.Is(err, ntp.ErrServerResponseMismatch) {
			return time.Time{}, reject(ErrNonce)
		}
		return time.Time{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := r.Validate(); err != nil {
		return time.Time{}, reject(ErrUnusable)
	}
	return time.Now().Add(r.ClockOffset), nil
}

// An SNTP message (RFC 4330 §4), 48 bytes:
//
//	1B LI(2) VN(3) Mode(3) | 1B stratum | 1B poll | 1B precision
//	4B root delay | 4B root dispersion | 4B reference identifier
//	8B reference | 8B originate | 8B receive | 8B transmit timestamp
const (
	ntpMsgLen      = 48
	ntpOffRefID    = 12
	ntpOffRef      = 16
	ntpOffOrigin   = 24
	ntpOffReceive  = 32
	ntpOffTransmit = 40
	ntpModeClient  = 3
	ntpModeServer  = 4
	ntpStratum     = 1    // a primary server (RFC 4330 §5)
	ntpPoll        = 4    // 16 s, the minimum poll (RFC 5905 §7.3)
	ntpPrecision   = 0xEC // 2^-20 s, as a signed exponent
	ntpVersionMask = 0x38
	ntpModeMask    = 0x07
	// ntpEraOffset is the seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
	ntpEraOffset = 2_208_988_800
)

// ntpRefID names the responder's reference clock (RFC 4330 §4: four ASCII
// characters at stratum 1).
var ntpRefID = [4]byte{'L', 'A', 'B', 0}

// NTPResponder returns the handler of an SNTP server whose clock is now:
// it answers each well-formed client request with now() as its receive
// and transmit time. Anything else is dropped.
func NTPResponder(now func() time.Time) Handler {
	return func(req []byte) []byte {
		if len(req) < ntpMsgLen || req[0]&ntpModeMask != ntpModeClient {
			return nil
		}
		t := now()
		resp := make([]byte, ntpMsgLen)
		// LI 0, the client's version, mode 4 (server).
		resp[0] = req[0]&ntpVersionMask | ntpModeServer
		resp[1], resp[2], resp[3] = ntpStratum, ntpPoll, ntpPrecision
		copy(resp[ntpOffRefID:], ntpRefID[:])
		putNTPTime(resp[ntpOffRef:], t)
		copy(resp[ntpOffOrigin:ntpOffOrigin+8], req[ntpOffTransmit:ntpOffTransmit+8])
		putNTPTime(resp[ntpOffReceive:], t)
		putNTPTime(resp[ntpOffTransmit:], t)
		return resp
	}
}

// putNTPTime writes t as a 64-bit NTP timestamp: 32 bits of seconds since
// 1900, 32 bits of fraction (RFC 4330 §3).
func putNTPTime(b []byte, t time.Time) {
	secs := uint64(t.Unix() + ntpEraOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	binary.BigEndian.PutUint64(b, secs<<32|frac)
}
