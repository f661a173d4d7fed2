package tlsprofile_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
)

// expectFailure checks err is a *handshake.Error of the tls profile with
// the given stage and reason.
func expectFailure(err error, st handshake.Stage, r handshake.Reason) {
	var he *handshake.Error
	ExpectWithOffset(1, errors.As(err, &he)).To(BeTrue(), "want *handshake.Error, got %v", err)
	ExpectWithOffset(1, he.Profile).To(Equal(handshake.TLS))
	ExpectWithOffset(1, he.Reason).To(Equal(r), "%v", err)
	ExpectWithOffset(1, he.Stage).To(Equal(st), "%v", err)
}

// exchange writes a line each way and checks both arrive.
func exchange(d, s net.Conn) {
	done := make(chan error, 1)
	go func() {
		_, err := io.WriteString(d, deviceLine)
		done <- err
	}()
	got := make([]byte, len(deviceLine))
	_, err := io.ReadFull(s, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(deviceLine))
	Expect(<-done).To(Succeed())
	go func() {
		_, err := io.WriteString(s, serverLine)
		done <- err
	}()
	got = make([]byte, len(serverLine))
	_, err = io.ReadFull(d, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(serverLine))
	Expect(<-done).To(Succeed())
}

// outcome is what a device of a mode does with a server certificate.
type outcome struct {
	accept bool
	why    error // the rejection's sentinel
}

var accepts = outcome{accept: true}

func rejects(why error) outcome { return outcome{why: why} }

// check runs a device against a server holding cert over a buffered pipe.
func check(dev *tlsprofile.Device, cert tls.Certificate, want outcome) {
	dconn, sconn := bufPipe()
	d, s := run(dev, mustServer(cert), dconn, sconn)
	if want.accept {
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		defer d.conn.Close()
		defer s.conn.Close()
		Expect(s.id).To(Equal(handshake.Identity{Profile: handshake.TLS}))
		exchange(d.conn, s.conn)
		return
	}
	expectFailure(d.err, handshake.StageMsg2, handshake.ReasonCertificate)
	Expect(errors.Is(d.err, want.why)).To(BeTrue(), "%v", d.err)
	for _, peerText := range []string{set.ServerName, "127.0.0.1", "shakedown fixtures"} {
		Expect(d.err.Error()).NotTo(ContainSubstring(peerText))
	}
	// The device's bad_certificate alert reaches the server after its flight.
	expectFailure(s.err, handshake.StageMsg3, handshake.ReasonCertificate)
}

func fingerprintDevice(pin []byte) *tlsprofile.Device {
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.Fingerprint, ServerName: set.ServerName, Pin: pin})
}

func spkiDevice() *tlsprofile.Device {
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.SPKI, ServerName: set.ServerName, Pin: spkiPin(set.Broker)})
}

func noClockDevice() *tlsprofile.Device {
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CANoClock, ServerName: set.ServerName, Roots: set.Roots, BuildTime: buildTime()})
}

