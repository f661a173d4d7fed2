package tlsprofile_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
)

const (
	testLimit  = 5 * time.Second // a bound for tests that must not hang
	buildAge   = 200 * 24 * time.Hour
	deviceLine = "CONNECT tls-0001"
	serverLine = "CONNACK"
)

var fixtureNow = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// set is the fixture set every spec uses.
var set = func() *fixtures.Set {
	s, err := fixtures.Build(fixtures.Options{Seed: "tlsprofile tests", DevicesPerProfile: 1, Now: fixtureNow})
	if err != nil {
		panic(err)
	}
	return s
}()

func clock() time.Time     { return set.Now }
func buildTime() time.Time { return set.Now.Add(-buildAge) }

func sha1Pin(c tls.Certificate) []byte {
	s := sha1.Sum(c.Leaf.Raw)
	return s[:]
}

func sha256Pin(c tls.Certificate) []byte {
	s := sha256.Sum256(c.Leaf.Raw)
	return s[:]
}

func spkiPin(c tls.Certificate) []byte {
	s := sha256.Sum256(c.Leaf.RawSubjectPublicKeyInfo)
	return s[:]
}

func mustDevice(cfg tlsprofile.DeviceConfig) *tlsprofile.Device {
	d, err := tlsprofile.NewDevice(cfg)
	if err != nil {
		panic(err)
	}
	return d
}

func mustServer(c tls.Certificate) *tlsprofile.Server {
	s, err := tlsprofile.NewServer(tlsprofile.ServerConfig{Certificate: c})
	if err != nil {
		panic(err)
	}
	return s
}

// caDevice checks the chain at the fixture clock.
func caDevice() *tlsprofile.Device {
	return mustDevice(tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: set.ServerName, Roots: set.Roots, Now: clock})
}

// result of one side of a handshake.
type result struct {
	conn net.Conn
	id   handshake.Identity
	err  error
}

// run runs both sides over dconn and sconn; a side closes its conn when it fails.
func run(dev handshake.Device, srv handshake.Server, dconn, sconn net.Conn) (d, s result) {
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.conn, d.err = dev.Handshake(ctx, dconn)
		if d.err != nil {
			dconn.Close()
		}
	}()
	go func() {
		defer wg.Done()
		s.conn, s.id, s.err = srv.Handshake(ctx, sconn)
		if s.err != nil {
			sconn.Close()
		}
	}()
	wg.Wait()
	return d, s
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair() (a, b *net.TCPConn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	c := <-accepted
	if err != nil || c == nil {
		if c != nil {
			c.Close()
		}
		return nil, nil, err
	}
	return d.(*net.TCPConn), c.(*net.TCPConn), nil
}

// relay carries bytes between a device (over TCP, so its read side can be
// closed alone) and a server (over net.Pipe). It counts the server's bytes,
// flips the low bit of the server byte at offset flip (none when negative)
// and, when limit > 0, stops forwarding after limit server bytes and closes
// the device's read side: a device that needs more of the flight sees the
// end instead of waiting.
type relay struct {
	dev, srv net.Conn // the ends the device and the server use
	devR     *net.TCPConn
	srvR     net.Conn
	fromSrv  atomic.Int64
	flip     int64
	limit    int64
	wg       sync.WaitGroup
}

func newRelay(flip, limit int64) (*relay, error) {
	dev, devR, err := tcpPair()
	if err != nil {
		return nil, err
	}
	srv, srvR := net.Pipe()
	r := &relay{dev: dev, srv: srv, devR: devR, srvR: srvR, flip: flip, limit: limit}
	r.wg.Add(2)
	go r.serverToDevice()
	go r.deviceToServer()
	return r, nil
}

func (r *relay) serverToDevice() {
	defer r.wg.Done()
	defer r.devR.CloseWrite()
	buf := make([]byte, 4096)
	for {
		n, err := r.srvR.Read(buf)
		if n > 0 {
			start := r.fromSrv.Load()
			if r.limit > 0 && start+int64(n) > r.limit {
				n = int(r.limit - start)
			}
			if off := r.flip - start; r.flip >= 0 && off >= 0 && off < int64(n) {
				buf[off] ^= 0x01
			}
			r.fromSrv.Add(int64(n))
			if _, werr := r.devR.Write(buf[:n]); werr != nil {
				return
			}
			if r.limit > 0 && r.fromSrv.Load() >= r.limit {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *relay) deviceToServer() {
	defer r.wg.Done()
	defer r.srvR.Close()
	io.Copy(r.srvR, r.devR)
}

// close ends both sides and waits for the relay.
func (r *relay) close() {
	r.dev.Close()
	r.srv.Close()
	r.wg.Wait()
	r.devR.Close()
}

// memConn is a net.Conn that reads a fixed byte string and collects what
// is written to it.
type memConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func newMemConn(in []byte) *memConn { return &memConn{r: bytes.NewReader(in)} }

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// clientHello returns the first flight of a device: its ClientHello record.
func clientHello() []byte {
	mc := newMemConn(nil)
	caDevice().Handshake(context.Background(), mc)
	return mc.out.Bytes()
}
