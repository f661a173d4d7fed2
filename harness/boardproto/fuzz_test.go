package boardproto_test

import (
	"bytes"
	"errors"
	"testing"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// FuzzDecode feeds arbitrary bytes to the stream decoder, whole and split at
// an arbitrary point. It must never panic, must find the same frames and the
// same console bytes either way, and every frame it finds must re-encode to
// a frame that decodes to itself.
func FuzzDecode(f *testing.F) {
	for _, w := range [][]byte{
		mustWire(bp.Frame{Type: bp.CmdHello, Seq: 1, Payload: []byte{1, 1}}),
		append([]byte("boot\r\n"), mustWire(bp.Frame{Type: bp.EvtBoot, Payload: []byte{1, 1, 128, 0, 0, 0, 1}})...),
		{0x05, 0x01, 0x02, 0x00, 0xFF, 0x00},
	} {
		f.Add(w, uint16(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole := decodeAll(t, data)
		cut := int(split) % (len(data) + 1)
		parts := decodeAll(t, data[:cut], data[cut:])
		if len(whole.frames) != len(parts.frames) || !bytes.Equal(whole.console, parts.console) {
			t.Fatalf("split at %d changed the result: %d/%d frames", cut, len(whole.frames), len(parts.frames))
		}
		for i, fr := range whole.frames {
			if fr.Type != parts.frames[i].Type || fr.Seq != parts.frames[i].Seq || !bytes.Equal(fr.Payload, parts.frames[i].Payload) {
				t.Fatalf("frame %d differs after a split", i)
			}
			if len(fr.Payload) > bp.MaxPayload {
				t.Fatalf("frame %d has a %d-byte payload", i, len(fr.Payload))
			}
			w, err := bp.AppendFrame(nil, fr)
			if err != nil {
				t.Fatal(err)
			}
			again, err := bp.DecodeFrame(w[1 : len(w)-1])
			if err != nil || again.Type != fr.Type || again.Seq != fr.Seq || !bytes.Equal(again.Payload, fr.Payload) {
				t.Fatalf("frame %d does not survive re-encoding: %v", i, err)
			}
		}
		if n := len(whole.console); n > len(data) {
			t.Fatalf("%d console bytes out of %d input bytes", n, len(data))
		}
	})
}

type decoded struct {
	frames  []bp.Frame
	console []byte
}

func decodeAll(t *testing.T, chunks ...[]byte) decoded {
	var d bp.Decoder
	var out decoded
	for _, c := range chunks {
		for _, it := range d.Feed(c) {
			switch {
			case it.Frame != nil:
				out.frames = append(out.frames, *it.Frame)
			default:
				if it.Err != nil {
					var he *handshake.Error
					if !errors.As(it.Err, &he) {
						t.Fatalf("untyped error %T", it.Err)
					}
				}
				out.console = append(out.console, it.Console...)
			}
		}
	}
	return out
}

func mustWire(f bp.Frame) []byte {
	w, err := bp.AppendFrame(nil, f)
	if err != nil {
		panic(err)
	}
	return w
}

// FuzzPayloads runs every payload decoder over arbitrary bytes: a decoder
// either refuses with a *handshake.Error or returns a value that encodes back
// to the same bytes.
func FuzzPayloads(f *testing.F) {
	f.Add(byte(2), infoExample.Append(nil))
	f.Add(byte(5), doneExample.Append(nil))
	f.Add(byte(4), netReq.Append(nil))
	f.Add(byte(9), []byte{bp.TagDeviceID, 2, 'a', 'b', bp.TagCounter, 8, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, kind byte, p []byte) {
		type codec struct {
			parse  func([]byte) (interface{ Append([]byte) []byte }, error)
			strict bool // the encoding is canonical: re-encoding gives the same bytes
		}
		codecs := []codec{
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseHelloRequest(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseHello(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseInfo(p) }, false},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseBenchRequest(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseHandshakeRequest(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseHandshakeDone(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseBenchResult(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseBoot(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseCounters(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) {
				prov, _, err := bp.ParseProvision(p, bp.Provision{})
				return provisionCodec{prov}, err
			}, false},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseLog(p) }, true},
			{func(p []byte) (interface{ Append([]byte) []byte }, error) { return bp.ParseCredit(p) }, true},
		}
		c := codecs[int(kind)%len(codecs)]
		v, err := c.parse(p)
		if err != nil {
			var he *handshake.Error
			if !errors.As(err, &he) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		enc := v.Append(nil)
		if c.strict && !bytes.Equal(enc, p) {
			t.Fatalf("re-encoding differs")
		}
		// Non-canonical encodings (bitmaps with unknown bits, repeated
		// provisioning fields) must at least be stable once re-encoded.
		again, err := c.parse(enc)
		if err != nil {
			t.Fatalf("re-encoded payload refused: %v", err)
		}
		if !bytes.Equal(again.Append(nil), enc) {
			t.Fatalf("re-encoding is not stable")
		}
	})
}

type provisionCodec struct{ p bp.Provision }

func (c provisionCodec) Append(dst []byte) []byte {
	payloads, err := c.p.Payloads(1 << 16)
	if err != nil {
		panic(err)
	}
	for _, p := range payloads {
		dst = append(dst, p...)
	}
	return dst
}
