package seed_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"net"
	"strconv"
	"testing"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/seed"
)

func BenchmarkScalarMultP256(b *testing.B) {
	k, _ := ecdh.P256().GenerateKey(rand.Reader)
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	for b.Loop() {
		if _, err := k.ECDH(peer.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScalarMultP256Generic is P-256 on the generic math/big
// arithmetic: the cost of a SkipPointCheck device, and a yardstick for
// BenchmarkScalarMultSecp160r1.
func BenchmarkScalarMultP256Generic(b *testing.B) { benchGeneric(b, seed.P256) }

func BenchmarkScalarMultSecp160r1(b *testing.B) { benchGeneric(b, seed.Secp160r1) }

func benchGeneric(b *testing.B, c seed.Curve) {
	w, _ := c.Params()
	k, pub, _ := seed.GenerateKey(c, nil)
	p, err := w.Unmarshal(pub)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		w.ScalarMult(p, k)
	}
}

// BenchmarkHandshakeDevice measures the device side alone: the server's msg2
// is precomputed and replayed from memory, writes are discarded. One
// iteration is write msg1, read msg2, validate E, ECDH, HKDF, two AES-GCM
// instances.
func BenchmarkHandshakeDevice(b *testing.B) {
	for _, c := range seed.Curves {
		b.Run(string(c), func(b *testing.B) {
			priv, _, _ := seed.GenerateKey(c, nil)
			_, eph, _ := seed.GenerateKey(c, nil)
			dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: priv})
			if err != nil {
				b.Fatal(err)
			}
			script := frame(eph)
			conn := newScriptConn(script)
			ctx := context.Background()
			for b.Loop() {
				conn.reset(script)
				if _, err := dev.Handshake(ctx, conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandshakeServer measures the server side alone: msg1 is replayed
// from memory, the directory is in memory, writes are discarded. One
// iteration is read and parse msg1, look up and check the device's point,
// generate the ephemeral key (e·G), ECDH (e·D), HKDF, two AES-GCM instances.
func BenchmarkHandshakeServer(b *testing.B) {
	for _, c := range seed.Curves {
		b.Run(string(c), func(b *testing.B) {
			_, pub, _ := seed.GenerateKey(c, nil)
			dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: testID, Profile: handshake.Seed, Curve: string(c), Key: pub})
			srv, err := seed.NewServer(seed.ServerConfig{Directory: dir})
			if err != nil {
				b.Fatal(err)
			}
			script := frame(append([]byte{seed.Version, map[seed.Curve]byte{seed.P256: 1, seed.Secp160r1: 2}[c], byte(len(testID))}, testID...))
			conn := newScriptConn(script)
			ctx := context.Background()
			for b.Loop() {
				conn.reset(script)
				if _, _, err := srv.Handshake(ctx, conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandshakePipe runs both sides over net.Pipe: the latency of one
// whole handshake, both sides' work plus the pipe's goroutine handoffs.
func BenchmarkHandshakePipe(b *testing.B) {
	for _, c := range seed.Curves {
		b.Run(string(c), func(b *testing.B) {
			priv, pub, _ := seed.GenerateKey(c, nil)
			dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: testID, Profile: handshake.Seed, Curve: string(c), Key: pub})
			srv, _ := seed.NewServer(seed.ServerConfig{Directory: dir})
			dev, _ := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: priv})
			ctx := context.Background()
			for b.Loop() {
				d, s := net.Pipe()
				r := handshakePair(ctx, dev, srv, d, s)
				if r.devErr != nil || r.srvErr != nil {
					b.Fatal(r.devErr, r.srvErr)
				}
				d.Close()
				s.Close()
			}
		})
	}
}

// bufConn is a net.Conn over one in-memory buffer: what one end writes, the
// other reads, in a single goroutine.
type bufConn struct{ buf *bytes.Buffer }

func (c bufConn) Read(p []byte) (int, error)       { return c.buf.Read(p) }
func (c bufConn) Write(p []byte) (int, error)      { return c.buf.Write(p) }
func (c bufConn) Close() error                     { return nil }
func (c bufConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c bufConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c bufConn) SetDeadline(time.Time) error      { return nil }
func (c bufConn) SetReadDeadline(time.Time) error  { return nil }
func (c bufConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkTransport seals one record on the device side and opens it on
// the server side (AES-128-GCM, counter nonces, framing), per record size.
func BenchmarkTransport(b *testing.B) {
	for _, size := range []int{64, 1024, 16 * 1024} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			shared := make([]byte, seed.P256.SharedLen())
			rand.Read(shared)
			buf := bufConn{buf: new(bytes.Buffer)}
			dev, _ := seed.NewSession(buf, shared, testID, seed.DeviceSide)
			srv, _ := seed.NewSession(buf, shared, testID, seed.ServerSide)
			msg := make([]byte, size)
			got := make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := dev.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := srv.Read(got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
