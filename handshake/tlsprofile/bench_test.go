package tlsprofile_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
)

// A TLS 1.3 handshake cannot be replayed to one side (both sides' key
// shares and randoms are fresh), so the handshake benchmarks run the peer
// in a goroutine over net.Pipe: ns/op is one whole handshake as the measured
// side sees it, including the peer's work on a shared CPU.

func BenchmarkHandshakeDevice(b *testing.B) {
	dev, srv := caDevice(), mustServer(set.Broker)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dconn, sconn := net.Pipe()
		done := make(chan error, 1)
		go func() {
			_, _, err := srv.Handshake(ctx, sconn)
			done <- err
		}()
		if _, err := dev.Handshake(ctx, dconn); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		dconn.Close()
		sconn.Close()
	}
}

func BenchmarkHandshakeServer(b *testing.B) {
	dev, srv := caDevice(), mustServer(set.Broker)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dconn, sconn := net.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := dev.Handshake(ctx, dconn)
			done <- err
		}()
		if _, _, err := srv.Handshake(ctx, sconn); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		dconn.Close()
		sconn.Close()
	}
}

// BenchmarkTransport moves application data device -> server over net.Pipe.
func BenchmarkTransport(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			dconn, sconn := net.Pipe()
			d, s := run(caDevice(), mustServer(set.Broker), dconn, sconn)
			if d.err != nil || s.err != nil {
				b.Fatal(d.err, s.err)
			}
			// Close the pipe, not the tls.Conns: their close_notify would
			// wait for a reader.
			defer dconn.Close()
			defer sconn.Close()
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
