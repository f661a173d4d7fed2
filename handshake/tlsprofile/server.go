package tlsprofile

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"shakedown/handshake"
)

// ServerConfig configures the server side.
type ServerConfig struct {
	Certificate tls.Certificate // the broker's certificate chain and key
	// Devices finds the device of a client certificate: DeviceByKey with
	// profile tls and the certificate's pin, SHA-256 of its
	// SubjectPublicKeyInfo (see ClientPin). When set, the server asks every
	// device for a certificate; a device that sends none is left to its
	// MQTT password. nil: no certificate is asked for.
	Devices handshake.Directory
}

// Server is the server side of the tls profile, safe for concurrent use.
type Server struct {
	cfg     *tls.Config
	devices handshake.Directory
}

var _ handshake.Server = (*Server)(nil)

// NewServer checks cfg and returns a server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil {
		return nil, errors.New("tlsprofile: the server needs a certificate and its key")
	}
	tc := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cfg.Certificate},
		// No resumption: every device handshake shows the certificate, and
		// the server's flight ends with its Finished.
		SessionTicketsDisabled: true,
	}
	if cfg.Devices != nil {
		// Ask for a certificate, check none against a CA: the registry's
		// pin decides (authorize). crypto/tls still checks the device's
		// CertificateVerify signature with the certificate's key (RFC 8446
		// §4.4.3), so a certificate without its key fails as decrypt_failed.
		tc.ClientAuth = tls.RequestClientCert
	}
	return &Server{cfg: tc, devices: cfg.Devices}, nil
}

// Profile returns handshake.TLS.
func (s *Server) Profile() handshake.Name { return handshake.TLS }

// Handshake runs a TLS 1.3 server handshake over conn and returns the
// *tls.Conn. A device that presented a registered certificate is named in
// the identity; one without a certificate has no device ID, and its MQTT
// CONNECT credentials identify it later.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (net.Conn, handshake.Identity, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	id := handshake.Identity{Profile: handshake.TLS}
	cfg := s.cfg
	if s.devices != nil {
		cfg = s.cfg.Clone()
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return s.authorize(ctx, cs, &id) }
	}
	fc := &flightConn{Conn: conn}
	tc := tls.Server(fc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		// <- ClientHello; -> ServerHello … Finished; <- [Certificate, CertificateVerify,] Finished
		var he *handshake.Error
		if errors.As(err, &he) {
			return nil, handshake.Identity{}, he
		}
		st := handshake.StageMsg1
		if fc.written.Load() > alertRecordLen {
			st = handshake.StageMsg3
		}
		return nil, handshake.Identity{}, fail(st, err)
	}
	return tc, id, nil
}

// ClientPin returns what the registry holds of a device certificate: SHA-256
// of its SubjectPublicKeyInfo (the pin of RFC 7469 §2.4), DER as sent.
func ClientPin(spki []byte) []byte {
	sum := sha256.Sum256(spki)
	return sum[:]
}

// authorize binds a client certificate to its registry record: the device
// whose pin is the certificate's, active and registered for tls. It runs
// when the device's Certificate and CertificateVerify have arrived, before
// its Finished is read; its error makes crypto/tls send a bad_certificate
// alert.
//
// The registry pins the key instead of trusting a device CA: a revocation
// is one registry write, seen by every gateway at the next handshake, as
// for noise keys; no CA key has to live on a gateway or in the
// administration tools; no clock judges the certificate, so a clockless
// device's certificate needs no renewal; and the certificate's subject is
// not believed, the registry names the device. The pin is no secret (it
// hashes a public key), so the lookup may take its time; the record's pin
// is still compared in constant time, whatever the Directory does.
func (s *Server) authorize(ctx context.Context, cs tls.ConnectionState, id *handshake.Identity) error {
	if len(cs.PeerCertificates) == 0 {
		return nil // a password device
	}
	pin := ClientPin(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
	rec, err := s.devices.DeviceByKey(ctx, handshake.TLS, pin)
	switch {
	case errors.Is(err, handshake.ErrUnknownDevice):
		return clientCertError(handshake.ReasonUnknownDevice, nil)
	case err != nil:
		// The registry's errors never quote the key they looked up.
		return clientCertError(handshake.ReasonRegistry, err)
	}
	if r := handshake.CheckRecord(rec, handshake.TLS); r != "" {
		return clientCertError(r, nil)
	}
	if subtle.ConstantTimeCompare(rec.Key, pin) != 1 {
		return clientCertError(handshake.ReasonUnknownDevice, nil)
	}
	id.DeviceID = rec.ID
	return nil
}

// Fixed texts of refused client certificates.
var (
	errCertUnknown  = errors.New("tlsprofile: no device holds the client certificate's key")
	errCertRevoked  = errors.New("tlsprofile: the client certificate's device is revoked")
	errCertProfile  = errors.New("tlsprofile: the client certificate's device is registered for another profile")
	errCertRegistry = errors.New("tlsprofile: the registry could not be asked about the client certificate")
)

// clientCertError is the server's error for a refused client certificate,
// at msg3 (the device's second flight).
func clientCertError(r handshake.Reason, cause error) *handshake.Error {
	var e error
	switch r {
	case handshake.ReasonRevoked:
		e = errCertRevoked
	case handshake.ReasonWrongProfile:
		e = errCertProfile
	case handshake.ReasonRegistry:
		e = fmt.Errorf("%w: %w", errCertRegistry, cause)
	default:
		e = errCertUnknown
	}
	return &handshake.Error{Profile: handshake.TLS, Stage: handshake.StageMsg3, Reason: r, Err: e}
}
