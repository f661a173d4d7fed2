package tlsprofile

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// NoExpiry is the notAfter of a device certificate: "no well-defined
// expiration date", 99991231235959Z (RFC 5280 §4.1.2.5), as IEEE 802.1AR
// device identities carry. The reference server pins the key and checks
// no date.
var NoExpiry = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// serialLen is the size of a device certificate's serial (RFC 5280
// §4.1.2.2: positive, at most 20 octets).
const serialLen = 16

// DeviceCertificate issues the client certificate of device id for its
// Ed25519 key: subject CN=id, for client authentication only (so that no
// device certificate passes as a server's), valid from notBefore with no
// expiration. issuer and issuerKey sign it; with a nil issuer it is
// self-signed. The serial is derived from the public key, and Ed25519
// signatures are deterministic (RFC 8032 §5.1.6), so with an Ed25519 issuer
// or none the same inputs give the same certificate: a board can make its
// own from its key alone.
func DeviceCertificate(id string, key ed25519.PrivateKey, notBefore time.Time, issuer *x509.Certificate, issuerKey crypto.Signer) (tls.Certificate, error) {
	if id == "" || len(key) != ed25519.PrivateKeySize {
		return tls.Certificate{}, errors.New("tlsprofile: a device certificate needs the device ID and its Ed25519 key")
	}
	pub := key.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	sn := sum[:serialLen]
	sn[0] = sn[0]&0x7f | 0x40 // positive, exactly serialLen octets
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(sn),
		Subject:               pkix.Name{CommonName: id},
		NotBefore:             notBefore.UTC().Truncate(time.Second),
		NotAfter:              NoExpiry,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	parent, signer := tmpl, crypto.Signer(key)
	if issuer != nil {
		if issuerKey == nil {
			return tls.Certificate{}, errors.New("tlsprofile: an issuer needs its key")
		}
		parent, signer = issuer, issuerKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsprofile: issuing the certificate of a device: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsprofile: parsing the certificate of a device: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
