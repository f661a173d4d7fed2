package seed_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/seed"
)

// testID is the device of most tests.
const testID = "sensor-01"

// fixedRand is a deterministic byte stream: SHA-256(label || counter) blocks.
type fixedRand struct {
	label string
	ctr   uint64
	buf   []byte
}

func newFixedRand(label string) *fixedRand { return &fixedRand{label: label} }

func (r *fixedRand) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.New()
		h.Write([]byte(r.label))
		h.Write(binary.BigEndian.AppendUint64(nil, r.ctr))
		r.ctr++
		r.buf = h.Sum(r.buf)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// fixture is one registered device with its device side and a server.
type fixture struct {
	curve     seed.Curve
	priv, pub []byte
	dir       *handshaketest.Directory
	dev       *seed.Device
	srv       *seed.Server
}

func newFixture(c seed.Curve, label string) *fixture {
	priv, pub, err := seed.GenerateKey(c, newFixedRand(label))
	Expect(err).NotTo(HaveOccurred())
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{
		ID: testID, Profile: handshake.Seed, Curve: string(c), Key: pub,
	})
	dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: priv})
	Expect(err).NotTo(HaveOccurred())
	srv, err := seed.NewServer(seed.ServerConfig{Directory: dir})
	Expect(err).NotTo(HaveOccurred())
	return &fixture{curve: c, priv: priv, pub: pub, dir: dir, dev: dev, srv: srv}
}

// pairResult holds what both sides of one handshake returned.
type pairResult struct {
	devConn, srvConn net.Conn
	id               handshake.Identity
	devErr, srvErr   error
}

// handshakePair runs dev over devRaw and srv over srvRaw concurrently. A side
// that fails closes its raw conn, as a caller of Handshake does.
func handshakePair(ctx context.Context, dev handshake.Device, srv handshake.Server, devRaw, srvRaw net.Conn) pairResult {
	var r pairResult
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if r.devConn, r.devErr = dev.Handshake(ctx, devRaw); r.devErr != nil {
			devRaw.Close()
		}
	}()
	go func() {
		defer wg.Done()
		if r.srvConn, r.id, r.srvErr = srv.Handshake(ctx, srvRaw); r.srvErr != nil {
			srvRaw.Close()
		}
	}()
	wg.Wait()
	return r
}

func testCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// exchange sends one record each way and returns what each receiver got.
func exchange(devConn, srvConn net.Conn, up, down []byte) (gotUp, gotDown []byte, errUp, errDown error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		devConn.Write(up)
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, len(up))
		_, errUp = io.ReadFull(srvConn, buf)
		gotUp = buf
		srvConn.Write(down)
	}()
	buf := make([]byte, len(down))
	_, errDown = io.ReadFull(devConn, buf)
	gotDown = buf
	// A receiver that failed leaves the peer's Write blocked on a pipe:
	// closing both ends releases it.
	if errUp != nil || errDown != nil {
		devConn.Close()
		srvConn.Close()
	}
	wg.Wait()
	return gotUp, gotDown, errUp, errDown
}

// relay carries the two handshake frames from devSide to srvSide and back,
// passing each message through mutate (index 0: msg1, 1: msg2), then copies
// bytes both ways. It closes both sides when either fails or closes, and
// closes done when all its goroutines have returned.
func relay(devSide, srvSide net.Conn, mutate func(i int, m []byte) []byte) (done chan struct{}) {
	done = make(chan struct{})
	go func() {
		defer close(done)
		defer devSide.Close()
		defer srvSide.Close()
		m1, err := handshake.ReadFrame(devSide, nil, handshake.MaxFrameLen)
		if err != nil || handshake.WriteFrame(srvSide, mutate(0, m1)) != nil {
			return
		}
		m2, err := handshake.ReadFrame(srvSide, nil, handshake.MaxFrameLen)
		if err != nil || handshake.WriteFrame(devSide, mutate(1, m2)) != nil {
			return
		}
		back := make(chan struct{})
		go func() {
			defer close(back)
			io.Copy(devSide, srvSide)
			devSide.Close()
			srvSide.Close()
		}()
		io.Copy(srvSide, devSide)
		devSide.Close()
		srvSide.Close()
		<-back
	}()
	return done
}

// scriptConn is a net.Conn that reads a fixed script and discards writes.
type scriptConn struct {
	r *bytes.Reader
}

func newScriptConn(script []byte) *scriptConn { return &scriptConn{r: bytes.NewReader(script)} }

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) reset(script []byte)              { c.r.Reset(script) }

// recordingConn logs every Write of the wrapped conn.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, append([]byte(nil), p...))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) log() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.writes...)
}

func frame(m []byte) []byte { return handshake.AppendFrame(nil, m) }

func reasonOf(err error) handshake.Reason { return handshake.ReasonOf(err) }

// expectSeedError requires err to be a *handshake.Error of the seed profile
// with the given stage and reason.
func expectSeedError(err error, st handshake.Stage, r handshake.Reason) {
	var he *handshake.Error
	ExpectWithOffset(1, err).To(BeAssignableToTypeOf(he))
	he = err.(*handshake.Error)
	ExpectWithOffset(1, he.Profile).To(Equal(handshake.Seed))
	ExpectWithOffset(1, he.Stage).To(Equal(st))
	ExpectWithOffset(1, he.Reason).To(Equal(r))
}
