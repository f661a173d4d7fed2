package tlsprofile_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/tlsprofile"
)

// newDeviceCert issues a self-signed client certificate for id.
func newDeviceCert(id string) tls.Certificate {
	_, key, err := ed25519.GenerateKey(nil)
	Expect(err).NotTo(HaveOccurred())
	c, err := tlsprofile.DeviceCertificate(id, key, set.Now, nil, nil)
	Expect(err).NotTo(HaveOccurred())
	return c
}

// certRecord is the registry record of a certificate device.
func certRecord(id string, c tls.Certificate) handshake.DeviceRecord {
	return handshake.DeviceRecord{ID: id, Profile: handshake.TLS, Key: tlsprofile.ClientPin(c.Leaf.RawSubjectPublicKeyInfo)}
}

// mtlsDevice checks the broker's chain and presents cert (none when nil).
func mtlsDevice(cert *tls.Certificate) *tlsprofile.Device {
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: set.ServerName, Roots: set.Roots, Now: clock, Certificate: cert})
}

func mtlsServer(dir handshake.Directory) *tlsprofile.Server {
	s, err := tlsprofile.NewServer(tlsprofile.ServerConfig{Certificate: set.Broker, Devices: dir})
	Expect(err).NotTo(HaveOccurred())
	return s
}

// refusedAfterHandshake checks what a TLS 1.3 device sees when the server
// refuses its certificate: its handshake is over before the server judges
// the certificate, so the refusal, a bad_certificate alert, is its first read.
func refusedAfterHandshake(d result) {
	GinkgoHelper()
	Expect(d.err).NotTo(HaveOccurred())
	defer d.conn.Close()
	d.conn.SetReadDeadline(time.Now().Add(testLimit))
	_, err := d.conn.Read(make([]byte, 1))
	Expect(err).To(HaveOccurred())
	Expect(tlsprofile.SessionError(err).Reason).To(Equal(handshake.ReasonCertificate))
}

var _ = Describe("client certificates (mutual TLS)", func() {
	It("name the registered device in the server's identity", func() {
		cert := newDeviceCert("meter-9")
		dir := handshaketest.NewDirectory(certRecord("meter-9", cert))
		dconn, sconn := net.Pipe()
		d, s := run(mtlsDevice(&cert), mtlsServer(dir), dconn, sconn)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		defer dconn.Close()
		defer sconn.Close()
		Expect(s.id).To(Equal(handshake.Identity{Profile: handshake.TLS, DeviceID: "meter-9"}))
		exchange(d.conn, s.conn)
	})

	It("leave a device without a certificate to its MQTT password", func() {
		dir := handshaketest.NewDirectory()
		dconn, sconn := net.Pipe()
		d, s := run(mtlsDevice(nil), mtlsServer(dir), dconn, sconn)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		defer dconn.Close()
		defer sconn.Close()
		Expect(s.id).To(Equal(handshake.Identity{Profile: handshake.TLS}))
	})

	It("are not asked for by a server without a directory", func() {
		cert := newDeviceCert("meter-9")
		dconn, sconn := net.Pipe()
		d, s := run(mtlsDevice(&cert), mustServer(set.Broker), dconn, sconn)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		defer dconn.Close()
		defer sconn.Close()
		Expect(s.id.DeviceID).To(BeEmpty())
		Expect(s.conn.(*tls.Conn).ConnectionState().PeerCertificates).To(BeEmpty())
	})

	DescribeTable("refuse a certificate the registry does not pin to an active tls device",
		func(records func(cert tls.Certificate) []handshake.DeviceRecord, revoke bool, reason handshake.Reason) {
			cert := newDeviceCert("meter-9")
			dir := handshaketest.NewDirectory(records(cert)...)
			if revoke {
				dir.Revoke("meter-9")
			}
			// TCP, not net.Pipe: the server's alert must not wait for a reader.
			dconn, sconn, err := tcpPair()
			Expect(err).NotTo(HaveOccurred())
			d, s := run(mtlsDevice(&cert), mtlsServer(dir), dconn, sconn)
			defer sconn.Close()
			expectFailure(s.err, handshake.StageMsg3, reason)
			Expect(s.err.Error()).NotTo(ContainSubstring("meter-9"))
			refusedAfterHandshake(d)
		},
		Entry("unknown key", func(tls.Certificate) []handshake.DeviceRecord {
			return []handshake.DeviceRecord{certRecord("meter-9", newDeviceCert("meter-9"))}
		}, false, handshake.ReasonUnknownDevice),
		Entry("revoked device", func(c tls.Certificate) []handshake.DeviceRecord {
			return []handshake.DeviceRecord{certRecord("meter-9", c)}
		}, true, handshake.ReasonRevoked),
		Entry("the key registered for another profile", func(c tls.Certificate) []handshake.DeviceRecord {
			r := certRecord("meter-9", c)
			r.Profile = handshake.PSK
			return []handshake.DeviceRecord{r}
		}, false, handshake.ReasonUnknownDevice),
	)

	It("refuse a registered certificate presented without its key", func() {
		cert := newDeviceCert("meter-9")
		dir := handshaketest.NewDirectory(certRecord("meter-9", cert))
		stolen := newDeviceCert("meter-9")                            // the attacker's key...
		stolen.Certificate, stolen.Leaf = cert.Certificate, cert.Leaf // ...with the device's certificate
		dconn, sconn, err := tcpPair()
		Expect(err).NotTo(HaveOccurred())
		_, s := run(mtlsDevice(&stolen), mtlsServer(dir), dconn, sconn)
		defer dconn.Close()
		expectFailure(s.err, handshake.StageMsg3, handshake.ReasonDecrypt)
	})

	It("trust the registry, not the certificate's subject", func() {
		cert := newDeviceCert("someone-else")
		dir := handshaketest.NewDirectory(certRecord("meter-9", cert))
		dconn, sconn := net.Pipe()
		_, s := run(mtlsDevice(&cert), mtlsServer(dir), dconn, sconn)
		Expect(s.err).NotTo(HaveOccurred())
		defer dconn.Close()
		defer sconn.Close()
		Expect(s.id.DeviceID).To(Equal("meter-9"))
	})
})

