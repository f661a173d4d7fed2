package server

import (
	"crypto/tls"
	"errors"
	"net"

	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
)

// TransportObserver is an Observer that is also told about every session
// that ended on a record that failed: one whose tag did not verify
// (altered, replayed, reordered, or from another session), or a frame cut
// short or over the limit. Metrics implements it.
type TransportObserver interface {
	TransportFailed(p handshake.Name, reason handshake.Reason)
}

// recordReasons are the reasons of a failed record of the framed profiles
// (handshake.RecordConn). Timeouts and closed connections end sessions
// without any record failing; MQTT's own refusals are the broker's and the
// bridge's to count.
var recordReasons = map[handshake.Reason]bool{
	handshake.ReasonDecrypt:       true,
	handshake.ReasonShortFrame:    true,
	handshake.ReasonOversizeFrame: true,
}

// transportFailure returns the reason a session of profile p ended on a
// failed record, or "" when it ended otherwise.
func transportFailure(p handshake.Name, err error) handshake.Reason {
	if err == nil {
		return ""
	}
	if p == handshake.TLS {
		// crypto/tls: a record that does not open ends in a bad_record_mac
		// alert it sends; bytes that are no record, in a header error.
		var rhe tls.RecordHeaderError
		var op *net.OpError
		switch {
		case errors.As(err, &rhe):
			return handshake.ReasonMalformed
		case errors.As(err, &op) && op.Op == "local error" && tlsprofile.SessionError(err).Reason == handshake.ReasonDecrypt:
			return handshake.ReasonDecrypt
		}
		return ""
	}
	var he *handshake.Error
	if errors.As(err, &he) && he.Stage == handshake.StageTransport && recordReasons[he.Reason] {
		return he.Reason
	}
	return ""
}

// sessionFailed counts and logs, rate-limited, a session that ended on a
// failed record. The record names the device the handshake authenticated
// and the reason, never the bytes.
func (g *Gateway) sessionFailed(p handshake.Name, id handshake.Identity, conn net.Conn, err error) {
	reason := transportFailure(p, err)
	if reason == "" {
		return
	}
	if to, ok := g.obs.(TransportObserver); ok {
		to.TransportFailed(p, reason)
	}
	args := []any{"profile", p, "reason", reason, "remote", conn.RemoteAddr().String()}
	if id.DeviceID != "" {
		args = append(args, "device", id.DeviceID)
	}
	g.refusals.Info("record "+string(reason), "session ended on a failed record", args...)
}

// handshakeRefused logs a refused handshake: at info, rate-limited, when
// the peer sent something refused; at debug when it only hung up or went
// silent (io, timeout), which scanners and lost links do all the time.
func (g *Gateway) handshakeRefused(p handshake.Name, reason handshake.Reason, conn net.Conn) {
	args := []any{"profile", p, "reason", reason, "remote", conn.RemoteAddr().String()}
	if reason == handshake.ReasonIO || reason == handshake.ReasonTimeout {
		g.log.Debug("handshake refused", args...)
		return
	}
	g.refusals.Info("handshake "+string(reason), "handshake refused", args...)
}
