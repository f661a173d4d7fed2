package noise_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	fnoise "github.com/flynn/noise"
	"golang.org/x/crypto/curve25519"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
)

// BenchmarkX25519 is one X25519 scalar multiplication (RFC 7748 §5) on
// crypto/ecdh, the unit of the handshake cost bound: an IK responder does
// five (es, ss, generating e, ee, se).
func BenchmarkX25519(b *testing.B) {
	k, _ := ecdh.X25519().GenerateKey(rand.Reader)
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.ECDH(peer.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkX25519XCrypto is x/crypto's curve25519.X25519, which flynn/noise's
// own DH25519 calls: it derives the public key again on every call, so it
// costs two scalar multiplications (see dh.go).
func BenchmarkX25519XCrypto(b *testing.B) {
	priv := make([]byte, 32)
	rand.Read(priv)
	peer, _ := curve25519.X25519(priv, curve25519.Basepoint)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := curve25519.X25519(priv, peer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkP256 is one P-256 ECDH scalar multiplication, for comparison.
func BenchmarkP256(b *testing.B) {
	k, _ := ecdh.P256().GenerateKey(rand.Reader)
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.ECDH(peer.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
}

// memConn is a net.Conn that reads a fixed stream and discards writes: it
// isolates one side's cost from the other side and from the network.
type memConn struct {
	r   *bytes.Reader
	out []byte
}

func (c *memConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)        { c.out = append(c.out, p...); return len(p), nil }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// acceptAll is a CounterStore that accepts every counter, so one recorded
// message 1 can be fed to the server again and again: the benchmark then
// measures the handshake's computation alone.
type acceptAll struct{ handshake.Directory }

func (acceptAll) AcceptCounter(context.Context, string, uint64) error { return nil }

// fixedCounter always returns the same value: benchmarks, and a device
// whose counter storage is broken.
type fixedCounter uint64

func (c fixedCounter) Next() (uint64, error) { return uint64(c), nil }

// BenchmarkServerHandshake is the responder's whole IK handshake: read
// message 1 (es, ss), look the device up, check the counter, write message 2
// (e, ee, se). Compare with 5 × BenchmarkX25519.
func BenchmarkServerHandshake(b *testing.B) {
	for _, p := range []noise.Pattern{noise.IK, noise.XK, noise.KK} {
		b.Run(string(p), func(b *testing.B) {
			w := newWorldB(b, p)
			// Record the device's messages of one handshake, with a fixed ephemeral.
			dev := w.deviceB(b, bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
			a, c := net.Pipe()
			var sent, recv []byte
			go func() {
				if conn, err := dev.Handshake(context.Background(), recordConnB(a, &sent, &recv)); err == nil {
					conn.Close()
				}
				a.Close()
			}()
			srv, _ := noise.NewServer(noise.ServerConfig{Pattern: p, Keys: w.ring, Directory: w.dir, Counters: acceptAll{w.dir}})
			conn, _, err := srv.Handshake(context.Background(), c)
			if err != nil {
				b.Fatal(err)
			}
			conn.Close()
			if p == noise.XK {
				b.Skip("XK's message 3 depends on the server's ephemeral: not replayable") // measured by BenchmarkFullHandshake
			}
			b.ReportAllocs()
			mc := &memConn{}
			for b.Loop() {
				mc.r, mc.out = bytes.NewReader(sent), mc.out[:0]
				if _, _, err := srv.Handshake(context.Background(), mc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeviceHandshake is the initiator's whole IK handshake: write
// message 1, read message 2. The server's reply is recorded once with fixed
// ephemerals and a fixed counter so that it can be replayed.
func BenchmarkDeviceHandshake(b *testing.B) {
	w := newWorldB(b, noise.IK)
	eph := bytes.Repeat([]byte{7}, 32)
	srv, _ := noise.NewServer(noise.ServerConfig{Keys: w.ring, Directory: w.dir, Counters: acceptAll{w.dir},
		Random: &repeatReader{b: bytes.Repeat([]byte{9}, 32)}})
	dev, _ := noise.NewDevice(noise.DeviceConfig{Static: w.static, Pins: w.pins, Counter: fixedCounter(5), Random: bytes.NewReader(eph)})
	a, c := net.Pipe()
	var sent, recv []byte
	go func() {
		if conn, _, err := srv.Handshake(context.Background(), c); err == nil {
			conn.Close()
		}
		c.Close()
	}()
	conn, err := dev.Handshake(context.Background(), recordConnB(a, &sent, &recv))
	if err != nil {
		b.Fatal(err)
	}
	conn.Close()
	b.ReportAllocs()
	mc := &memConn{}
	for b.Loop() {
		mc.r, mc.out = bytes.NewReader(recv), mc.out[:0]
		d, _ := noise.NewDevice(noise.DeviceConfig{Static: w.static, Pins: w.pins, Counter: fixedCounter(5), Random: bytes.NewReader(eph)})
		if _, err := d.Handshake(context.Background(), mc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullHandshake runs both sides over net.Pipe with fresh keys each time.
func BenchmarkFullHandshake(b *testing.B) {
	for _, p := range []noise.Pattern{noise.IK, noise.XK, noise.KK} {
		b.Run(string(p), func(b *testing.B) {
			w := newWorldB(b, p)
			b.ReportAllocs()
			for b.Loop() {
				a, c := net.Pipe()
				errc := make(chan error, 1)
				go func() {
					conn, _, err := w.server.Handshake(context.Background(), c)
					if err == nil {
						conn.Close()
					}
					errc <- err
				}()
				conn, err := w.deviceB(b, nil).Handshake(context.Background(), a)
				if err != nil {
					b.Fatal(err)
				}
				conn.Close()
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransport measures sealing, framing and opening one record.
func BenchmarkTransport(b *testing.B) {
	for _, size := range []int{64, 1024, 16 * 1024} {
		b.Run(byteSize(size), func(b *testing.B) {
			var k [32]byte
			send := handshake.NewRecordConn(&memConn{}, handshake.Noise,
				noise.TransportCipherForTest(fnoise.UnsafeNewCipherState(noise.CipherSuite, k, 0)), nil)
			recvConn := &memConn{}
			recv := handshake.NewRecordConn(recvConn, handshake.Noise, nil,
				noise.TransportCipherForTest(fnoise.UnsafeNewCipherState(noise.CipherSuite, k, 0)))
			msg := make([]byte, size)
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				mc := send.Conn.(*memConn)
				mc.out = mc.out[:0]
				if _, err := send.Write(msg); err != nil {
					b.Fatal(err)
				}
				recvConn.r = bytes.NewReader(mc.out)
				if _, err := io.ReadFull(recv, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return itoa(n/1024) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		n /= 10
		if n == 0 {
			return s
		}
	}
}

type repeatReader struct{ b []byte }

func (r *repeatReader) Read(p []byte) (int, error) { return copy(p, r.b), nil }

func newWorldB(b *testing.B, p noise.Pattern) *world {
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	dkp, err := noise.GenerateKeypair(nil)
	must(err)
	skp, err := noise.GenerateKeypair(nil)
	must(err)
	w := &world{pattern: p, static: dkp, counter: noise.NewMemCounter(0)}
	w.ring = noise.NewKeyRing(noise.ServerKeys{Current: skp})
	w.dir = handshaketestDirectory(dkp.Public)
	w.server, err = noise.NewServer(noise.ServerConfig{Pattern: p, Keys: w.ring, Directory: w.dir, Counters: w.dir})
	must(err)
	w.pins, err = noise.NewPins(skp.Public)
	must(err)
	return w
}

func (w *world) deviceB(b *testing.B, random io.Reader) *noise.Device {
	d, err := noise.NewDevice(noise.DeviceConfig{Pattern: w.pattern, Static: w.static, Pins: w.pins, Counter: w.counter, DeviceID: "dev-1", Random: random})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func recordConnB(c net.Conn, sent, recv *[]byte) net.Conn {
	return recordConn{Conn: c, mu: new(sync.Mutex), sent: sent, recv: recv}
}

func handshaketestDirectory(key []byte) *handshaketest.Directory {
	return handshaketest.NewDirectory(handshake.DeviceRecord{ID: "dev-1", Profile: handshake.Noise, Key: key})
}

// BenchmarkHandshakeCostRatio interleaves, iteration by iteration, one IK
// responder handshake and five X25519 operations, so that both see the same
// machine load, and reports their ratio: the bound of docs/benchmarks.md is
// ratio <= 1.25.
func BenchmarkHandshakeCostRatio(b *testing.B) {
	w := newWorldB(b, noise.IK)
	dev := w.deviceB(b, bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	a, c := net.Pipe()
	var sent, recv []byte
	go func() {
		if conn, err := dev.Handshake(context.Background(), recordConnB(a, &sent, &recv)); err == nil {
			conn.Close()
		}
		a.Close()
	}()
	srv, _ := noise.NewServer(noise.ServerConfig{Keys: w.ring, Directory: w.dir, Counters: acceptAll{w.dir}})
	if conn, _, err := srv.Handshake(context.Background(), c); err != nil {
		b.Fatal(err)
	} else {
		conn.Close()
	}
	k, _ := ecdh.X25519().GenerateKey(rand.Reader)
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	mc := &memConn{}
	var hs, dh time.Duration
	for b.Loop() {
		mc.r, mc.out = bytes.NewReader(sent), mc.out[:0]
		t0 := time.Now()
		if _, _, err := srv.Handshake(context.Background(), mc); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for range 5 {
			if _, err := k.ECDH(peer.PublicKey()); err != nil {
				b.Fatal(err)
			}
		}
		hs, dh = hs+t1.Sub(t0), dh+time.Since(t1)
	}
	b.ReportMetric(float64(hs.Microseconds())/float64(b.N), "handshake-µs")
	b.ReportMetric(float64(dh.Microseconds())/float64(b.N), "5xX25519-µs")
	b.ReportMetric(float64(hs)/float64(dh), "ratio")
}