var _ = Describe("device certificates", func() {
	It("are the same for the same key, ID and date", func() {
		_, key, err := ed25519.GenerateKey(nil)
		Expect(err).NotTo(HaveOccurred())
		a, err := tlsprofile.DeviceCertificate("meter-9", key, set.Now, nil, nil)
		Expect(err).NotTo(HaveOccurred())
		b, err := tlsprofile.DeviceCertificate("meter-9", key, set.Now, nil, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(a.Certificate[0], b.Certificate[0])).To(BeTrue())
		Expect(a.Leaf.Subject.CommonName).To(Equal("meter-9"))
		Expect(a.Leaf.NotAfter).To(Equal(tlsprofile.NoExpiry))
		Expect(a.Leaf.ExtKeyUsage).To(Equal([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}))
	})

	It("chain to their issuer for client authentication, and never pass as a server's", func() {
		_, key, err := ed25519.GenerateKey(nil)
		Expect(err).NotTo(HaveOccurred())
		c, err := tlsprofile.DeviceCertificate("meter-9", key, set.Now, set.CA, set.CAKey)
		Expect(err).NotTo(HaveOccurred())
		_, err = c.Leaf.Verify(x509.VerifyOptions{Roots: set.Roots, CurrentTime: set.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		Expect(err).NotTo(HaveOccurred())
		// What a ca-mode device asks of a broker's certificate, less the name.
		_, err = c.Leaf.Verify(x509.VerifyOptions{Roots: set.Roots, CurrentTime: set.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		var inv x509.CertificateInvalidError
		Expect(errors.As(err, &inv)).To(BeTrue(), "%v", err)
		Expect(inv.Reason).To(Equal(x509.IncompatibleUsage))
	})

	It("need the ID and an Ed25519 key, and an issuer needs its key", func() {
		_, key, err := ed25519.GenerateKey(nil)
		Expect(err).NotTo(HaveOccurred())
		_, err = tlsprofile.DeviceCertificate("", key, set.Now, nil, nil)
		Expect(err).To(HaveOccurred())
		_, err = tlsprofile.DeviceCertificate("meter-9", key[:32], set.Now, nil, nil)
		Expect(err).To(HaveOccurred())
		_, err = tlsprofile.DeviceCertificate("meter-9", key, set.Now, set.CA, nil)
		Expect(err).To(HaveOccurred())
		_, err = tlsprofile.NewDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.None, Certificate: &tls.Certificate{}})
		Expect(err).To(HaveOccurred())
	})
})
