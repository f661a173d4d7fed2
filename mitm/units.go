package mitm

import (
	"encoding/binary"
	"errors"
	"io"

	"shakedown/handshake"
)

// Framing says how the proxy cuts a byte stream into units, the smallest
// pieces it records, replays, alters, drops, reorders or reflects.
type Framing int

const (
	// FramingFrames is the framing of noise, seed and psk (package handshake):
	//
	//	2B: length L, big-endian
	//	LB: message (a handshake message or one sealed record)
	FramingFrames Framing = iota
	// FramingTLS is the TLS record layer (RFC 8446 §5.1):
	//
	//	1B: content type (20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data)
	//	2B: legacy record version
	//	2B: length L, big-endian, at most 2^14 + 256 (RFC 8446 §5.2)
	//	LB: fragment
	FramingTLS
)

// Layout constants of the two framings.
const (
	frameHeaderLen  = handshake.FrameHeaderLen
	tlsHeaderLen    = 5
	tlsOffType      = 0
	tlsOffLength    = 3
	tlsMaxRecordLen = 1<<14 + 256 // TLSCiphertext.length limit, RFC 8446 §5.2

	// TLSApplicationData is the content type of every encrypted TLS 1.3
	// record (RFC 8446 §5.2): the client's Finished and all application data.
	TLSApplicationData = 23
)

// FramingOf returns the framing of profile p.
func FramingOf(p handshake.Name) Framing {
	if p == handshake.TLS {
		return FramingTLS
	}
	return FramingFrames
}

func (f Framing) headerLen() int {
	if f == FramingTLS {
		return tlsHeaderLen
	}
	return frameHeaderLen
}

// Unit is one frame or TLS record as it travelled.
type Unit struct {
	// Wire is the unit's bytes on the wire: header, then body.
	Wire    []byte
	Framing Framing
}

// Header returns the unit's header.
func (u Unit) Header() []byte { return u.Wire[:u.Framing.headerLen()] }

// Body returns the unit's message: a frame's message or a record's fragment.
func (u Unit) Body() []byte { return u.Wire[u.Framing.headerLen():] }

// ContentType returns a TLS record's content type (0 for a frame).
func (u Unit) ContentType() byte {
	if u.Framing != FramingTLS {
		return 0
	}
	return u.Wire[tlsOffType]
}

// NewUnit builds the unit of framing f carrying body, with the header of
// like (a TLS record keeps its content type and version; a frame has
// nothing else). The length field is set to len(body).
func NewUnit(like Unit, body []byte) Unit {
	h := like.Framing.headerLen()
	wire := make([]byte, h+len(body))
	copy(wire, like.Wire[:h])
	copy(wire[h:], body)
	off := 0
	if like.Framing == FramingTLS {
		off = tlsOffLength
	}
	binary.BigEndian.PutUint16(wire[off:], uint16(len(body)))
	return Unit{Wire: wire, Framing: like.Framing}
}

// StageRelay is the stage of errors of the proxy's own reading: the units
// it could not cut from a stream.
const StageRelay handshake.Stage = "relay"

// Errors of ReadUnit, wrapped in an *handshake.Error.
var (
	errUnitTruncated = errors.New("mitm: stream ended inside a unit")
	errUnitOversize  = errors.New("mitm: TLS record longer than 2^14+256 bytes")
)

// ReadUnit reads the next unit of framing f from r. It returns an
// *handshake.Error of profile p at StageRelay: ReasonIO wrapping io.EOF at
// a clean end of the stream, ReasonShortFrame when the stream ends inside
// a unit, ReasonOversizeFrame for a TLS record over the limit. An empty
// frame is a unit like any other: the proxy passes what it gets.
func ReadUnit(r io.Reader, f Framing, p handshake.Name) (Unit, error) {
	h := f.headerLen()
	hdr := make([]byte, h)
	if n, err := io.ReadFull(r, hdr); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return Unit{}, handshake.Fail(p, StageRelay, handshake.ReasonIO, io.EOF)
		}
		return Unit{}, readFailure(p, err)
	}
	var n int
	if f == FramingTLS {
		n = int(binary.BigEndian.Uint16(hdr[tlsOffLength:]))
		if n > tlsMaxRecordLen {
			return Unit{}, handshake.Fail(p, StageRelay, handshake.ReasonOversizeFrame, errUnitOversize)
		}
	} else {
		n = int(binary.BigEndian.Uint16(hdr))
	}
	wire := make([]byte, h+n)
	copy(wire, hdr)
	if _, err := io.ReadFull(r, wire[h:]); err != nil {
		return Unit{}, readFailure(p, err)
	}
	return Unit{Wire: wire, Framing: f}, nil
}

func readFailure(p handshake.Name, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return handshake.Fail(p, StageRelay, handshake.ReasonShortFrame, errUnitTruncated)
	}
	return handshake.Fail(p, StageRelay, "", err)
}

// isEOF reports whether err is the clean end of a stream.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
