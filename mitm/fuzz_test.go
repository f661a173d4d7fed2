package mitm_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"shakedown/handshake"
	"shakedown/mitm"
)

// FuzzReadUnit cuts arbitrary bytes into frames or TLS records: every unit
// is a header and the body its length field declares, the units are the
// stream's prefix in order, and every failure is a typed error.
func FuzzReadUnit(f *testing.F) {
	f.Add([]byte{0, 2, 'h', 'i', 0, 0}, false)
	f.Add([]byte{22, 3, 1, 0, 1, 1, 23, 3, 3, 0x41, 0x01}, true)
	f.Add([]byte{0xff, 0xff, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, tls bool) {
		fr, hdr, off := mitm.FramingFrames, 2, 0
		if tls {
			fr, hdr, off = mitm.FramingTLS, 5, 3
		}
		r := bytes.NewReader(data)
		var seen []byte
		for {
			u, err := mitm.ReadUnit(r, fr, handshake.Seed)
			if err != nil {
				var he *handshake.Error
				if !errors.As(err, &he) || he.Reason == "" || he.Stage != mitm.StageRelay {
					t.Fatalf("untyped error %v", err)
				}
				break
			}
			if len(u.Wire) < hdr || int(binary.BigEndian.Uint16(u.Wire[off:])) != len(u.Wire)-hdr {
				t.Fatalf("unit of %d bytes disagrees with its header", len(u.Wire))
			}
			seen = append(seen, u.Wire...)
			if !bytes.HasPrefix(data, seen) {
				t.Fatal("the units are not the stream")
			}
		}
	})
}

// FuzzReadPacket reads MQTT packets from arbitrary bytes: no panic, a typed
// error or a packet whose raw bytes are the next bytes of the stream.
func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00})
	f.Add([]byte{0x32, 0x08, 0x00, 0x01, 't', 0x00, 0x07, 'p', 'l', 'd'})
	f.Add([]byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01})
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})
	f.Add([]byte{0x30, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		var seen []byte
		for {
			_, raw, err := mitm.ReadPacket(br, handshake.TLS)
			if err != nil {
				var he *handshake.Error
				if !errors.As(err, &he) || he.Reason == "" {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			seen = append(seen, raw...)
			if len(raw) < 2 || !bytes.HasPrefix(data, seen) {
				t.Fatal("a packet's raw bytes are not the stream")
			}
			// The Remaining Length: 1 to 4 bytes, its shortest encoding.
			k := 1
			for k < len(raw)-1 && raw[k]&0x80 != 0 {
				k++
			}
			body := len(raw) - 1 - k
			if k > 4 || (body >= 128 && k == 1) || (k > 1 && raw[k] == 0) {
				t.Fatalf("accepted a %d-byte remaining length field for a %d-byte body", k, body)
			}
		}
	})
}

// FuzzPlaintextID parses arbitrary first messages as seed and psk would
// send them: an ID comes back only from a message of exactly its layout.
func FuzzPlaintextID(f *testing.F) {
	f.Add(true, append([]byte{1, 2, 4}, "dev1"...))
	f.Add(false, append([]byte{1, 4}, "dev1"...))
	f.Add(false, []byte{1, 0})
	f.Fuzz(func(t *testing.T, seed bool, msg1 []byte) {
		p, off := handshake.PSK, 1
		if seed {
			p, off = handshake.Seed, 2
		}
		id, err := mitm.PlaintextID(p, msg1)
		if err != nil {
			if handshake.ReasonOf(err) == handshake.ReasonInternal {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(id) == 0 || len(msg1) != off+1+len(id) || int(msg1[off]) != len(id) || string(msg1[off+1:]) != id {
			t.Fatalf("id %q does not match message 1", id)
		}
	})
}
