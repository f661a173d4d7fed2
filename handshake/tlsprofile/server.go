package tlsprofile

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"shakedown/handshake"
)

// ServerConfig configures the server side.
type ServerConfig struct {
	Certificate tls.Certificate // the broker's certificate chain and key
}

// Server is the server side of the tls profile, safe for concurrent use.
type Server struct {
	cfg *tls.Config
}

var _ handshake.Server = (*Server)(nil)

// NewServer checks cfg and returns a server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil {
		return nil, errors.New("tlsprofile: the server needs a certificate and its key")
	}
	return &Server{cfg: &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cfg.Certificate},
		// No resumption: every device handshake shows the certificate, and
		// the server's flight ends with its Finished.
		SessionTicketsDisabled: true,
	}}, nil
}

// Profile returns handshake.TLS.
func (s *Server) Profile() handshake.Name { return handshake.TLS }

// Handshake runs a TLS 1.3 server handshake over conn and returns the
// *tls.Conn. The identity has no device ID: a tls device is identified
// later, by the credentials of its MQTT CONNECT.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (net.Conn, handshake.Identity, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	fc := &flightConn{Conn: conn}
	tc := tls.Server(fc, s.cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		// <- ClientHello; -> ServerHello … Finished; <- Finished
		st := handshake.StageMsg1
		if fc.written.Load() > alertRecordLen {
			st = handshake.StageMsg3
		}
		return nil, handshake.Identity{}, fail(st, err)
	}
	return tc, handshake.Identity{Profile: handshake.TLS}, nil
}
