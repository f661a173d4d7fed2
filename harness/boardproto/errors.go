package boardproto

import (
	"errors"

	"shakedown/handshake"
)

// Stages of the board link, for *handshake.Error values of this package and
// of the harness.
const (
	// StageLink is the serial line: framing, checksums, the port itself.
	StageLink handshake.Stage = "board_link"
	// StageCommand is a command and its response or the payload of an event.
	StageCommand handshake.Stage = "board_command"
	// StageRelay is the relay of a board's handshake bytes to a server.
	StageRelay handshake.Stage = "board_relay"
)

func fail(st handshake.Stage, r handshake.Reason, err error) *handshake.Error {
	return &handshake.Error{Stage: st, Reason: r, Err: err}
}

// payload errors; their text never contains received bytes.
var (
	errShortPayload = errors.New("boardproto: payload shorter than its layout")
	errLongPayload  = errors.New("boardproto: payload longer than its layout")
	errBadString    = errors.New("boardproto: string too long or not printable ASCII")
	errBadCode      = errors.New("boardproto: code out of range")
)

func short() *handshake.Error {
	return fail(StageCommand, handshake.ReasonShortFrame, errShortPayload)
}

func long() *handshake.Error {
	return fail(StageCommand, handshake.ReasonOversizeFrame, errLongPayload)
}

func malformed(err error) *handshake.Error {
	return fail(StageCommand, handshake.ReasonMalformed, err)
}
