package noise_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
)

// FuzzServer feeds an arbitrary device stream to the server side of every
// pattern: the result is a typed error (never a panic), and the error text
// never contains the bytes received.
func FuzzServer(f *testing.F) {
	skp, _ := noise.GenerateKeypair(nil)
	dkp, _ := noise.GenerateKeypair(nil)
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: "dev-1", Profile: handshake.Noise, Key: dkp.Public})
	ring := noise.NewKeyRing(noise.ServerKeys{Current: skp})
	servers := map[byte]*noise.Server{}
	for i, p := range []noise.Pattern{noise.IK, noise.XK, noise.KK} {
		s, err := noise.NewServer(noise.ServerConfig{Pattern: p, Keys: ring, Directory: dir, Counters: dir})
		if err != nil {
			f.Fatal(err)
		}
		servers[byte(i)] = s
	}
	f.Add(byte(0), append([]byte{0x00, noise.MsgLenIK1}, make([]byte, noise.MsgLenIK1)...))
	f.Add(byte(1), append([]byte{0x00, noise.MsgLenXK1}, make([]byte, noise.MsgLenXK1)...))
	f.Add(byte(2), handshake.AppendFrame(nil, noise.AppendHello(nil, "dev-1")))
	f.Add(byte(0), []byte{0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, which byte, wire []byte) {
		srv := servers[which%3]
		a, b := net.Pipe()
		go func() {
			a.Write(wire)
			a.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn, _, err := srv.Handshake(ctx, b)
		b.Close()
		if err == nil {
			conn.Close()
			t.Fatal("a fuzzed stream completed a handshake")
		}
		if handshake.ReasonOf(err) == handshake.ReasonInternal {
			t.Fatalf("untyped error: %v", err)
		}
		// Eight bytes or more: shorter inputs occur in any English text.
		if len(wire) >= 10 && strings.Contains(err.Error(), string(wire[2:])) {
			t.Fatalf("error echoes the input: %v", err)
		}
	})
}
