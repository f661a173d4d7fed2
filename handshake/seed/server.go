package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"shakedown/handshake"
)

// ServerConfig configures the server side.
type ServerConfig struct {
	// Directory finds devices by ID; records of profile seed hold Curve and
	// the device's "public" point in Key.
	Directory handshake.Directory
	// Random is the source of ephemeral keys; crypto/rand when nil. The same
	// bytes give the same ephemeral key (test vectors).
	Random io.Reader
}

// Server is the server side of the seed profile. It is safe for concurrent
// handshakes when its Random is (crypto/rand is).
type Server struct {
	cfg ServerConfig
}

var _ handshake.Server = (*Server)(nil)

var (
	errNoDirectory = errors.New("seed: server needs a Directory")
	errRecordKey   = errors.New("seed: registered key is not a valid point of its curve")
)

// NewServer checks cfg and returns a server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Directory == nil {
		return nil, errNoDirectory
	}
	return &Server{cfg: cfg}, nil
}

// Profile returns handshake.Seed.
func (s *Server) Profile() handshake.Name { return handshake.Seed }

// Handshake runs the server side: receive msg1, look the device up, send an
// ephemeral point, derive the keys. The returned Identity's DeviceID is only
// as authentic as the secrecy of the device's "public" point: nothing in the
// handshake proves the peer holds it; a wrong key shows when the first
// record fails to open.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (net.Conn, handshake.Identity, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	fail := func(st handshake.Stage, r handshake.Reason, err error) (net.Conn, handshake.Identity, error) {
		return nil, handshake.Identity{}, handshake.Fail(handshake.Seed, st, r, err)
	}

	// -> id (plaintext)
	msg1, err := handshake.ReadFrame(conn, make([]byte, 0, maxMsg1Len), maxMsg1Len)
	if err != nil {
		return fail(handshake.StageMsg1, handshake.FrameReason(err), err)
	}
	c, id, reason, err := parseMsg1(msg1)
	if err != nil {
		return fail(handshake.StageMsg1, reason, err)
	}
	devicePub, reason, err := s.lookup(ctx, c, id)
	if err != nil {
		return fail(handshake.StageLookup, reason, err)
	}
	// <- E = e·G
	ephPriv, ephPub, err := GenerateKey(c, s.cfg.Random)
	if err != nil {
		return fail(handshake.StageMsg2, handshake.ReasonInternal, fmt.Errorf("generating the ephemeral key: %w", err))
	}
	// shared = x(e·D)
	shared, err := ECDH(c, ephPriv, devicePub)
	if err != nil {
		return fail(handshake.StageMsg2, handshake.ReasonInternal, fmt.Errorf("computing the shared secret: %w", err))
	}
	if err := handshake.WriteFrame(conn, ephPub); err != nil {
		return fail(handshake.StageMsg2, handshake.FrameReason(err), err)
	}
	sess, err := NewSession(conn, shared, id, ServerSide)
	if err != nil {
		return fail(handshake.StageMsg2, handshake.ReasonInternal, err)
	}
	return sess, handshake.Identity{Profile: handshake.Seed, DeviceID: id}, nil
}

// lookup finds the device's "public" point. Errors carry no part of id.
func (s *Server) lookup(ctx context.Context, c Curve, id string) ([]byte, handshake.Reason, error) {
	rec, err := s.cfg.Directory.DeviceByID(ctx, id)
	if errors.Is(err, handshake.ErrUnknownDevice) {
		return nil, handshake.ReasonUnknownDevice, handshake.ErrUnknownDevice
	}
	if err != nil {
		return nil, handshake.ReasonRegistry, fmt.Errorf("looking up the device: %w", err)
	}
	if r := handshake.CheckRecord(rec, handshake.Seed); r != "" {
		return nil, r, fmt.Errorf("checking the record: %s", r)
	}
	if rec.Curve != string(c) {
		return nil, handshake.ReasonMalformed, errCurveMatch
	}
	if err := CheckPoint(c, rec.Key); err != nil {
		return nil, handshake.ReasonRegistry, errRecordKey
	}
	return rec.Key, "", nil
}
