package seed_test

import (
	"context"
	"errors"
	"testing"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/seed"
)

// fuzzServer is a server knowing sensor-01 (secp160r1) and sensor-02 (p256).
func fuzzServer(tb testing.TB) *seed.Server {
	dir := handshaketest.NewDirectory()
	for i, c := range []seed.Curve{seed.Secp160r1, seed.P256} {
		_, pub, err := seed.GenerateKey(c, newFixedRand("fuzz"))
		if err != nil {
			tb.Fatal(err)
		}
		dir.Put(handshake.DeviceRecord{ID: "sensor-0" + string(rune('1'+i)), Profile: handshake.Seed, Curve: string(c), Key: pub})
	}
	srv, err := seed.NewServer(seed.ServerConfig{Directory: dir})
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// rotateID maps each ID byte to another of its class (a-z, A-Z, 0-9) and
// leaves the others alone: a message with a different ID of the same shape.
func rotateID(stream []byte) []byte {
	const idStart = handshake.FrameHeaderLen + 3
	out := append([]byte(nil), stream...)
	for i := idStart; i < len(out); i++ {
		switch b := out[i]; {
		case 'a' <= b && b <= 'z':
			out[i] = 'a' + (b-'a'+7)%26
		case 'A' <= b && b <= 'Z':
			out[i] = 'A' + (b-'A'+7)%26
		case '0' <= b && b <= '9':
			out[i] = '0' + (b-'0'+7)%10
		}
	}
	return out
}

func checkSeedError(t *testing.T, err error) *handshake.Error {
	var he *handshake.Error
	if !errors.As(err, &he) || he.Profile != handshake.Seed {
		t.Fatalf("error is not a seed *handshake.Error: %T", err)
	}
	if he.Reason == "" || he.Reason == handshake.ReasonInternal {
		t.Fatalf("unexpected reason %q", he.Reason)
	}
	return he
}

// FuzzServer feeds arbitrary bytes to the server as the device's stream.
// Every failure must be a typed seed error, and an error's text must not
// depend on the ID bytes beyond its reason: the same stream with another ID
// of the same shape, failing for the same reason, gives the same text.
func FuzzServer(f *testing.F) {
	f.Add(frame(append([]byte{1, 2, 9}, "sensor-01"...)))
	f.Add(frame(append([]byte{1, 1, 9}, "sensor-02"...)))
	f.Add(frame(append([]byte{1, 1, 9}, "sensor-01"...)))
	f.Add(frame(append([]byte{1, 2, 7}, "ghost-7"...)))
	f.Add([]byte{0, 2, 1, 2})
	srv := fuzzServer(f)
	conn := newScriptConn(nil)
	other := newScriptConn(nil)
	f.Fuzz(func(t *testing.T, stream []byte) {
		conn.reset(stream)
		sess, _, err := srv.Handshake(context.Background(), conn)
		if err == nil {
			if sess == nil {
				t.Fatal("no session and no error")
			}
			return
		}
		he := checkSeedError(t, err)
		other.reset(rotateID(stream))
		_, _, err2 := srv.Handshake(context.Background(), other)
		if he2, ok := err2.(*handshake.Error); ok && he2.Reason == he.Reason && he2.Stage == he.Stage && err2.Error() != err.Error() {
			t.Fatalf("error text depends on the ID: %q vs %q", err, err2)
		}
	})
}

// FuzzDevice feeds arbitrary bytes to devices (both curves, checked and
// SkipPointCheck) as the server's stream: typed errors, never a panic.
func FuzzDevice(f *testing.F) {
	var devs []*seed.Device
	for _, c := range []seed.Curve{seed.Secp160r1, seed.P256} {
		priv, pub, err := seed.GenerateKey(c, newFixedRand("fuzz"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame(pub))
		f.Add(frame(seed.InvalidCurvePoint(c)))
		for _, skip := range []bool{false, true} {
			d, err := seed.NewDevice(seed.DeviceConfig{DeviceID: "sensor-01", Curve: c, Private: priv, SkipPointCheck: skip})
			if err != nil {
				f.Fatal(err)
			}
			devs = append(devs, d)
		}
	}
	f.Add(frame(seed.IdentityPoint()))
	conn := newScriptConn(nil)
	f.Fuzz(func(t *testing.T, stream []byte) {
		for _, d := range devs {
			conn.reset(stream)
			sess, err := d.Handshake(context.Background(), conn)
			if err == nil {
				if sess == nil {
					t.Fatal("no session and no error")
				}
				continue
			}
			if he := checkSeedError(t, err); he.Stage != handshake.StageMsg2 {
				t.Fatalf("device failed at stage %s", he.Stage)
			}
		}
	})
}
