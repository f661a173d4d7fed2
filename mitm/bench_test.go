package mitm_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"

	"shakedown/handshake"
	"shakedown/mitm"
)

// BenchmarkRelayFrames measures what the proxy adds per unit: reading a
// frame, recording it and writing it on, over in-memory pipes.
func BenchmarkRelayFrames(b *testing.B) {
	for _, size := range []int{64, 1024, 16384} {
		b.Run(byteSize(size), func(b *testing.B) {
			dev, devEnd := net.Pipe()
			srvEnd, srv := net.Pipe()
			r := mitm.NewRelay(devEnd, srvEnd, mitm.FramingFrames, handshake.Noise, func(from mitm.Dir, i int, u mitm.Unit) []mitm.Emit {
				return []mitm.Emit{{To: from, Wire: u.Wire}}
			})
			go io.Copy(io.Discard, srv)
			wire := handshake.AppendFrame(nil, make([]byte, size))
			b.SetBytes(int64(len(wire)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := dev.Write(wire); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			dev.Close()
			srv.Close()
			r.Close()
		})
	}
}

// BenchmarkReadUnit measures cutting TLS records from a buffered stream.
func BenchmarkReadUnit(b *testing.B) {
	rec := append([]byte{23, 3, 3, 0x04, 0x00}, make([]byte, 1024)...)
	stream := bytes.Repeat(rec, 64)
	b.SetBytes(int64(len(rec)))
	r := bytes.NewReader(stream)
	for b.Loop() {
		if r.Len() == 0 {
			r.Reset(stream)
		}
		if _, err := mitm.ReadUnit(r, mitm.FramingTLS, handshake.TLS); err != nil {
			b.Fatal(err)
		}
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}
