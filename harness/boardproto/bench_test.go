package boardproto_test

import (
	"bytes"
	"testing"

	bp "shakedown/harness/boardproto"
)

// BenchmarkAppendFrame encodes a full-size frame: COBS and CRC.
func BenchmarkAppendFrame(b *testing.B) {
	f := bp.Frame{Type: bp.EvtRelayData, Seq: 1, Payload: bytes.Repeat([]byte{0, 1, 2, 3}, 63)}
	buf := make([]byte, 0, bp.MaxEncodedLen+2)
	b.SetBytes(int64(len(f.Payload)))
	for b.Loop() {
		var err error
		if buf, err = bp.AppendFrame(buf[:0], f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoderFeed splits a stream of full-size frames mixed with
// console text.
func BenchmarkDecoderFeed(b *testing.B) {
	var stream []byte
	for i := range 16 {
		w, err := bp.AppendFrame(nil, bp.Frame{Type: bp.EvtMessage, Seq: byte(i), Payload: bytes.Repeat([]byte{byte(i), 0}, 127)})
		if err != nil {
			b.Fatal(err)
		}
		stream = append(append(stream, w...), "debug: tick\r\n"...)
	}
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		var d bp.Decoder
		if items := d.Feed(stream); len(items) != 32 {
			b.Fatalf("%d items", len(items))
		}
	}
}

// BenchmarkCRC16 is the bitwise CRC the firmware uses too.
func BenchmarkCRC16(b *testing.B) {
	p := bytes.Repeat([]byte("123456789"), 29)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		bp.CRC16(p)
	}
}
