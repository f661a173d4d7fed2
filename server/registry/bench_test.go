package registry_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"shakedown/handshake"
	"shakedown/server/registry"
)

// Shapes of the benchmarks.
const (
	benchDevices = 10000
	// benchParallelism × GOMAXPROCS goroutines run the parallel variants: a
	// gateway has many handshakes in flight at once, and group commit needs
	// them to share a commit.
	benchParallelism = 16
)

// benchBackends runs fn against a fresh registry of each backend.
func benchBackends(b *testing.B, fn func(b *testing.B, reg registry.Registry)) {
	for _, be := range []backendUnderTest{sqliteBackend, postgresBackend} {
		b.Run(be.name, func(b *testing.B) {
			if be.name == postgresBackend.name && os.Getenv(envPGDSN) == "" {
				b.Skip(pgHowTo)
			}
			fn(b, openReg(b, be.fresh(b)))
		})
	}
}

// BenchmarkDeviceByKey is the lookup of every noise handshake: the device's
// static key, among benchDevices registered ones.
func BenchmarkDeviceByKey(b *testing.B) {
	benchBackends(b, func(b *testing.B, reg registry.Registry) {
		ctx := context.Background()
		ds := make([]registry.Device, benchDevices)
		for i := range ds {
			ds[i] = noiseDevice()
		}
		if err := reg.ImportDevices(ctx, ds); err != nil {
			b.Fatal(err)
		}
		lookup := func(b *testing.B, i int) {
			if _, err := reg.DeviceByKey(ctx, handshake.Noise, ds[i%len(ds)].Key); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("serial", func(b *testing.B) {
			i := 0
			for b.Loop() {
				lookup(b, i)
				i++
			}
		})
		b.Run("parallel", func(b *testing.B) {
			var next atomic.Int64
			b.SetParallelism(benchParallelism)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					lookup(b, int(next.Add(1)))
				}
			})
		})
	})
}

// BenchmarkAcceptCounter is the durable write of every noise handshake.
// Serial: one caller, so every call is a commit of its own. Parallel: many
// callers, each with its own device, sharing commits.
func BenchmarkAcceptCounter(b *testing.B) {
	benchBackends(b, func(b *testing.B, reg registry.Registry) {
		ctx := context.Background()
		ds := make([]registry.Device, 1024)
		for i := range ds {
			ds[i] = noiseDevice()
		}
		if err := reg.ImportDevices(ctx, ds); err != nil {
			b.Fatal(err)
		}
		var c uint64 // kept across repetitions (-count) of "serial"
		b.Run("serial", func(b *testing.B) {
			for b.Loop() {
				c++
				if err := reg.AcceptCounter(ctx, ds[0].ID, c); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Every run (the framework repeats it with growing b.N) takes other
		// devices or greater counters than the runs before.
		var worker atomic.Int64
		var base atomic.Uint64
		base.Store(1 << 32) // above anything "serial" stored
		b.Run("parallel", func(b *testing.B) {
			b.SetParallelism(benchParallelism)
			b.RunParallel(func(pb *testing.PB) {
				id := ds[1+int(worker.Add(1))%(len(ds)-1)].ID
				c := base.Add(1 << 32)
				for pb.Next() {
					c++
					if err := reg.AcceptCounter(ctx, id, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}
