package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	fnoise "github.com/flynn/noise"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/server"
	"shakedown/server/registry"
	"shakedown/server/registry/pgtest"
)

// captureConn records what a device writes and ends the handshake at its
// first read: it yields a message 1 without a server.
type captureConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *captureConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c *captureConn) SetDeadline(time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }
func (c *captureConn) Close() error                     { return nil }

// messages1 makes n framed IK messages 1 from the set's noise devices, each
// device counting up from start, so every one is fresh for the server.
func messages1(b *testing.B, set *fixtures.Set, n int, start uint64) [][]byte {
	devs := set.DevicesOf(handshake.Noise)
	pins, _ := noise.NewPins(set.NoiseCurrent.Public)
	out := make([][]byte, n)
	counters := make([]*noise.MemCounter, len(devs))
	for i := range counters {
		counters[i] = noise.NewMemCounter(start)
	}
	for i := range out {
		k := i % len(devs)
		dev, err := noise.NewDevice(noise.DeviceConfig{Static: devs[k].Keypair(), Pins: pins, Counter: counters[k]})
		if err != nil {
			b.Fatal(err)
		}
		cc := &captureConn{}
		dev.Handshake(context.Background(), cc)
		out[i] = bytes.Clone(cc.out.Bytes())
	}
	return out
}

// queue hands out messages 1 in order. Message i and message i+devs are
// one device's: the server must see the first before the second, or it
// refuses the second as a replay, so a client that takes a message waits
// until the device's previous handshake has finished.
type queue struct {
	msgs [][]byte
	done []chan struct{}
	devs int64
	next atomic.Int64
}

func newQueue(msgs [][]byte, devs int) *queue {
	q := &queue{msgs: msgs, done: make([]chan struct{}, len(msgs)), devs: int64(devs)}
	for i := range q.done {
		q.done[i] = make(chan struct{})
	}
	return q
}

// take returns the next message, once its device's previous one finished.
func (q *queue) take() (int64, []byte) {
	i := q.next.Add(1) - 1
	if i >= q.devs {
		<-q.done[i-q.devs]
	}
	return i, q.msgs[i]
}

// finish marks message i's handshake finished, whatever its result.
func (q *queue) finish(i int64) { close(q.done[i]) }

// memConn reads a fixed message 1 and discards what the server writes.
type memConn struct {
	captureConn
	r *bytes.Reader
}

func (c *memConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// closeSink ends every session at once: the benchmark measures handshakes.
type closeSink struct{}

func (closeSink) AttachDevice(c net.Conn, _ handshake.Identity) error { return c.Close() }

// BenchmarkNoiseHandshakeRate compares, in one run and on the same cores,
// the responder's crypto alone (in memory, in-memory registry) with the
// full path: TCP accept, framing, registry lookup of the device key, the
// counter persisted durably, message 2 written. The clients only replay
// precomputed messages 1, so their cost stays out of the figure.
// docs/benchmarks.md records the ratio (goal: full path >= 0.7 of crypto).
func BenchmarkNoiseHandshakeRate(b *testing.B) {
	set, err := fixtures.Build(fixtures.Options{Seed: "bench", DevicesPerProfile: 64})
	if err != nil {
		b.Fatal(err)
	}
	ring := noise.NewKeyRing(noise.ServerKeys{Current: set.NoiseCurrent})
	var epoch atomic.Uint64
	epoch.Store(uint64(time.Now().UnixNano()))

	b.Run("crypto", func(b *testing.B) {
		dir := handshaketest.NewDirectory(set.Records()...)
		srv, _ := noise.NewServer(noise.ServerConfig{Keys: ring, Directory: dir, Counters: dir})
		q := newQueue(messages1(b, set, b.N, epoch.Add(1<<32)), len(set.DevicesOf(handshake.Noise)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i, m := q.take()
				_, _, err := srv.Handshake(context.Background(), &memConn{r: bytes.NewReader(m)})
				q.finish(i)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hs/s")
	})

	fullPath := func(b *testing.B, dsn string) {
		reg, err := registry.Open(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer reg.Close()
		for _, d := range set.DevicesOf(handshake.Noise) {
			if err := reg.AddDevice(context.Background(), registry.Device{ID: d.ID, Profile: d.Profile, Key: d.Public, State: registry.Active}); err != nil {
				b.Fatal(err)
			}
		}
		srv, _ := noise.NewServer(noise.ServerConfig{Keys: ring, Directory: reg, Counters: reg})
		gw := server.NewGateway(closeSink{}, server.Limits{MaxHalfOpen: 4096}, nil, nil)
		defer gw.Close(time.Second)
		addr, err := gw.Listen("127.0.0.1:0", srv)
		if err != nil {
			b.Fatal(err)
		}
		q := newQueue(messages1(b, set, b.N, epoch.Add(1<<32)), len(set.DevicesOf(handshake.Noise)))
		b.ResetTimer()
		b.SetParallelism(16) // enough connections in flight to keep both cores busy
		b.RunParallel(func(pb *testing.PB) {
			reply := make([]byte, handshake.FrameHeaderLen+noise.MsgLenIK2)
			for pb.Next() {
				i, m := q.take()
				err := handshakeOnce(addr.String(), m, reply)
				q.finish(i)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hs/s")
	}
	b.Run("fullpath-sqlite", func(b *testing.B) {
		fullPath(b, "sqlite:"+filepath.Join(b.TempDir(), "registry.db"))
	})
	if os.Getenv(pgtest.EnvDSN) != "" {
		b.Run("fullpath-postgres", func(b *testing.B) {
			fullPath(b, pgtest.Schema(b, "bench_"))
		})
	}
}

var _ = fnoise.DHKey{}

// handshakeOnce sends message 1 on a new connection and reads message 2.
func handshakeOnce(addr string, m, reply []byte) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(m); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, reply); err != nil {
		return fmt.Errorf("no message 2: %w", err)
	}
	return nil
}
