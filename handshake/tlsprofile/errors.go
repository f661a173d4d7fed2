package tlsprofile

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"

	"shakedown/handshake"
)

// alertNames are the alert descriptions of RFC 8446 §6 (and §B.2).
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
	44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
	80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
	113: "bad_certificate_status_response", 115: "unknown_psk_identity",
	116: "certificate_required", 120: "no_application_protocol",
}

// alertReason maps an alert to a reason code.
func alertReason(code uint8, sent bool) handshake.Reason {
	switch code {
	case 20, 51: // bad_record_mac, decrypt_error
		return handshake.ReasonDecrypt
	case 42, 43, 44, 45, 46, 48: // the certificate alerts
		return handshake.ReasonCertificate
	}
	if sent {
		return handshake.ReasonMalformed
	}
	return handshake.ReasonIO
}

// quiet is an error with a fixed text that still unwraps to its cause:
// crypto/tls texts may quote values the peer sent.
type quiet struct {
	msg string
	err error
}

func (q *quiet) Error() string { return q.msg }
func (q *quiet) Unwrap() error { return q.err }

// classify turns an error of tls.Conn.HandshakeContext into a reason and an
// error whose text carries nothing the peer sent.
func classify(err error) (handshake.Reason, error) {
	var ce *certError
	var rhe tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &ce):
		return handshake.ReasonCertificate, ce
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, os.ErrDeadlineExceeded):
		return handshake.ReasonTimeout, err
	case errors.As(err, &rhe):
		return handshake.ReasonMalformed, &quiet{"tlsprofile: the peer's bytes are not a TLS record", err}
	case errors.As(err, &op) && (op.Op == "local error" || op.Op == "remote error"):
		return alertFailure(op, err)
	case authFailure(err):
		return handshake.ReasonDecrypt, &quiet{"tlsprofile: a CertificateVerify signature or a Finished MAC did not verify", err}
	case isIO(err):
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() {
			return handshake.ReasonTimeout, err
		}
		return handshake.ReasonIO, err
	}
	return handshake.ReasonMalformed, &quiet{"tlsprofile: the peer's handshake was refused", err}
}

// alertFailure classifies an alert crypto/tls sent ("local error") or
// received ("remote error").
func alertFailure(op *net.OpError, err error) (handshake.Reason, error) {
	sent := op.Op == "local error"
	v := reflect.ValueOf(op.Err)
	if !v.IsValid() || v.Kind() != reflect.Uint8 {
		return handshake.ReasonMalformed, &quiet{"tlsprofile: TLS alert", err}
	}
	code := uint8(v.Uint())
	name, ok := alertNames[code]
	if !ok {
		name = "an unknown alert"
	}
	verb := "received "
	if sent {
		verb = "sent "
	}
	return alertReason(code, sent), &quiet{"tlsprofile: " + verb + name, err}
}

// authFailure reports whether crypto/tls refused a CertificateVerify
// signature or a Finished MAC (RFC 8446 §4.4.3, §4.4.4). crypto/tls sends
// decrypt_error but returns a plain error; its text is the only mark, and a
// test pins it.
func authFailure(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "tls: invalid signature by the ") ||
		strings.HasPrefix(msg, "tls: invalid server finished hash") ||
		strings.HasPrefix(msg, "tls: invalid client finished hash")
}

// isIO reports whether err comes from the connection rather than from the
// TLS protocol: such errors carry no peer bytes.
func isIO(err error) bool {
	var op *net.OpError
	var errno syscall.Errno
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) ||
		errors.As(err, &errno) || errors.As(err, &op)
}

// fail builds the *handshake.Error of a failed handshake.
func fail(st handshake.Stage, err error) *handshake.Error {
	reason, e := classify(err)
	return &handshake.Error{Profile: handshake.TLS, Stage: st, Reason: reason, Err: e}
}
