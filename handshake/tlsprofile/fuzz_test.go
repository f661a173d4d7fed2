package tlsprofile_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"regexp"
	"testing"

	"shakedown/handshake"
)

// fixedText matches the only texts a tls server error may carry after its
// reason: fixed messages, never values from the peer.
var fixedText = regexp.MustCompile(`^(tlsprofile: (sent|received) ([a-z_]+|an unknown alert)|` +
	`tlsprofile: the peer's bytes are not a TLS record|tlsprofile: the peer's handshake was refused|` +
	`tlsprofile: TLS alert|tlsprofile: a CertificateVerify signature or a Finished MAC did not verify|` + regexp.QuoteMeta(io.EOF.Error()) + `|` + regexp.QuoteMeta(io.ErrUnexpectedEOF.Error()) + `)$`)

// FuzzServer feeds arbitrary device bytes to the server side: crypto/tls
// refuses them, and the failure is a typed tls error with a fixed text.
// The seeds are short ClientHellos (X25519 only, about 250 bytes): the
// fuzzer minimises every new input, and the default hybrid key share would
// make each hello six times longer.
func FuzzServer(f *testing.F) {
	srv := mustServer(set.Broker)
	f.Add(shortHello())
	f.Fuzz(func(t *testing.T, in []byte) {
		conn, _, err := srv.Handshake(context.Background(), newMemConn(in))
		if err == nil {
			// Unreachable without the server's fresh randomness; not a failure.
			conn.Close()
			return
		}
		var he *handshake.Error
		if !errors.As(err, &he) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if he.Profile != handshake.TLS || he.Reason == "" {
			t.Fatalf("incomplete error %+v", he)
		}
		if he.Stage != handshake.StageMsg1 && he.Stage != handshake.StageMsg3 {
			t.Fatalf("stage %s", he.Stage)
		}
		if he.Err == nil || !fixedText.MatchString(he.Err.Error()) {
			t.Fatalf("error text not in the fixed set: %v", he.Err)
		}
	})
}

// shortHello returns a TLS 1.3 ClientHello that offers X25519 only.
func shortHello() []byte {
	mc := newMemConn(nil)
	tls.Client(mc, &tls.Config{
		MinVersion: tls.VersionTLS13, ServerName: set.ServerName, InsecureSkipVerify: true,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}).Handshake()
	return mc.out.Bytes()
}