var _ = Describe("verification modes against the fixture certificates", func() {
	DescribeTable("none",
		func(cert func() tls.Certificate, want outcome) {
			check(mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.None, ServerName: set.ServerName}), cert(), want)
		},
		Entry("accepts the broker", func() tls.Certificate { return set.Broker }, accepts),
		Entry("accepts the renewal", func() tls.Certificate { return set.BrokerRenewed }, accepts),
		Entry("accepts the rollover", func() tls.Certificate { return set.BrokerRolled }, accepts),
		Entry("accepts the expired certificate", func() tls.Certificate { return set.BrokerExpired }, accepts),
		Entry("accepts the attacker", func() tls.Certificate { return set.Attacker }, accepts),
	)

	DescribeTable("fingerprint (SHA-1 pin of the broker, as the seed's ESP8266 example)",
		func(cert func() tls.Certificate, want outcome) {
			check(fingerprintDevice(sha1Pin(set.Broker)), cert(), want)
		},
		Entry("accepts the pinned certificate", func() tls.Certificate { return set.Broker }, accepts),
		Entry("rejects the attacker", func() tls.Certificate { return set.Attacker }, rejects(tlsprofile.ErrPinMismatch)),
		Entry("rejects the rolled-over certificate (the seed's rollover complaint)", func() tls.Certificate { return set.BrokerRolled }, rejects(tlsprofile.ErrPinMismatch)),
		Entry("rejects even the same-key renewal", func() tls.Certificate { return set.BrokerRenewed }, rejects(tlsprofile.ErrPinMismatch)),
		Entry("rejects the expired certificate", func() tls.Certificate { return set.BrokerExpired }, rejects(tlsprofile.ErrPinMismatch)),
	)

	DescribeTable("fingerprint (SHA-256 pin of the broker)",
		func(cert func() tls.Certificate, want outcome) {
			check(fingerprintDevice(sha256Pin(set.Broker)), cert(), want)
		},
		Entry("accepts the pinned certificate", func() tls.Certificate { return set.Broker }, accepts),
		Entry("rejects the attacker", func() tls.Certificate { return set.Attacker }, rejects(tlsprofile.ErrPinMismatch)),
		Entry("rejects the rolled-over certificate", func() tls.Certificate { return set.BrokerRolled }, rejects(tlsprofile.ErrPinMismatch)),
	)

	DescribeTable("spki (SHA-256 of the broker's public key)",
		func(cert func() tls.Certificate, want outcome) {
			check(spkiDevice(), cert(), want)
		},
		Entry("accepts the broker", func() tls.Certificate { return set.Broker }, accepts),
		Entry("survives the same-key renewal", func() tls.Certificate { return set.BrokerRenewed }, accepts),
		Entry("rejects the attacker", func() tls.Certificate { return set.Attacker }, rejects(tlsprofile.ErrPinMismatch)),
		Entry("rejects the rollover to a new key", func() tls.Certificate { return set.BrokerRolled }, rejects(tlsprofile.ErrPinMismatch)),
		Entry("rejects the expired certificate (another key)", func() tls.Certificate { return set.BrokerExpired }, rejects(tlsprofile.ErrPinMismatch)),
	)

	DescribeTable("ca (the device's clock is right)",
		func(cert func() tls.Certificate, want outcome) {
			check(caDevice(), cert(), want)
		},
		Entry("accepts the broker", func() tls.Certificate { return set.Broker }, accepts),
		Entry("accepts the rollover to a new key", func() tls.Certificate { return set.BrokerRolled }, accepts),
		Entry("accepts the renewal", func() tls.Certificate { return set.BrokerRenewed }, accepts),
		Entry("rejects the expired CA-signed certificate", func() tls.Certificate { return set.BrokerExpired }, rejects(tlsprofile.ErrExpired)),
		Entry("rejects the attacker", func() tls.Certificate { return set.Attacker }, rejects(tlsprofile.ErrUntrusted)),
	)

	It("ca rejects the broker under another server name", func() {
		dev := mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: "broker.example", Roots: set.Roots, Now: clock})
		check(dev, set.Broker, rejects(tlsprofile.ErrNameMismatch))
	})

	It("ca checks the server name against the IP addresses of the certificate", func() {
		dev := mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: "127.0.0.1", Roots: set.Roots, Now: clock})
		check(dev, set.Broker, accepts)
	})

	DescribeTable("ca-noclock (the device's clock is stuck at its build date, 200 days ago)",
		func(cert func() tls.Certificate, want outcome) {
			check(noClockDevice(), cert(), want)
		},
		Entry("accepts the broker", func() tls.Certificate { return set.Broker }, accepts),
		Entry("accepts the leaked expired CA-signed certificate", func() tls.Certificate { return set.BrokerExpired }, accepts),
		Entry("rejects the attacker", func() tls.Certificate { return set.Attacker }, rejects(tlsprofile.ErrUntrusted)),
		Entry("rejects the renewal, not yet valid at its build date", func() tls.Certificate { return set.BrokerRenewed }, rejects(tlsprofile.ErrExpired)),
		Entry("rejects the rollover, not yet valid at its build date", func() tls.Certificate { return set.BrokerRolled }, rejects(tlsprofile.ErrExpired)),
	)

	// A man in the middle that replays the broker's certificate without its
	// private key: every mode accepts the certificate, and crypto/tls then
	// refuses the CertificateVerify signature made with another key.
	DescribeTable("refuse a certificate presented without its private key",
		func(dev func() *tlsprofile.Device) {
			stolen := tls.Certificate{Certificate: set.Broker.Certificate, PrivateKey: set.Attacker.PrivateKey}
			dconn, sconn := bufPipe()
			d, s := run(dev(), mustServer(stolen), dconn, sconn)
			expectFailure(d.err, handshake.StageMsg2, handshake.ReasonDecrypt)
			Expect(d.err.Error()).To(ContainSubstring("CertificateVerify"))
			expectFailure(s.err, handshake.StageMsg3, handshake.ReasonDecrypt)
		},
		Entry("none", func() *tlsprofile.Device { return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.None}) }),
		Entry("fingerprint", func() *tlsprofile.Device { return fingerprintDevice(sha1Pin(set.Broker)) }),
		Entry("spki", spkiDevice),
		Entry("ca", caDevice),
		Entry("ca-noclock", noClockDevice),
	)

	It("ca with the real clock rejects every fixture broker certificate once they have expired", func() {
		later := func() time.Time { return set.Now.AddDate(2, 0, 0) }
		dev := mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: set.ServerName, Roots: set.Roots, Now: later})
		check(dev, set.Broker, rejects(tlsprofile.ErrExpired))
	})
})

