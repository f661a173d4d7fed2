package clock

import (
	"encoding/binary"
	"errors"
	"sort"
)

// Roughtime wire format, draft-ietf-ntp-roughtime-19.
//
// §5, a packet:
//
//	8B "ROUGHTIM" | 4B message length (uint32 LE) | message
//
// §4, a message: N (uint32 LE) | N-1 offsets | N tags | values; tags
// ascending as uint32, offsets multiples of four, the first value at 0.
const (
	rtMagic       = "ROUGHTIM"
	rtHeaderLen   = len(rtMagic) + 4
	rtVersion     = 1    // §5: "The version of Roughtime specified by this document has version number 1."
	rtMinRequest  = 1024 // §5.1: a request message SHOULD be at least 1024 bytes
	rtNonceLen    = 32   // §5.1.2
	rtHashLen     = 32   // §5.3: the first 32 bytes of SHA-512
	rtMaxPath     = 32   // §5.2.4: at most 32 hash values
	rtMaxTags     = 64   // tuning: more tags than any message of the draft has
	rtTypeRequest = 0    // §5.1.3
	rtTypeReply   = 1    // §5.2.3
	// rtMaxVersions is §5.1.1's limit on VER in a request.
	rtMaxVersions = 32
)

// Tags (§4.1.3): ASCII, zero-padded, read as a little-endian uint32.
const (
	tagSIG  uint32 = 0x00474953
	tagVER  uint32 = 0x00524556
	tagSRV  uint32 = 0x00565253
	tagNONC uint32 = 0x434e4f4e
	tagDELE uint32 = 0x454c4544
	tagTYPE uint32 = 0x45505954
	tagPATH uint32 = 0x48544150
	tagRADI uint32 = 0x49444152
	tagPUBK uint32 = 0x4b425550
	tagMIDP uint32 = 0x5044494d
	tagSREP uint32 = 0x50455253
	tagVERS uint32 = 0x53524556
	tagMINT uint32 = 0x544e494d
	tagROOT uint32 = 0x544f4f52
	tagCERT uint32 = 0x54524543
	tagMAXT uint32 = 0x5458414d
	tagINDX uint32 = 0x58444e49
	tagZZZZ uint32 = 0x5a5a5a5a
)

// Signature contexts (§5.2.1, §5.2.6), each with its terminating zero byte.
const (
	ctxResponse   = "RoughTime v1 response signature\x00"
	ctxDelegation = "RoughTime v1 delegation signature\x00"
)

// Merkle tree prefixes (§5.3), and SRV's (§5.1.4).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
	srvPrefix  = 0xff
)

var errMalformed = errors.New("clock: a Roughtime message that does not parse")

// rtMessage is a parsed message: its values by tag.
type rtMessage map[uint32][]byte

// parseMessage parses a §4 message, requiring every rule of §4.2.
func parseMessage(b []byte) (rtMessage, error) {
	if len(b) < 4 || len(b)%4 != 0 {
		return nil, errMalformed
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n == 0 || n > rtMaxTags {
		return nil, errMalformed
	}
	hdr := 4 + 4*(n-1) + 4*n
	if len(b) < hdr {
		return nil, errMalformed
	}
	vals := b[hdr:]
	m := make(rtMessage, n)
	prevTag, prevOff := uint32(0), 0
	for i := range n {
		tag := binary.LittleEndian.Uint32(b[4+4*(n-1)+4*i:])
		off := 0
		if i > 0 {
			off = int(binary.LittleEndian.Uint32(b[4+4*(i-1):]))
			if tag <= prevTag || off < prevOff || off%4 != 0 || off > len(vals) {
				return nil, errMalformed
			}
		}
		end := len(vals)
		if i < n-1 {
			end = int(binary.LittleEndian.Uint32(b[4+4*i:]))
			if end < off || end > len(vals) {
				return nil, errMalformed
			}
		}
		m[tag] = vals[off:end]
		prevTag, prevOff = tag, off
	}
	return m, nil
}

// encodeMessage writes m as a §4 message, tags ascending. Every value's
// length is a multiple of four.
func encodeMessage(m rtMessage) []byte {
	tags := make([]uint32, 0, len(m))
	for t := range m {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(tags)))
	off := 0
	for i, t := range tags {
		if i > 0 {
			out = binary.LittleEndian.AppendUint32(out, uint32(off))
		}
		off += len(m[t])
	}
	for _, t := range tags {
		out = binary.LittleEndian.AppendUint32(out, t)
	}
	for _, t := range tags {
		out = append(out, m[t]...)
	}
	return out
}

// parsePacket returns the message of a §5 packet.
func parsePacket(b []byte) ([]byte, error) {
	if len(b) < rtHeaderLen || string(b[:len(rtMagic)]) != rtMagic {
		return nil, errMalformed
	}
	n := binary.LittleEndian.Uint32(b[len(rtMagic):])
	if uint64(n) != uint64(len(b)-rtHeaderLen) {
		return nil, errMalformed
	}
	return b[rtHeaderLen:], nil
}

// parseFramed parses the message of a §5 packet.
func parseFramed(b []byte) (rtMessage, error) {
	msg, err := parsePacket(b)
	if err != nil {
		return nil, err
	}
	return parseMessage(msg)
}

// packet frames a message.
func packet(msg []byte) []byte {
	out := append([]byte(rtMagic), binary.LittleEndian.AppendUint32(nil, uint32(len(msg)))...)
	return append(out, msg...)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// getU32 and getU64 read a value of exactly that size.
func (m rtMessage) getU32(tag uint32) (uint32, bool) {
	v, ok := m[tag]
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(v), true
}

func (m rtMessage) getU64(tag uint32) (uint64, bool) {
	v, ok := m[tag]
	if !ok || len(v) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(v), true
}

// sub parses the value of tag as a message.
func (m rtMessage) sub(tag uint32) (rtMessage, []byte, error) {
	v, ok := m[tag]
	if !ok {
		return nil, nil, errMalformed
	}
	s, err := parseMessage(v)
	return s, v, err
}
