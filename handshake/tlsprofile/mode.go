package tlsprofile

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"
)

// Mode is how a device checks the server's certificate.
type Mode string

// The verification modes of the tls profile.
const (
	// None accepts any certificate: TLS against a passive eavesdropper only.
	None Mode = "none"
	// Fingerprint pins a hash of the leaf certificate's DER: SHA-1 (20
	// bytes, the seed's ESP8266 example) or SHA-256 (32 bytes).
	Fingerprint Mode = "fingerprint"
	// SPKI pins SHA-256 of the leaf's SubjectPublicKeyInfo (RFC 7469 §2.4).
	SPKI Mode = "spki"
	// CA checks the chain to the roots at the device's current time and
	// the server name (RFC 5280 §6, RFC 6125 via crypto/x509).
	CA Mode = "ca"
	// CANoClock is CA on a device without a clock: the chain is checked at
	// the device's build time.
	CANoClock Mode = "ca-noclock"
	// CANTP is CA on a device that sets its clock by SNTP (RFC 4330) before
	// each handshake: the chain is checked at the time an unauthenticated
	// server named.
	CANTP Mode = "ca-ntp"
	// CARoughtime is CA on a device that gets its time from a Roughtime
	// server whose Ed25519 key it pins (draft-ietf-ntp-roughtime-19).
	CARoughtime Mode = "ca-roughtime"
)

// Modes lists every mode in a stable order.
var Modes = []Mode{None, Fingerprint, SPKI, CA, CANoClock, CANTP, CARoughtime}

// NetworkClock reports whether a device of mode m asks a time server
// before each handshake (DeviceConfig.Clock).
func (m Mode) NetworkClock() bool { return m == CANTP || m == CARoughtime }

// Pin lengths.
const (
	SHA1PinLen   = sha1.Size   // 20
	SHA256PinLen = sha256.Size // 32
)

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", errors.New("tlsprofile: unknown mode (want none, fingerprint, spki, ca, ca-noclock, ca-ntp or ca-roughtime)")
}

// Why a certificate was rejected. The errors a device returns wrap one of
// them (and the x509 error, whose text is not repeated: it quotes the
// peer's certificate).
var (
	ErrNoCertificate = errors.New("tlsprofile: the server sent no certificate")
	ErrPinMismatch   = errors.New("tlsprofile: the certificate does not match the pin")
	ErrUntrusted     = errors.New("tlsprofile: the certificate does not chain to a trusted root")
	ErrExpired       = errors.New("tlsprofile: the certificate is expired or not yet valid at the device's time")
	ErrNameMismatch  = errors.New("tlsprofile: the certificate is not valid for the server name")
	ErrBadChain      = errors.New("tlsprofile: the certificate chain is invalid")
)

// certError is a rejected certificate: a fixed reason and its cause.
type certError struct {
	mode   Mode
	reason error
	cause  error
}

func (e *certError) Error() string { return e.reason.Error() + " (mode " + string(e.mode) + ")" }

func (e *certError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.reason}
	}
	return []error{e.reason, e.cause}
}

// verifier checks the server's certificate for one mode.
type verifier struct {
	mode       Mode
	pin        []byte
	roots      *x509.CertPool
	serverName string
	buildTime  time.Time
	now        func() time.Time
}

// verify is the device's tls.Config.VerifyConnection.
func (v *verifier) verify(cs tls.ConnectionState) error {
	if v.mode == None {
		return nil
	}
	if len(cs.PeerCertificates) == 0 {
		return &certError{mode: v.mode, reason: ErrNoCertificate}
	}
	leaf := cs.PeerCertificates[0]
	switch v.mode {
	case Fingerprint:
		return v.matchPin(fingerprint(leaf.Raw, len(v.pin)))
	case SPKI:
		sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
		return v.matchPin(sum[:])
	case CA, CANTP, CARoughtime:
		return v.chain(cs.PeerCertificates, v.now())
	default: // CANoClock
		return v.chain(cs.PeerCertificates, v.buildTime)
	}
}

// fingerprint returns the hash of der that a pin of pinLen bytes holds.
func fingerprint(der []byte, pinLen int) []byte {
	if pinLen == SHA1PinLen {
		sum := sha1.Sum(der)
		return sum[:]
	}
	sum := sha256.Sum256(der)
	return sum[:]
}

func (v *verifier) matchPin(got []byte) error {
	if subtle.ConstantTimeCompare(got, v.pin) != 1 {
		return &certError{mode: v.mode, reason: ErrPinMismatch}
	}
	return nil
}

// chain verifies the leaf and the intermediates the server sent against the
// roots at time at, for the server name.
func (v *verifier) chain(certs []*x509.Certificate, at time.Time) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		DNSName:       v.serverName,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return &certError{mode: v.mode, reason: chainReason(err), cause: err}
	}
	return nil
}

func chainReason(err error) error {
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return ErrExpired
	case errors.As(err, &ua):
		return ErrUntrusted
	case errors.As(err, &hn):
		return ErrNameMismatch
	}
	return ErrBadChain
}
