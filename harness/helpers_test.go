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
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"golang.org/x/crypto/curve25519"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/seed"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/harness/serialtest"
	"shakedown/server/servertest"
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

// server is the reference server in process (servertest) for the profile
// of a fixture, in front of an Echo: it answers every application message
// m with "pong:" m.
type server struct {
	*servertest.Server
	*servertest.Echo
	addr string
}

func startServer(f fixture) *server {
	echo := &servertest.Echo{}
	f.opts.Sink = echo
	srv, err := servertest.Start(f.opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	return &server{Server: srv, Echo: echo, addr: srv.Addr(f.prov.Profile)}
}

// fixture is the identity to provision on the board, and the Options of a
// server of its profile that accepts it.
type fixture struct {
	prov bp.Provision
	opts servertest.Options
}

func random(n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	Expect(err).NotTo(HaveOccurred())
	return b
}

func u64(v uint64) *uint64 { return &v }

// serving returns the Options of a server of rec's profile that knows rec.
func serving(rec handshake.DeviceRecord) servertest.Options {
	return servertest.Options{Profiles: []handshake.Name{rec.Profile}, Devices: []handshake.DeviceRecord{rec}}
}

func noiseFixture(id string) fixture {
	skp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	dpriv := random(32)
	dpub, err := curve25519.X25519(dpriv, curve25519.Basepoint)
	Expect(err).NotTo(HaveOccurred())
	o := serving(handshake.DeviceRecord{ID: id, Profile: handshake.Noise, Key: dpub})
	o.NoiseCurrent = skp
	return fixture{opts: o,
		prov: bp.Provision{Profile: handshake.Noise, DeviceID: id, DeviceKey: dpriv, ServerKey: skp.Public, Counter: u64(0)}}
}

func pskFixture(id string) fixture {
	key := random(32)
	return fixture{opts: serving(handshake.DeviceRecord{ID: id, Profile: handshake.PSK, Key: key}),
		prov: bp.Provision{Profile: handshake.PSK, DeviceID: id, DeviceKey: key}}
}

func seedFixture(id string, c seed.Curve, code bp.Curve) fixture {
	priv, pub, err := seed.GenerateKey(c, rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	return fixture{opts: serving(handshake.DeviceRecord{ID: id, Profile: handshake.Seed, Curve: string(c), Key: pub}),
		prov: bp.Provision{Profile: handshake.Seed, DeviceID: id, DeviceKey: priv, Curve: code}}
}

func tlsFixture() fixture {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "broker"},
		DNSNames: []string{"broker"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	pin := sha256.Sum256(der)
	o := servertest.Options{Profiles: []handshake.Name{handshake.TLS}, Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
	return fixture{opts: o,
		prov: bp.Provision{Profile: handshake.TLS, TLSVerify: bp.TLSVerifyFingerprint, TLSPin: pin[:], ServerName: "broker"}}
}

func reasonOf(err error) handshake.Reason { return handshake.ReasonOf(err) }

func isTyped(err error) bool {
	var he *handshake.Error
	return errors.As(err, &he)
}
