package noise_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	fnoise "github.com/flynn/noise"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
)

// world is one server and one registered device.
type world struct {
	pattern noise.Pattern
	ring    *noise.KeyRing
	dir     *handshaketest.Directory
	server  *noise.Server
	static  fnoise.DHKey
	pins    *noise.Pins
	counter *noise.MemCounter
}

func mustKey() fnoise.DHKey {
	kp, err := noise.GenerateKeypair(nil)
	Expect(err).NotTo(HaveOccurred())
	return kp
}

func newWorld(p noise.Pattern) *world {
	w := &world{pattern: p, static: mustKey(), counter: noise.NewMemCounter(0)}
	skp := mustKey()
	w.ring = noise.NewKeyRing(noise.ServerKeys{Current: skp})
	w.dir = handshaketest.NewDirectory(handshake.DeviceRecord{ID: "dev-1", Profile: handshake.Noise, Key: w.static.Public})
	var err error
	w.server, err = noise.NewServer(noise.ServerConfig{Pattern: p, Keys: w.ring, Directory: w.dir, Counters: w.dir})
	Expect(err).NotTo(HaveOccurred())
	w.pins, err = noise.NewPins(skp.Public)
	Expect(err).NotTo(HaveOccurred())
	return w
}

func (w *world) device() *noise.Device {
	d, err := noise.NewDevice(noise.DeviceConfig{Pattern: w.pattern, Static: w.static, Pins: w.pins, Counter: w.counter, DeviceID: "dev-1"})
	Expect(err).NotTo(HaveOccurred())
	return d
}

// result of one side of a handshake.
type result struct {
	conn net.Conn
	id   handshake.Identity
	err  error
}

// run runs both sides over the given conns; each side closes its conn when it fails.
func run(dev handshake.Device, srv handshake.Server, dconn, sconn net.Conn) (d, s result) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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

// connect runs a handshake over a net.Pipe.
func (w *world) connect() (d, s result) {
	a, b := net.Pipe()
	return run(w.device(), w.server, a, b)
}

func closeAll(rs ...result) {
	for _, r := range rs {
		if r.conn != nil {
			r.conn.Close()
		}
	}
}

// tamperConn flips one bit of the byte at offset `at` of the stream in one direction.
type tamperConn struct {
	net.Conn
	onWrite bool
	at      int
	seen    int
}

func (c *tamperConn) Write(p []byte) (int, error) {
	if c.onWrite {
		q := append([]byte(nil), p...)
		if i := c.at - c.seen; i >= 0 && i < len(q) {
			q[i] ^= 0x01
		}
		c.seen += len(p)
		return c.Conn.Write(q)
	}
	return c.Conn.Write(p)
}

func (c *tamperConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.onWrite {
		if i := c.at - c.seen; i >= 0 && i < n {
			p[i] ^= 0x01
		}
		c.seen += n
	}
	return n, err
}

// recordConn records every byte that crosses it, both ways.
type recordConn struct {
	net.Conn
	mu   *sync.Mutex
	sent *[]byte
	recv *[]byte
}

func (c recordConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.sent = append(*c.sent, p...)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c recordConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	*c.recv = append(*c.recv, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// divertConn sends writes to buf instead of the wire once buf is set.
type divertConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
	on  bool
}

func (c *divertConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// divertedSession returns a finished session whose device writes are
// captured instead of sent, and the raw wire end on which the test plays
// the attacker towards the server.
func divertedSession(w *world) (dev, srv net.Conn, raw net.Conn) {
	a, b := net.Pipe()
	dc := &divertConn{Conn: a}
	d, s := run(w.device(), w.server, dc, b)
	Expect(d.err).NotTo(HaveOccurred())
	Expect(s.err).NotTo(HaveOccurred())
	dc.mu.Lock()
	dc.on = true
	dc.mu.Unlock()
	return d.conn, s.conn, a
}

// divertWrite writes msg on a diverted session and returns its wire frame.
func divertWrite(dev net.Conn, msg []byte) []byte {
	rc := dev.(*handshake.RecordConn)
	dc := rc.Conn.(*divertConn)
	dc.mu.Lock()
	dc.buf = nil
	dc.mu.Unlock()
	_, err := dev.Write(msg)
	Expect(err).NotTo(HaveOccurred())
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return append([]byte(nil), dc.buf...)
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// truncate shortens a frame's body by n bytes and fixes its length header.
func truncate(frame []byte, n int) []byte {
	body := frame[handshake.FrameHeaderLen : len(frame)-n]
	return handshake.AppendFrame(nil, body)
}

func mustRun(name string, args ...string) io.Reader {
	out, err := exec.Command(name, args...).Output()
	Expect(err).NotTo(HaveOccurred())
	return bytes.NewReader(out)
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
