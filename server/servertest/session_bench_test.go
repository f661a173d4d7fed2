package servertest_test

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

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
	conn, err := dev.Handshake(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: d.ID}}
	sub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1, ProtocolVersion: 4,
		Filters: packets.Subscriptions{{Filter: "devices/" + d.ID + "/cmd", Qos: 1}}}
	if err := connect.ConnectEncode(&out); err != nil {
		b.Fatal(err)
	}
	if err := sub.SubscribeEncode(&out); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		b.Fatal(err)
	}
	// CONNACK (4 bytes) and SUBACK (5 bytes).
	var in [9]byte
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for n := 0; n < len(in); {
		m, err := conn.Read(in[n:])
		if err != nil {
			b.Fatal(err)
		}
		n += m
	}
	if in[0] != packets.Connack<<4 || in[3] != 0 || in[4] != packets.Suback<<4 || in[8] != 1 {
		b.Fatalf("session of %s refused", d.ID)
	}
	conn.SetReadDeadline(time.Time{})
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
