package servertest_test

import (
	"context"
	"flag"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/servertest"
)

// stackShrinks is the collections goMemory runs: enough to halve a stack
// grown to 32 KiB down to 2 KiB.
const stackShrinks = 5

var sessionHeap = flag.String("session-heap", "", "BenchmarkSessionMemory: write a heap profile here while the sessions are held")

// BenchmarkSessionMemory holds sessions connected noise devices on the
// in-process server (the code of `shakedown serve`) and reports the Go
// memory they hold, heap and stacks, per session. The devices are in the
// same process but hold only their conn (no goroutine, no MQTT client), so
// the figure is the server's session and the device's conn; -session-heap
// writes the heap profile that splits it by allocation site.
//
//	go test -run '^$' -bench SessionMemory -benchtime 1x ./server/servertest -args -session-heap heap.pb.gz
func BenchmarkSessionMemory(b *testing.B) {
	const sessions = 2000
	set, err := fixtures.Build(fixtures.Options{Seed: "session-memory", DevicesPerProfile: sessions})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := servertest.Start(servertest.Options{Devices: set.Records(), NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker,
		Profiles: []handshake.Name{handshake.Noise}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	pins, err := noise.NewPins(set.NoiseCurrent.Public)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		heap0, stack0 := goMemory()
		conns := make([]net.Conn, 0, sessions)
		for _, d := range set.DevicesOf(handshake.Noise) {
			conns = append(conns, session(b, srv.Addr(handshake.Noise), set, d, pins))
		}
		heap1, stack1 := goMemory()
		b.ReportMetric(float64(heap1+stack1-heap0-stack0)/sessions/1024, "KiB/session")
		b.ReportMetric(float64(heap1-heap0)/sessions/1024, "heap-KiB/session")
		b.ReportMetric(float64(stack1-stack0)/sessions/1024, "stack-KiB/session")
		if *sessionHeap != "" {
			writeHeap(b, *sessionHeap)
		}
		for _, c := range conns {
			c.Close()
		}
	}
}

// session connects device d: TCP, the noise handshake, CONNECT, SUBSCRIBE
// to its command topic, and the CONNACK and SUBACK read.
func session(b *testing.B, addr string, set *fixtures.Set, d fixtures.Device, pins *noise.Pins) net.Conn {
	id, err := fixtures.ProvisionDevice(set, d, fixtures.ProvisionOptions{Pins: pins})
	if err != nil {
		b.Fatal(err)
	}
	dev, err := id.NewDevice()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := servertest.Session(ctx, raw, dev, d.ID)
	if err != nil {
		b.Fatal(err)
	}
	return conn
}

// goMemory is the Go memory in use after collections: heap and stacks. A
// collection halves a stack at most once (when a quarter of it is in use),
// so a few let the stacks that grew while a session connected come down,
// as a long-running server's collections do.
func goMemory() (heap, stack uint64) {
	for range stackShrinks {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

func writeHeap(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