var _ = Describe("the tls handshake", func() {
	It("carries data both ways over TCP through handshake.Dial", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer ln.Close()
		srv := mustServer(set.Broker)
		ch := make(chan result, 1)
		go func() {
			raw, err := ln.Accept()
			if err != nil {
				ch <- result{err: err}
				return
			}
			conn, id, err := srv.Handshake(context.Background(), raw)
			if err != nil {
				raw.Close()
			}
			ch <- result{conn, id, err}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), testLimit)
		defer cancel()
		dconn, err := handshake.Dial(ctx, caDevice(), "tcp", ln.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer dconn.Close()
		s := <-ch
		Expect(s.err).NotTo(HaveOccurred())
		defer s.conn.Close()
		Expect(s.id).To(Equal(handshake.Identity{Profile: handshake.TLS}))
		exchange(dconn, s.conn)
		exchange(dconn, s.conn)
		state := dconn.(*tls.Conn).ConnectionState()
		Expect(state.Version).To(Equal(uint16(tls.VersionTLS13)))
		Expect(state.DidResume).To(BeFalse())
	})

	It("refuses a device that offers only TLS 1.2", func() {
		dconn, sconn := net.Pipe()
		old := tls.Client(dconn, &tls.Config{MaxVersion: tls.VersionTLS12, InsecureSkipVerify: true})
		errc := make(chan error, 1)
		go func() {
			errc <- old.Handshake()
			dconn.Close()
		}()
		_, _, err := mustServer(set.Broker).Handshake(context.Background(), sconn)
		sconn.Close()
		expectFailure(err, handshake.StageMsg1, handshake.ReasonMalformed)
		Expect(<-errc).To(HaveOccurred())
	})

	It("makes a device refuse a server that answers with TLS 1.2", func() {
		dconn, sconn := net.Pipe()
		old := tls.Server(sconn, &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{set.Broker}})
		errc := make(chan error, 1)
		go func() {
			errc <- old.Handshake()
			sconn.Close()
		}()
		_, err := caDevice().Handshake(context.Background(), dconn)
		dconn.Close()
		var he *handshake.Error
		Expect(errors.As(err, &he)).To(BeTrue())
		Expect(he.Stage).To(Equal(handshake.StageMsg2))
		Expect(he.Reason).To(BeElementOf(handshake.ReasonMalformed, handshake.ReasonIO))
		Expect(<-errc).To(HaveOccurred())
	})

	It("times out a server whose device never speaks", func() {
		dconn, sconn := net.Pipe()
		defer dconn.Close()
		defer sconn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, _, err := mustServer(set.Broker).Handshake(ctx, sconn)
		expectFailure(err, handshake.StageMsg1, handshake.ReasonTimeout)
	})

	It("times out a device whose server never answers, after its ClientHello", func() {
		dconn, sconn, err := tcpPair()
		Expect(err).NotTo(HaveOccurred())
		defer dconn.Close()
		defer sconn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err = caDevice().Handshake(ctx, dconn)
		expectFailure(err, handshake.StageMsg2, handshake.ReasonTimeout)
	})

	It("stops when its context is cancelled", func() {
		dconn, sconn := net.Pipe()
		defer dconn.Close()
		defer sconn.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, _, err := mustServer(set.Broker).Handshake(ctx, sconn)
			errc <- err
		}()
		cancel()
		var err error
		Eventually(errc).WithTimeout(testLimit).Should(Receive(&err))
		expectFailure(err, handshake.StageMsg1, handshake.ReasonTimeout)
	})
})

