package psk

import (
	"context"
	"errors"
	"net"

	"shakedown/handshake"
)

// ServerConfig configures the server side.
type ServerConfig struct {
	Directory handshake.Directory // finds the device; rec.Key is its PSK
}

// Server is the server side of the psk profile, safe for concurrent use.
type Server struct {
	dir handshake.Directory
}

// Errors of the lookup stage. They carry no peer bytes: a registry error is
// reachable through errors.Is and errors.As but its text is not repeated.
var (
	errRegistryKey = errors.New("psk: registered key is not 32 bytes")
)

// NewServer checks cfg and returns a server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Directory == nil {
		return nil, errors.New("psk: no directory")
	}
	return &Server{dir: cfg.Directory}, nil
}

var _ handshake.Server = (*Server)(nil)

// Profile returns handshake.PSK.
func (s *Server) Profile() handshake.Name { return handshake.PSK }

// Handshake reads msg1 from conn, looks the device up and returns the
// session. It writes nothing: a refused device sees only the conn closed
// by the caller.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (net.Conn, handshake.Identity, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	var buf [maxMsg1Len]byte
	// <- version, idlen, id
	msg, err := handshake.ReadFrame(conn, buf[:], maxMsg1Len)
	if err != nil {
		return nil, handshake.Identity{}, handshake.Fail(handshake.PSK, handshake.StageMsg1, handshake.FrameReason(err), err)
	}
	rawID, reason, err := parseMsg1(msg)
	if err != nil {
		return nil, handshake.Identity{}, handshake.Fail(handshake.PSK, handshake.StageMsg1, reason, err)
	}
	id := string(rawID)
	rec, err := s.dir.DeviceByID(ctx, id)
	if err != nil {
		return nil, handshake.Identity{}, lookupFailure(err)
	}
	if reason := handshake.CheckRecord(rec, handshake.PSK); reason != "" {
		return nil, handshake.Identity{}, handshake.Fail(handshake.PSK, handshake.StageLookup, reason, nil)
	}
	if len(rec.Key) != KeyLen {
		return nil, handshake.Identity{}, handshake.Fail(handshake.PSK, handshake.StageLookup, handshake.ReasonRegistry, errRegistryKey)
	}
	sess, err := session(conn, rec.Key, id, serverSide)
	if err != nil {
		return nil, handshake.Identity{}, handshake.Fail(handshake.PSK, handshake.StageLookup, handshake.ReasonInternal, err)
	}
	return sess, handshake.Identity{Profile: handshake.PSK, DeviceID: id}, nil
}

// lookupFailure classifies a Directory error without repeating its text,
// which may quote the device ID the peer sent.
func lookupFailure(err error) *handshake.Error {
	if errors.Is(err, handshake.ErrUnknownDevice) {
		return handshake.Fail(handshake.PSK, handshake.StageLookup, handshake.ReasonUnknownDevice, handshake.ErrUnknownDevice)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return handshake.Fail(handshake.PSK, handshake.StageLookup, handshake.ReasonTimeout, &quiet{"psk: registry lookup timed out", err})
	}
	return handshake.Fail(handshake.PSK, handshake.StageLookup, handshake.ReasonRegistry, &quiet{"psk: registry lookup failed", err})
}

// quiet is an error with a fixed text that still unwraps to its cause.
type quiet struct {
	msg string
	err error
}

func (q *quiet) Error() string { return q.msg }
func (q *quiet) Unwrap() error { return q.err }
