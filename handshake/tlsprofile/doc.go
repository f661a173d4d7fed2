// Package tlsprofile is the tls profile: MQTT over TLS 1.3 (RFC 8446) through
// crypto/tls, with the server-certificate check a device actually makes.
//
// The seed discussion's complaint is about that check, not about TLS: a
// device that checks nothing accepts any man in the middle; a device that
// pins a fingerprint breaks at the next certificate rollover; a device that
// checks a chain needs a clock it does not have. The modes reproduce each
// choice:
//
//	none         accept any certificate
//	fingerprint  hash of the leaf certificate's DER equals the pin
//	             (SHA-1, 20 bytes, as the seed's ESP8266 example, or SHA-256, 32 bytes)
//	spki         SHA-256 of the leaf's SubjectPublicKeyInfo equals the pin (RFC 7469 §2.4)
//	ca           chain to the roots, at the device's current time, valid for ServerName
//	ca-noclock   the same at the device's build time (x509.VerifyOptions.CurrentTime = BuildTime)
//	ca-ntp       the same at the time an SNTP server named (RFC 4330), asked before each handshake
//	ca-roughtime the same at the time a Roughtime server signed under its pinned key
//	             (draft-ietf-ntp-roughtime-19), asked before each handshake
//
// The two network-clock modes ask their time server (DeviceConfig.Clock,
// package handshake/clock) before the device dials (Device.SyncClock) and
// fail closed at StageClock: time_unavailable when no server answered,
// time_rejected when the answer failed its check.
//
// The device turns crypto/tls's own check off (InsecureSkipVerify) and runs
// its mode in tls.Config.VerifyConnection, which crypto/tls calls when the
// server's Certificate message arrives. Whatever the mode, crypto/tls then
// checks the server's CertificateVerify signature with the leaf's key and
// the Finished MACs (RFC 8446 §4.4), so a certificate presented without its
// private key and a tampered handshake fail in every mode; the mode decides
// only whose key the device accepts.
//
// Both sides speak TLS 1.3 only. The server disables session tickets, so
// every handshake shows the certificate and the server's first flight ends
// with its Finished.
//
// Devices authenticate with a client certificate (mutual TLS, the default,
// as AWS IoT Core and Azure IoT Hub do) or with the password of their MQTT
// CONNECT. A server given a Directory asks every device for a certificate
// (CertificateRequest, RFC 8446 §4.3.2) and checks none against a CA: the
// registry pins each device's key, SHA-256 of the certificate's
// SubjectPublicKeyInfo (ClientPin), and DeviceByKey finds the device. A
// registered, active device is named in the Identity, and the broker binds
// its MQTT client ID to it as for noise; an unknown or revoked key is
// refused at StageMsg3 (unknown_device, revoked) with a bad_certificate
// alert, which a TLS 1.3 device reads after its own handshake has ended. A
// device that sends no certificate gets an Identity without DeviceID and
// is identified by the username and password of its CONNECT (MQTT 3.1.1
// §3.1.3.4-5), which the broker checks. DeviceCertificate issues device
// certificates.
//
// Failures are *handshake.Error values: a certificate the mode rejects is
// ReasonCertificate at StageMsg2 (the server's flight) on the device, and
// wraps ErrPinMismatch, ErrUntrusted, ErrExpired, ErrNameMismatch or
// ErrBadChain; the server then sees the device's alert as ReasonCertificate
// at StageMsg3. A CertificateVerify signature or Finished MAC that does not
// verify, and a record that does not open, are ReasonDecrypt. Other
// failures are classified (timeout, io, malformed). Error texts are fixed: crypto/tls and crypto/x509 texts
// quote the peer's values and are reachable only through errors.As.
//
// Usage:
//
//	dev, err := tlsprofile.NewDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: "broker", Roots: roots})
//	conn, err := handshake.Dial(ctx, dev, "tcp", "broker:8883")
//
//	srv, err := tlsprofile.NewServer(tlsprofile.ServerConfig{Certificate: cert, Devices: registry})
//	conn, id, err := srv.Handshake(ctx, raw) // id.DeviceID: the certificate's device, or "" for a password device
//
//	cert, err := tlsprofile.DeviceCertificate("meter-9", key, time.Now(), nil, nil) // self-signed
//	dev, err := tlsprofile.NewDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: "broker", Roots: roots, Certificate: &cert})
package tlsprofile
