package simulator

import (
	"encoding/binary"
	"errors"
)

// A simulated device's publish payload starts with a header that lets the
// end-to-end subscriber match it to its publish without clock skew (the
// subscriber runs in the same process):
//
//	8B: run ID, random per process: messages of other runs and shards are ignored
//	4B: slot number, big-endian
//	4B: sequence number within the slot, big-endian, from 0
//	8B: scheduled publish time, Unix nanoseconds, big-endian
//	    (latency counts from the schedule, not from the actual send)
//	..: padding (zero bytes) up to Scenario.PayloadSize
const (
	runIDLen         = 8
	PayloadHeaderLen = runIDLen + 4 + 4 + 8
)

// ErrPayload is a payload too short for the header. It is counted, never
// echoed.
var ErrPayload = errors.New("simulator: payload shorter than its header")

// payloadHeader is the decoded header of a payload.
type payloadHeader struct {
	Run       [runIDLen]byte
	Slot, Seq uint32
	Scheduled int64 // Unix nanoseconds
}

// appendPayload appends a payload of size bytes to dst.
func appendPayload(dst []byte, h payloadHeader, size int) []byte {
	dst = append(dst, h.Run[:]...)
	dst = binary.BigEndian.AppendUint32(dst, h.Slot)
	dst = binary.BigEndian.AppendUint32(dst, h.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.Scheduled))
	for range size - PayloadHeaderLen {
		dst = append(dst, 0)
	}
	return dst
}

// parsePayload decodes a payload's header.
func parsePayload(b []byte) (payloadHeader, error) {
	var h payloadHeader
	if len(b) < PayloadHeaderLen {
		return h, ErrPayload
	}
	copy(h.Run[:], b)
	b = b[runIDLen:]
	h.Slot = binary.BigEndian.Uint32(b)
	h.Seq = binary.BigEndian.Uint32(b[4:])
	h.Scheduled = int64(binary.BigEndian.Uint64(b[8:]))
	return h, nil
}
