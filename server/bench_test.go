package server_test

import (
	"context"
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

// messages1 makes n messages 1 of the set's noise devices (package
// handshaketest), each device counting up from start.
func messages1(b *testing.B, set *fixtures.Set, n int, start uint64) [][]byte {
	var keys []fnoise.DHKey
	for _, d := range set.DevicesOf(handshake.Noise) {
		keys = append(keys, d.Keypair())
	}
	msgs, err := handshaketest.NoiseMessages1(keys, set.NoiseCurrent.Public, n, start)
	if err != nil {
		b.Fatal(err)
	}
	return msgs
}

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
		q := handshaketest.NewQueue(messages1(b, set, b.N, epoch.Add(1<<32)), len(set.DevicesOf(handshake.Noise)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i, m := q.Take()
				_, _, err := srv.Handshake(context.Background(), handshaketest.ReplayConn(m))
				q.Finish(i)
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
		q := handshaketest.NewQueue(messages1(b, set, b.N, epoch.Add(1<<32)), len(set.DevicesOf(handshake.Noise)))
		b.ResetTimer()
		b.SetParallelism(16) // enough connections in flight to keep both cores busy
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i, m := q.Take()
				err := handshaketest.Replay(addr.String(), m, handshake.FrameHeaderLen+noise.MsgLenIK2)
				q.Finish(i)
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
