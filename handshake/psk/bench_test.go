package psk_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
)

func BenchmarkHandshakeDevice(b *testing.B) {
	dev := mustDevice(devID, key(1))
	ctx := context.Background()
	mc := newMemConn(nil)
	b.ReportAllocs()
	for b.Loop() {
		mc.out.Reset()
		if _, err := dev.Handshake(ctx, mc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandshakeServer(b *testing.B) {
	srv := mustServer(newDirectory())
	msg1 := session(mustDevice(devID, key(1)))
	ctx := context.Background()
	mc := newMemConn(msg1)
	b.ReportAllocs()
	for b.Loop() {
		mc.r.Reset(msg1)
		if _, _, err := srv.Handshake(ctx, mc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransport moves records device -> server over net.Pipe.
func BenchmarkTransport(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			dconn, sconn := net.Pipe()
			d, s := run(mustDevice(devID, key(1)), mustServer(newDirectory()), dconn, sconn)
			if d.err != nil || s.err != nil {
				b.Fatal(d.err, s.err)
			}
			defer d.conn.Close()
			defer s.conn.Close()
			benchTransport(b, d.conn, s.conn, size)
		})
	}
}

// benchTransport writes size bytes per iteration on w and reads them on r.
func benchTransport(b *testing.B, w, r net.Conn, size int) {
	msg := make([]byte, size)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, size)
		for range b.N {
			if _, err := io.ReadFull(r, buf); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
