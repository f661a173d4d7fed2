package harness_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"golang.org/x/crypto/curve25519"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/handshake/tlsprofile"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/harness/serialtest"
)

var serials atomic.Int64

// rig is a virtual board on a pseudo-terminal, opened by the harness, with
// its console captured for the spec.
type rig struct {
	vb      *virtual.Board
	enum    *serialtest.Enumerator
	b       *harness.Board
	console *gbytes.Buffer
}

func testOptions(enum harness.Enumerator) harness.Options {
	return harness.Options{
		Enumerator: enum,
		// Four times the protocol's 250 ms: a loaded machine may not run
		// the board's goroutine for a while, and a late answer is a
		// retransmission the retransmit specs would count.
		ResponseTimeout:  time.Second,
		BootTimeout:      10 * time.Second,
		HandshakeTimeout: 30 * time.Second,
		ReconnectTimeout: 5 * time.Second, // the link_lost spec waits this long
		PollInterval:     20 * time.Millisecond,
	}
}

func newRig(cfg virtual.Config) *rig {
	if cfg.Serial == "" {
		cfg.Serial = fmt.Sprintf("VB-%04d", serials.Add(1))
	}
	vb, err := virtual.Start(cfg)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(vb.Close)
	r := &rig{vb: vb, console: gbytes.NewBuffer()}
	r.enum = serialtest.NewEnumerator(harness.PortInfo{Name: vb.Path(), SerialNumber: vb.Serial()})
	opts := testOptions(r.enum)
	opts.Console = io.MultiWriter(r.console, GinkgoWriter)
	r.b, err = harness.Open(ctx(), vb.Path(), opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(r.b.Close)
	return r
}

func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	DeferCleanup(cancel)
	return c
}

// server is an in-process server of one profile on 127.0.0.1 that answers
// every application message m with "pong:" m.
type server struct {
	addr     string
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	ids      []handshake.Identity
	failures []error
}

func startServer(srv handshake.Server) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s := &server{addr: ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go s.serve(srv, raw)
		}
	}()
	DeferCleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *server) serve(srv handshake.Server, raw net.Conn) {
	defer s.wg.Done()
	defer raw.Close()
	hctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, id, err := srv.Handshake(hctx, raw)
	s.mu.Lock()
	if err != nil {
		s.failures = append(s.failures, err)
	} else {
		s.ids = append(s.ids, id)
	}
	s.mu.Unlock()
	if err != nil {
		return
	}
	defer conn.Close()
	buf := make([]byte, 1024)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if _, err := conn.Write(append([]byte("pong:"), buf[:n]...)); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *server) identities() []handshake.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]handshake.Identity(nil), s.ids...)
}

func (s *server) failed() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.failures...)
}

// fixture is a server of one profile and the identity to provision on the
// board so that the server accepts it.
type fixture struct {
	srv  handshake.Server
	prov bp.Provision
	dir  *handshaketest.Directory
}

func random(n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	Expect(err).NotTo(HaveOccurred())
	return b
}

func u64(v uint64) *uint64 { return &v }

func noiseFixture(id string) fixture {
	skp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	dpriv := random(32)
	dpub, err := curve25519.X25519(dpriv, curve25519.Basepoint)
	Expect(err).NotTo(HaveOccurred())
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.Noise, Key: dpub})
	srv, err := noise.NewServer(noise.ServerConfig{Keys: noise.NewKeyRing(noise.ServerKeys{Current: skp}), Directory: dir, Counters: dir})
	Expect(err).NotTo(HaveOccurred())
	return fixture{srv: srv, dir: dir, prov: bp.Provision{Profile: handshake.Noise, DeviceID: id,
		DeviceKey: dpriv, ServerKey: skp.Public, Counter: u64(0)}}
}

func pskFixture(id string) fixture {
	key := random(32)
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.PSK, Key: key})
	srv, err := psk.NewServer(psk.ServerConfig{Directory: dir})
	Expect(err).NotTo(HaveOccurred())
	return fixture{srv: srv, dir: dir, prov: bp.Provision{Profile: handshake.PSK, DeviceID: id, DeviceKey: key}}
}

func seedFixture(id string, c seed.Curve, code bp.Curve) fixture {
	priv, pub, err := seed.GenerateKey(c, rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.Seed, Curve: string(c), Key: pub})
	srv, err := seed.NewServer(seed.ServerConfig{Directory: dir})
	Expect(err).NotTo(HaveOccurred())
	return fixture{srv: srv, dir: dir, prov: bp.Provision{Profile: handshake.Seed, DeviceID: id, DeviceKey: priv, Curve: code}}
}

func tlsFixture() fixture {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "broker"},
		DNSNames: []string{"broker"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	srv, err := tlsprofile.NewServer(tlsprofile.ServerConfig{Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}})
	Expect(err).NotTo(HaveOccurred())
	pin := sha256.Sum256(der)
	return fixture{srv: srv, prov: bp.Provision{Profile: handshake.TLS, TLSVerify: bp.TLSVerifyFingerprint,
		TLSPin: pin[:], ServerName: "broker"}}
}

func reasonOf(err error) handshake.Reason { return handshake.ReasonOf(err) }

func isTyped(err error) bool {
	var he *handshake.Error
	return errors.As(err, &he)
}
