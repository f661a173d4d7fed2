package boardproto

import "time"

// Spec constants of protocol version 1 (docs/board-protocol.md §2, §3).
// They are fixed: changing one needs a new Version.
const (
	Version = 1 // the protocol version this package speaks

	Delimiter = 0x00 // ends (and, from the sender, also starts) every frame

	// Frame body before COBS:
	//
	//	1B: ver     protocol version (Version)
	//	1B: type    message type (Type)
	//	1B: seq     sequence number
	//	1B: len     payload length L
	//	LB: payload
	//	2B: crc     CRC-16/CCITT-FALSE of ver..payload, big-endian
	HeaderLen  = 4
	CRCLen     = 2
	MaxPayload = 255 // the largest L a frame can carry
	MinBodyLen = HeaderLen + CRCLen
	MaxBodyLen = HeaderLen + MaxPayload + CRCLen // 261

	// MaxEncodedLen is the longest COBS encoding of a body, delimiters excluded.
	MaxEncodedLen = MaxBodyLen + MaxBodyLen/cobsMaxRun + 1 // 263

	// MinPayloadLimit is the smallest max_payload a board may announce.
	MinPayloadLimit = 64

	// StringMax bounds each string of an Info (board, chip, firmware, serial).
	StringMax = 32
	// DeviceIDMax bounds a provisioned device ID.
	DeviceIDMax = 64
	// HostMax bounds the server host name of a network-mode handshake.
	HostMax = 64
)

// Timing of version 1 (docs/board-protocol.md §7). Boards answer within
// these; the harness takes longer values from the board profile.
const (
	QueryTimeout     = 250 * time.Millisecond // HELLO, INFO, READ_*, SEND, RELAY_*
	ProvisionTimeout = 2 * time.Second        // PROVISION writes non-volatile storage
	InterByteTimeout = 100 * time.Millisecond // a receiver may drop a partial frame after this silence
	Retries          = 3                      // retransmissions of a command before giving up
)

// Type is a message type. Commands go from host to board; the board answers
// each with the response whose type is the command's with bit 7 set; events
// go from board to host unasked.
type Type byte

// Commands (0x01-0x3F).
const (
	CmdHello        Type = 0x01
	CmdInfo         Type = 0x02
	CmdProvision    Type = 0x03
	CmdBench        Type = 0x04
	CmdHandshake    Type = 0x05
	CmdRelayData    Type = 0x06
	CmdRelayClose   Type = 0x07
	CmdSend         Type = 0x08
	CmdReadCounters Type = 0x09
	CmdReadLog      Type = 0x0A
	CmdReset        Type = 0x0B
	CmdClose        Type = 0x0C
)

// Events (0x40-0x7F).
const (
	EvtBoot          Type = 0x40
	EvtRelayData     Type = 0x41
	EvtRelayCredit   Type = 0x42
	EvtClosed        Type = 0x43
	EvtHandshakeDone Type = 0x44
	EvtMessage       Type = 0x45
)

// ResponseBit marks a response: response type = command type | ResponseBit.
const ResponseBit Type = 0x80

// IsCommand reports whether t is in the command range.
func (t Type) IsCommand() bool { return t >= 0x01 && t <= 0x3F }

// IsEvent reports whether t is in the event range.
func (t Type) IsEvent() bool { return t >= 0x40 && t <= 0x7F }

// IsResponse reports whether t is in the response range.
func (t Type) IsResponse() bool { return t&ResponseBit != 0 && (t &^ ResponseBit).IsCommand() }

// Response returns the response type of command t.
func (t Type) Response() Type { return t | ResponseBit }

// Command returns the command type of response t.
func (t Type) Command() Type { return t &^ ResponseBit }

var typeNames = map[Type]string{
	CmdHello: "HELLO", CmdInfo: "INFO", CmdProvision: "PROVISION", CmdBench: "BENCH",
	CmdHandshake: "HANDSHAKE", CmdRelayData: "RELAY_DATA", CmdRelayClose: "RELAY_CLOSE",
	CmdSend: "SEND", CmdReadCounters: "READ_COUNTERS", CmdReadLog: "READ_LOG",
	CmdReset: "RESET", CmdClose: "CLOSE",
	EvtBoot: "BOOT", EvtRelayData: "RELAY_DATA_EVT", EvtRelayCredit: "RELAY_CREDIT",
	EvtClosed: "CLOSED", EvtHandshakeDone: "HANDSHAKE_DONE", EvtMessage: "MESSAGE",
}

func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	if t.IsResponse() {
		if n, ok := typeNames[t.Command()]; ok {
			return n + "_RSP"
		}
	}
	return "TYPE_" + hexByte(byte(t))
}

func hexByte(b byte) string {
	const digits = "0123456789ABCDEF"
	return "0x" + string([]byte{digits[b>>4], digits[b&0xF]})
}