var _ = Describe("tampering with the server's first flight", Label("slow"), func() {
	// first is the server's whole first flight: ServerHello, the
	// compatibility ChangeCipherSpec and the encrypted EncryptedExtensions,
	// Certificate, CertificateVerify and Finished (RFC 8446 §2, §D.4).
	var first int64

	// handshakeVia runs a handshake through r and returns the number of
	// server bytes the relay carried during it (before any close_notify).
	handshakeVia := func(r *relay) (d, s result, n int64) {
		d, s = run(caDevice(), mustServer(set.Broker), r.dev, r.srv)
		n = r.fromSrv.Load()
		// Closing the raw conns, not the tls.Conns: a tls.Conn's Close
		// waits up to 5 s for its close_notify to be read.
		r.close()
		return d, s, n
	}

	BeforeEach(func() {
		r, err := newRelay(-1, 0)
		Expect(err).NotTo(HaveOccurred())
		d, s, n := handshakeVia(r)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		first = n
		Expect(first).To(BeNumerically(">", 300))
	})

	It("fails the handshake for a change in any byte but the first record's legacy_record_version", func() {
		var tolerated []int64
		reasons := map[handshake.Reason]int{}
		for i := range first {
			r, err := newRelay(i, first)
			Expect(err).NotTo(HaveOccurred())
			d, _, _ := handshakeVia(r)
			if d.err == nil {
				tolerated = append(tolerated, i)
				continue
			}
			var he *handshake.Error
			Expect(errors.As(d.err, &he)).To(BeTrue(), "offset %d: %v", i, d.err)
			Expect(he.Profile).To(Equal(handshake.TLS))
			Expect(he.Stage).To(Equal(handshake.StageMsg2), "offset %d: %v", i, d.err)
			reasons[he.Reason]++
		}
		// RFC 8446 §5.1: legacy_record_version "MUST be ignored for all
		// purposes"; crypto/tls checks it only once the version is agreed,
		// i.e. from the second record on. Bytes 1 and 2 are that field of
		// the record carrying the ServerHello.
		Expect(tolerated).To(Equal([]int64{1, 2}))
		Expect(reasons).To(HaveKey(handshake.ReasonDecrypt))
		GinkgoWriter.Printf("first flight %d bytes; failures by reason %v\n", first, reasons)
	})
})

