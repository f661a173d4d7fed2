package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
)

// MQTT constants (MQTT 3.1.1 OASIS Standard; MQTT 5.0 OASIS Standard).
const (
	// maxLengthBytes is the longest Remaining Length: 3.1.1 §2.2.3, 5.0 §1.5.5.
	maxLengthBytes = 4
	// lengthDigit is the value range of one Remaining Length byte.
	lengthDigit = 128

	// Protocol levels of CONNECT (3.1.1 §3.1.2.2, 5.0 §3.1.2.2); level 3 is
	// MQTT 3.1, protocol name "MQIsdp".
	version31  byte = 3
	version311 byte = 4
	version5   byte = 5
)

// Errors of readPacket beside those of the reader.
var (
	errMalformed = causes[handshake.ReasonMalformed]
	errOversize  = causes[handshake.ReasonOversizePacket]
)

// packet is one MQTT control packet as it came off the wire (3.1.1 §2.2,
// 5.0 §2.1):
//
//	1B    packet type (bits 7-4) and flags (bits 3-0)
//	1-4B  Remaining Length: 7 bits a byte, least significant first, bit 7 = more
//	nB    variable header and payload (n = Remaining Length)
type packet struct {
	fh   packets.FixedHeader
	raw  []byte // the whole packet as received
	body []byte // raw after the fixed header
}

// lengthReader hands packets.DecodeLength at most maxLengthBytes bytes and
// keeps them: mochi's decoder would read continuation bytes for ever.
type lengthReader struct {
	r   *bufio.Reader
	buf [maxLengthBytes]byte
	n   int
}

func (l *lengthReader) ReadByte() (byte, error) {
	if l.n == maxLengthBytes {
		return 0, errMalformed
	}
	b, err := l.r.ReadByte()
	if err != nil {
		return 0, err
	}
	l.buf[l.n] = b
	l.n++
	return b, nil
}

// lengthBytes is the number of bytes of the shortest encoding of n, the only
// one allowed (5.0 §1.5.5 [MQTT-1.5.5-1]); refusing the others leaves no room
// for the broker to read a length differently.
func lengthBytes(n int) int {
	b := 1
	for n >= lengthDigit {
		n /= lengthDigit
		b++
	}
	return b
}

// readPacket reads one packet of at most max bytes. It checks the fixed
// header's flags and the length encoding; the rest is decode's job. Errors
// are the reader's, errMalformed or errOversize.
func readPacket(r *bufio.Reader, max int) (packet, error) {
	var p packet
	hb, err := r.ReadByte()
	if err != nil {
		return p, err
	}
	if err := p.fh.Decode(hb); err != nil {
		return p, errMalformed
	}
	lr := lengthReader{r: r}
	n, _, err := packets.DecodeLength(&lr)
	if err != nil {
		if errors.Is(err, errMalformed) || errors.Is(err, packets.ErrMalformedVariableByteInteger) {
			return p, errMalformed
		}
		return p, err
	}
	if lr.n != lengthBytes(n) {
		return p, errMalformed
	}
	head := 1 + lr.n
	if n > max-head {
		return p, errOversize
	}
	p.fh.Remaining = n
	// A fresh buffer per packet: mochi's decoded strings alias it.
	p.raw = make([]byte, head+n)
	p.raw[0] = hb
	copy(p.raw[1:head], lr.buf[:lr.n])
	if _, err := io.ReadFull(r, p.raw[head:]); err != nil {
		return p, err
	}
	p.body = p.raw[head:]
	return p, nil
}

// decode decodes p's variable header and payload with mochi's codec for
// protocol version v (a CONNECT sets its own). mochi's decoders trust some
// inner lengths (a v5 SUBSCRIBE whose last filter lacks its options byte, a
// v5 PUBLISH whose property length overruns the packet index past the end):
// such a panic is a malformed packet too, and touches no shared state.
func decode(p packet, v byte) (pk packets.Packet, err error) {
	defer func() {
		if recover() != nil {
			pk, err = packets.Packet{}, errMalformed
		}
	}()
	pk.FixedHeader = p.fh
	pk.ProtocolVersion = v
	switch p.fh.Type {
	case packets.Connect:
		err = pk.ConnectDecode(p.body)
	case packets.Publish:
		err = pk.PublishDecode(p.body)
	case packets.Puback:
		err = pk.PubackDecode(p.body)
	case packets.Pubrec:
		err = pk.PubrecDecode(p.body)
	case packets.Pubrel:
		err = pk.PubrelDecode(p.body)
	case packets.Pubcomp:
		err = pk.PubcompDecode(p.body)
	case packets.Subscribe:
		err = pk.SubscribeDecode(p.body)
	case packets.Unsubscribe:
		err = pk.UnsubscribeDecode(p.body)
	case packets.Pingreq:
		err = pk.PingreqDecode(p.body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(p.body)
	default:
		err = errMalformed
	}
	if err != nil {
		return packets.Packet{}, errMalformed
	}
	return pk, nil
}

// connack encodes a CONNACK refusing a device of protocol version v: code5
// for MQTT 5 (§3.2.2.2), code3 for 3.1 and 3.1.1 (3.1.1 §3.2.2.3).
func connack(v byte, code5, code3 packets.Code) []byte {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ProtocolVersion: v, ReasonCode: code3.Code}
	if v == version5 {
		pk.ReasonCode = code5.Code
	}
	var buf bytes.Buffer
	pk.ConnackEncode(&buf) // never fails
	return buf.Bytes()
}

// suback encodes a SUBACK refusing every one of n filters of packet id:
// 0x80 Failure in 3.1.1 (§3.9.3), 0x87 Not authorized in 5.0 (§3.9.3).
func suback(v byte, id uint16, n int) []byte {
	code := packets.ErrUnspecifiedError.Code
	if v == version5 {
		code = packets.ErrNotAuthorized.Code
	}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, ProtocolVersion: v, PacketID: id,
		ReasonCodes: bytes.Repeat([]byte{code}, n)}
	var buf bytes.Buffer
	pk.SubackEncode(&buf) // never fails
	return buf.Bytes()
}

// disconnect encodes the DISCONNECT an MQTT 5 server may send before it
// closes the connection (5.0 §3.14, §4.13.2); 3.1.1 has none: nil.
func disconnect(v byte, code packets.Code) []byte {
	if v != version5 {
		return nil
	}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ProtocolVersion: v, ReasonCode: code.Code}
	var buf bytes.Buffer
	pk.DisconnectEncode(&buf) // never fails
	return buf.Bytes()
}
