package simulator

import (
	"context"
	"errors"
	"syscall"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"shakedown/handshake"
)

// Failure stages of Results.Failures.
const (
	FailDial      = "dial"
	FailHandshake = "handshake"
	FailConnack   = "connack"
	FailSuback    = "suback"
	FailPublish   = "publish"
	FailSession   = "session"
	FailReceive   = "receive"
)

// FailureReason returns the stable reason code of a device failure: the
// handshake reason of a *handshake.Error, the CONNACK return code of a
// refused connect, or a classification of the system error.
func FailureReason(err error) handshake.Reason {
	if err == nil {
		return ""
	}
	if r := sysReason(err); r != "" {
		return r
	}
	switch {
	case errors.Is(err, packets.ErrorRefusedNotAuthorised):
		return handshake.ReasonNotAuthorized
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword):
		return handshake.ReasonBadCredentials
	case errors.Is(err, packets.ErrorRefusedBadProtocolVersion), errors.Is(err, packets.ErrorRefusedIDRejected),
		errors.Is(err, packets.ErrorRefusedServerUnavailable):
		return handshake.ReasonConnackRefused
	case errors.Is(err, errAckTimeout):
		return handshake.ReasonAckTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return handshake.ReasonTimeout
	}
	// A timeout is a timeout even inside paho's "network Error": paho's
	// connect deadline spans the dial, the handshake and the CONNACK, and a
	// CONNACK that comes too late ends in a read timeout.
	var he *handshake.Error
	if errors.As(err, &he) {
		return he.Reason
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return handshake.ReasonTimeout
	}
	return handshake.ReasonIO // io.EOF, paho's packets.ErrorNetworkError, the rest
}

// dialReason classifies a failed TCP connect.
func dialReason(err error) handshake.Reason {
	if r := sysReason(err); r != "" {
		return r
	}
	return "" // handshake.Fail classifies timeouts and I/O
}

func sysReason(err error) handshake.Reason {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return handshake.ReasonFDLimit
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return handshake.ReasonNoSourcePort
	case errors.Is(err, syscall.ECONNREFUSED):
		return handshake.ReasonConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return handshake.ReasonConnReset
	}
	return ""
}
