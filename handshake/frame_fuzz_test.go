package handshake_test

import (
	"bytes"
	"errors"
	"testing"

	"shakedown/handshake"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader: it must return a
// frame no longer than the limit or a typed error, never panic, and a frame
// it returns must round-trip through AppendFrame.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x00, 0x03, 'a', 'b', 'c'}, 16)
	f.Add([]byte{0xff, 0xff}, 65535)
	f.Add([]byte{0x00, 0x00}, 8)
	f.Add([]byte{0x00}, 8)
	f.Fuzz(func(t *testing.T, wire []byte, max int) {
		if max < 1 || max > handshake.MaxFrameLen {
			max = handshake.MaxFrameLen
		}
		r := bytes.NewReader(wire)
		for {
			msg, err := handshake.ReadFrame(r, nil, max)
			if err != nil {
				if handshake.FrameReason(err) == "" {
					t.Fatalf("untyped frame error %v", err)
				}
				if errors.Is(err, handshake.ErrOversizeFrame) && len(wire) < 2 {
					t.Fatal("oversize reported without a header")
				}
				return
			}
			if len(msg) == 0 || len(msg) > max {
				t.Fatalf("frame of %d bytes with limit %d", len(msg), max)
			}
			if got := handshake.AppendFrame(nil, msg); !bytes.Equal(got[2:], msg) {
				t.Fatal("round trip differs")
			}
		}
	})
}
