// Package boardproto is the board protocol of docs/board-protocol.md: the
// framed, versioned, checksummed link between the harness on a host and the
// agent firmware on a board, over a serial line.
//
// A frame on the wire is a COBS-encoded body between two 0x00 delimiters:
//
//	0x00 | COBS(ver | type | seq | len | payload | crc16) | 0x00
//
// The body carries a 1-byte version, a 1-byte message type (command,
// response or event), a 1-byte sequence number, the payload length and at
// most MaxPayload payload bytes, followed by CRC-16/CCITT-FALSE of everything
// before it. Bytes that do not form a frame are console output: boot banners,
// debug prints, line noise. Decoder splits a byte stream into both, and
// resynchronises at the next delimiter after garbage or a reset mid-frame.
//
// Both sides use this package: the harness (package harness) sends commands
// and reads responses and events; the virtual board (package
// boards/virtual) does the opposite. Payload layouts have a type each
// (Hello, Info, BenchRequest, ...) with an Append method that encodes it and
// a Parse function that decodes it. Every decoder refuses bad input with a
// *handshake.Error whose Stage is StageLink or StageCommand and whose Reason
// is a stable code; no error carries bytes received from the peer.
//
// RelayConn is the net.Conn whose bytes travel inside relay frames: the
// board's handshake and transport bytes in relay mode.
//
//	var dec boardproto.Decoder
//	for _, it := range dec.Feed(buf[:n]) {
//		if it.Frame != nil { ... } else { console.Write(it.Console) }
//	}
//	wire, err := boardproto.AppendFrame(nil, boardproto.Frame{Type: boardproto.CmdInfo, Seq: 7})
//
// The worked examples of the document are testdata/frames.txt, written by
// internal/vectorgen with a CRC and a COBS encoder of its own.
package boardproto

//go:generate go run ./internal/vectorgen -o testdata/frames.txt
