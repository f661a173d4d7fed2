package boardproto

import (
	"encoding/binary"
	"errors"
	"fmt"

	"shakedown/handshake"
)

// Frame is one decoded frame.
type Frame struct {
	Version byte // Version when zero at encoding
	Type    Type
	Seq     byte
	Payload []byte
}

func (f Frame) String() string {
	return fmt.Sprintf("%s seq=%d len=%d", f.Type, f.Seq, len(f.Payload))
}

var (
	errShortBody  = errors.New("boardproto: frame shorter than its header and checksum")
	errLongBody   = errors.New("boardproto: frame longer than the maximum")
	errLenField   = errors.New("boardproto: length field disagrees with the frame")
	errChecksum   = errors.New("boardproto: checksum mismatch")
	errPayloadMax = errors.New("boardproto: payload longer than 255 bytes")
)

// AppendBody appends the body of f (before COBS) to dst.
func AppendBody(dst []byte, f Frame) ([]byte, error) {
	if len(f.Payload) > MaxPayload {
		return dst, fail(StageLink, handshake.ReasonOversizeFrame, errPayloadMax)
	}
	v := f.Version
	if v == 0 {
		v = Version
	}
	start := len(dst)
	dst = append(dst, v, byte(f.Type), f.Seq, byte(len(f.Payload)))
	dst = append(dst, f.Payload...)
	return binary.BigEndian.AppendUint16(dst, CRC16(dst[start:])), nil
}

// AppendFrame appends f as it travels on the wire to dst: a delimiter, the
// COBS-encoded body and a closing delimiter.
// A payload longer than MaxPayload is refused.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	var buf [MaxBodyLen]byte
	body, err := AppendBody(buf[:0], f)
	if err != nil {
		return dst, err
	}
	dst = append(dst, Delimiter)
	dst = appendCOBS(dst, body)
	return append(dst, Delimiter), nil
}

// DecodeFrame decodes one COBS-encoded body (the bytes between two
// delimiters). The payload of the result aliases a fresh buffer. Frames of
// any version are returned when their checksum holds: bytes 0-3 and the CRC
// keep their place in every version.
func DecodeFrame(enc []byte) (Frame, error) {
	if len(enc) > MaxEncodedLen {
		return Frame{}, fail(StageLink, handshake.ReasonOversizeFrame, errLongBody)
	}
	body, err := appendUnCOBS(make([]byte, 0, len(enc)), enc)
	if err != nil {
		return Frame{}, fail(StageLink, handshake.ReasonMalformed, err)
	}
	return ParseBody(body)
}

// ParseBody decodes a frame body (after COBS). The payload aliases body.
func ParseBody(body []byte) (Frame, error) {
	switch {
	case len(body) < MinBodyLen:
		return Frame{}, fail(StageLink, handshake.ReasonShortFrame, errShortBody)
	case len(body) > MaxBodyLen:
		return Frame{}, fail(StageLink, handshake.ReasonOversizeFrame, errLongBody)
	}
	n := len(body) - CRCLen
	if binary.BigEndian.Uint16(body[n:]) != CRC16(body[:n]) {
		return Frame{}, fail(StageLink, handshake.ReasonBadChecksum, errChecksum)
	}
	if int(body[3]) != n-HeaderLen {
		return Frame{}, fail(StageLink, handshake.ReasonMalformed, errLenField)
	}
	return Frame{Version: body[0], Type: Type(body[1]), Seq: body[2], Payload: body[HeaderLen:n]}, nil
}
