package handshake

import (
	"encoding/binary"
	"errors"
	"io"
)

// Wire framing shared by noise, seed and psk:
//
//	2B: length L, big-endian
//	LB: message
const (
	FrameHeaderLen = 2
	MaxFrameLen    = 65535 // the largest L; also the Noise spec's maximum message length (§3)
)

// Frame errors, wrapped in an *Error by the profiles.
var (
	ErrOversizeFrame = errors.New("frame longer than the limit")
	ErrEmptyFrame    = errors.New("empty frame")
)

// ReadFrame reads one frame of at most max bytes into buf (grown when needed)
// and returns the message. A frame over max is refused before its body is read.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var hdr [FrameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n > max {
		return nil, ErrOversizeFrame
	}
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// AppendFrame appends the frame holding msg to dst.
func AppendFrame(dst, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...)
}

// WriteFrame writes msg as one frame in a single Write.
func WriteFrame(w io.Writer, msg []byte) error {
	if len(msg) > MaxFrameLen {
		return ErrOversizeFrame
	}
	if len(msg) == 0 {
		return ErrEmptyFrame
	}
	_, err := w.Write(AppendFrame(make([]byte, 0, FrameHeaderLen+len(msg)), msg))
	return err
}

// FrameReason maps a ReadFrame or WriteFrame error to its reason code.
func FrameReason(err error) Reason {
	switch {
	case errors.Is(err, ErrOversizeFrame):
		return ReasonOversizeFrame
	case errors.Is(err, ErrEmptyFrame), errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonShortFrame
	}
	return classify(err)
}