var _ = Describe("hostile input to the server", func() {
	DescribeTable("gets a typed error, never a panic",
		func(in func() []byte, r handshake.Reason) {
			mc := newMemConn(in())
			_, _, err := mustServer(set.Broker).Handshake(context.Background(), mc)
			expectFailure(err, handshake.StageMsg1, r)
		},
		Entry("nothing", func() []byte { return nil }, handshake.ReasonIO),
		Entry("an HTTP request", func() []byte { return []byte("GET / HTTP/1.1\r\nHost: broker\r\n\r\n") }, handshake.ReasonMalformed),
		Entry("MQTT in the clear", func() []byte { return []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 0} }, handshake.ReasonMalformed),
		Entry("a psk msg1", func() []byte { return []byte{0x00, 0x0a, 0x01, 0x08, 'p', 's', 'k', '-', '0', '0', '0', '1'} }, handshake.ReasonMalformed),
		Entry("half a ClientHello", func() []byte { h := clientHello(); return h[:len(h)/2] }, handshake.ReasonIO),
		Entry("a ClientHello with a broken length", func() []byte { h := clientHello(); h[6] ^= 0x40; return h }, handshake.ReasonMalformed),
		Entry("an oversized record", func() []byte { return []byte{0x16, 0x03, 0x01, 0xff, 0xff, 0x01} }, handshake.ReasonMalformed),
	)

	It("answers a ClientHello and then fails on the missing Finished", func() {
		mc := newMemConn(clientHello())
		_, _, err := mustServer(set.Broker).Handshake(context.Background(), mc)
		expectFailure(err, handshake.StageMsg3, handshake.ReasonIO)
		Expect(mc.out.Len()).To(BeNumerically(">", 300))
	})

	It("gets a typed error on the device from a server that sends garbage", func() {
		mc := newMemConn([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		_, err := caDevice().Handshake(context.Background(), mc)
		expectFailure(err, handshake.StageMsg2, handshake.ReasonMalformed)
	})
})

var _ = Describe("configuration", func() {
	DescribeTable("NewDevice refuses a bad config",
		func(cfg tlsprofile.DeviceConfig) {
			_, err := tlsprofile.NewDevice(cfg)
			Expect(err).To(HaveOccurred())
		},
		Entry("no mode", tlsprofile.DeviceConfig{}),
		Entry("an unknown mode", tlsprofile.DeviceConfig{Mode: "trust-me"}),
		Entry("a 16-byte fingerprint", tlsprofile.DeviceConfig{Mode: tlsprofile.Fingerprint, Pin: make([]byte, 16)}),
		Entry("a 20-byte spki pin", tlsprofile.DeviceConfig{Mode: tlsprofile.SPKI, Pin: make([]byte, 20)}),
		Entry("ca without roots", tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: "localhost"}),
		Entry("ca without a server name", tlsprofile.DeviceConfig{Mode: tlsprofile.CA, Roots: set.Roots}),
		Entry("ca-noclock without a build time", tlsprofile.DeviceConfig{Mode: tlsprofile.CANoClock, ServerName: "localhost", Roots: set.Roots}),
	)

	It("parses every mode by name", func() {
		for _, m := range tlsprofile.Modes {
			got, err := tlsprofile.ParseMode(string(m))
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(m))
		}
		_, err := tlsprofile.ParseMode("CA")
		Expect(err).To(HaveOccurred())
		Expect(strings.Join(modeNames(), ",")).To(Equal("none,fingerprint,spki,ca,ca-noclock,ca-ntp,ca-roughtime"))
	})

	It("needs a server certificate with its key", func() {
		_, err := tlsprofile.NewServer(tlsprofile.ServerConfig{})
		Expect(err).To(HaveOccurred())
		_, err = tlsprofile.NewServer(tlsprofile.ServerConfig{Certificate: tls.Certificate{Certificate: set.Broker.Certificate}})
		Expect(err).To(HaveOccurred())
	})

	It("names its profile and mode", func() {
		Expect(caDevice().Profile()).To(Equal(handshake.TLS))
		Expect(caDevice().Mode()).To(Equal(tlsprofile.CA))
		Expect(mustServer(set.Broker).Profile()).To(Equal(handshake.TLS))
	})

	It("copies the pin", func() {
		pin := spkiPin(set.Broker)
		dev := mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.SPKI, Pin: pin})
		pin[0] ^= 0xff
		check(dev, set.Broker, accepts)
	})
})

func modeNames() []string {
	var out []string
	for _, m := range tlsprofile.Modes {
		out = append(out, string(m))
	}
	return out
}
