package bridge

import (
	"bufio"
	"bytes"
	"context"
	"testing"

	"shakedown/handshake"
)

// BenchmarkFilterPublish reads and judges a 3.1.1 PUBLISH of 64 payload
// bytes to the device's own topic: the bridge's per-packet cost.
func BenchmarkFilterPublish(b *testing.B) {
	f := newFilter(testPolicy(), idA)
	if v := judgeB(f, connectOf(version311, devA, "", "")); v.reason != "" {
		b.Fatal(v.reason)
	}
	raw := publishOf(version311, "devices/"+devA+"/telemetry", 1, string(bytes.Repeat([]byte("p"), 64)))
	stream := bytes.NewReader(nil)
	r := bufio.NewReader(stream)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		stream.Reset(raw)
		r.Reset(stream)
		p, err := readPacket(r, DefaultMaxPacket)
		if err != nil {
			b.Fatal(err)
		}
		if v := f.packet(context.Background(), p); v.forward == nil {
			b.Fatal(v.reason)
		}
	}
}

// BenchmarkFilterConnect judges a CONNECT and rebuilds it for the broker.
func BenchmarkFilterConnect(b *testing.B) {
	raw := connectOf(version311, devA, "", "")
	b.ReportAllocs()
	for b.Loop() {
		if v := judgeB(newFilter(testPolicy(), idA), raw); v.forward == nil {
			b.Fatal(v.reason)
		}
	}
}

func judgeB(f *filter, raw []byte) verdict {
	p, err := readPacket(bufio.NewReader(bytes.NewReader(raw)), DefaultMaxPacket)
	if err != nil {
		return verdict{reason: handshake.ReasonMalformed}
	}
	return f.packet(context.Background(), p)
}
