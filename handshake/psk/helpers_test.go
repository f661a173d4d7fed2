package psk_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/psk"
)

// The test fleet: psk-0001 is the device under test; psk-0000 differs from
// it in one bit of the ID and has another key; the others are refused.
const (
	devID             = "psk-0001"
	neighbour         = "psk-0000" // devID with the low bit of its last byte flipped
	revokedID         = "psk-revoked"
	noiseID           = "noise-0001"
	absentID          = "psk-absent"
	testLimit         = 5 * time.Second       // a bound for tests that must not hang
	handshakeDeadline = 20 * time.Millisecond // for tests that wait for a timeout
	deviceLine        = "reading 21.5C"
	serverLine        = "ack 21.5C"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, psk.KeyLen) }

func newDirectory() *handshaketest.Directory {
	return handshaketest.NewDirectory(
		handshake.DeviceRecord{ID: devID, Profile: handshake.PSK, Key: key(1)},
		handshake.DeviceRecord{ID: neighbour, Profile: handshake.PSK, Key: key(2)},
		handshake.DeviceRecord{ID: revokedID, Profile: handshake.PSK, Key: key(3), Revoked: true},
		handshake.DeviceRecord{ID: noiseID, Profile: handshake.Noise, Key: key(4)},
	)
}

func mustDevice(id string, k []byte) *psk.Device {
	d, err := psk.NewDevice(psk.DeviceConfig{DeviceID: id, Key: k})
	if err != nil {
		panic(err)
	}
	return d
}

func mustServer(dir handshake.Directory) *psk.Server {
	s, err := psk.NewServer(psk.ServerConfig{Directory: dir})
	if err != nil {
		panic(err)
	}
	return s
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

// recorder is a net.Conn that keeps a copy of everything written to it.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.out.Bytes())
}

// memConn is a net.Conn that reads a fixed byte string and collects what
// is written to it: one side of a vector, a fuzz case or a benchmark,
// without goroutines.
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

// session returns the device's wire bytes for one session that writes
// each of lines as one record.
func session(dev *psk.Device, lines ...string) []byte {
	sink := newMemConn(nil)
	conn, err := dev.Handshake(context.Background(), sink)
	if err != nil {
		panic(err)
	}
	for _, l := range lines {
		if _, err := io.WriteString(conn, l); err != nil {
			panic(err)
		}
	}
	return sink.out.Bytes()
}
