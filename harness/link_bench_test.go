package harness_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"

	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/psk"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// benchBoard opens a virtual board on a pseudo-terminal for a benchmark.
func benchBoard(b *testing.B, serial string) *harness.Board {
	b.Helper()
	vb, err := virtual.Start(virtual.Config{Serial: serial})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { vb.Close() })
	board, err := harness.Open(context.Background(), vb.Path(), testOptions(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { board.Close() })
	return board
}

// BenchmarkCommand is one query's round trip over the link: INFO out, its
// response back, through the pseudo-terminal and the virtual board.
func BenchmarkCommand(b *testing.B) {
	board := benchBoard(b, "VB-BENCH-CMD")
	ctx := context.Background()
	for b.Loop() {
		if _, err := board.Info(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommandParallel has several goroutines share the link: the
// protocol keeps one command in flight, so this measures the queueing.
func BenchmarkCommandParallel(b *testing.B) {
	board := benchBoard(b, "VB-BENCH-PAR")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := board.Counters(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSessionEcho is one application message through a relay-mode psk
// session and back: SEND, RELAY_DATA both ways, MESSAGE. The server echoes
// what it reads.
func BenchmarkSessionEcho(b *testing.B) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: "bench-echo", Profile: handshake.PSK, Key: key})
	srv, err := psk.NewServer(psk.ServerConfig{Directory: dir})
	if err != nil {
		b.Fatal(err)
	}
	addr := echoServer(b, srv)
	board := benchBoard(b, "VB-BENCH-ECHO")
	ctx := context.Background()
	if err := board.Provision(ctx, bp.Provision{Profile: handshake.PSK, DeviceID: "bench-echo", DeviceKey: key}); err != nil {
		b.Fatal(err)
	}
	s, err := board.Handshake(ctx, harness.HandshakeOptions{Profile: handshake.PSK, Server: addr})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	msg := bytes.Repeat([]byte("e"), 64)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := s.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(msg); {
			m, err := s.Receive(ctx)
			if err != nil {
				b.Fatal(err)
			}
			got += len(m)
		}
	}
}

// echoServer accepts one handshake of srv on loopback and copies the
// session back to itself.
func echoServer(b *testing.B, srv handshake.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		defer raw.Close()
		conn, _, err := srv.Handshake(context.Background(), raw)
		if err != nil {
			return
		}
		io.Copy(conn, conn)
		conn.Close()
	}()
	b.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}
