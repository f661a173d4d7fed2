package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"shakedown/handshake"
)

// The lean engine reads MQTT 3.1.1 control packets (§2.2) itself up to the
// remaining length, so that a length it would not accept is refused before
// anything is allocated, and hands the rest to paho's codec:
//
//	1B:   packet type (high 4 bits) and flags (low 4 bits: DUP, QoS 2 bits, RETAIN)
//	1-4B: remaining length, 7 bits a byte, least significant first; the high bit says another byte follows
//	..:   variable header and payload (packets.ControlPacket.Unpack)
const (
	maxLengthBytes = 4 // §2.2.3: at most four bytes of remaining length
	// maxLeanPacket is the largest packet a lean device accepts: a message
	// of the largest payload a scenario sends, with a topic of up to 64 KiB.
	maxLeanPacket = MaxPayloadSize + 1<<16
)

// Errors of the packets a lean device reads; each is wrapped in a
// *handshake.Error whose reason is the metric label and the report column.
var (
	ErrOversizePacket   = errors.New("simulator: packet longer than the limit")
	ErrMalformedPacket  = errors.New("simulator: malformed packet")
	ErrUnexpectedPacket = errors.New("simulator: packet a server does not send")
)

// serverPackets are the packet types a server sends a client (§2.2.1).
var serverPackets = [16]bool{packets.Connack: true, packets.Publish: true, packets.Puback: true, packets.Pubrec: true,
	packets.Pubrel: true, packets.Pubcomp: true, packets.Suback: true, packets.Unsuback: true, packets.Pingresp: true}

// readPacket reads one control packet of at most max bytes of remaining
// length from r. Its errors are r's, or a *handshake.Error of profile p at
// StageTransport; none of them quotes the bytes read.
func readPacket(r io.Reader, p handshake.Name, max int) (packets.ControlPacket, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, err
	}
	n, err := readRemainingLength(r)
	if err != nil {
		return nil, err
	}
	fh := packets.FixedHeader{MessageType: b[0] >> 4, Dup: b[0]&0x08 != 0, Qos: b[0] >> 1 & 0x03, Retain: b[0]&0x01 != 0, RemainingLength: n}
	switch {
	case n < 0:
		return nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonMalformed, ErrMalformedPacket)
	case n > max:
		return nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonOversizePacket, ErrOversizePacket)
	case !serverPackets[fh.MessageType]:
		return nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
	}
	cp, err := packets.NewControlPacketWithHeader(fh)
	if err != nil {
		return nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if err := cp.Unpack(bytes.NewBuffer(body)); err != nil || !wellFormed(cp) {
		return nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonMalformed, ErrMalformedPacket)
	}
	return cp, nil
}

// readRemainingLength decodes the remaining length (§2.2.3); -1 when it
// runs over four bytes.
func readRemainingLength(r io.Reader) (int, error) {
	var b [1]byte
	n, shift := 0, 0
	for range maxLengthBytes {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		n |= int(b[0]&0x7f) << shift
		if b[0]&0x80 == 0 {
			return n, nil
		}
		shift += 7
	}
	return -1, nil
}

// wellFormed checks what paho's codec leaves unchecked: a PUBLISH of QoS 3
// (§3.3.1.2), a QoS 1 or 2 PUBLISH with packet identifier 0 (§2.3.1).
func wellFormed(cp packets.ControlPacket) bool {
	if p, ok := cp.(*packets.PublishPacket); ok {
		return p.Qos < 3 && (p.Qos == 0 || p.MessageID != 0)
	}
	return true
}

// connackError is the error of a CONNACK that refuses the connection: paho's
// own error of the return code (packets.ConnErrors), as paho's Connect
// returns it, so FailureReason reads both engines alike.
func connackError(code byte) error {
	if err, ok := packets.ConnErrors[code]; ok && err != nil {
		return fmt.Errorf("simulator: mqtt connect: %w", err)
	}
	return fmt.Errorf("simulator: mqtt connect: %w", packets.ErrorRefusedServerUnavailable)
}
