package simulator

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"shakedown/reports"
)

// FuzzParseScenario: a scenario file never panics the parser; one it
// accepts passes Check and plans (small fleets) without panicking.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte("fixtures: {seed: s}\ngateway: {noise: 127.0.0.1:8885}\n"))
	f.Add([]byte("target: broker\nbroker: {addr: a:1}\ndevices: 3\nhostile: {share: 1}\nmix: {seed: 2, psk: 1}\n"))
	f.Add([]byte("devices: [\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		sc, err := ParseScenario(bytes.NewReader(doc))
		if err != nil {
			var se *ScenarioError
			if !errors.As(err, &se) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		if err := sc.Check(); err != nil {
			t.Fatalf("accepted a scenario that fails Check: %v", err)
		}
		if sc.Devices <= 1000 {
			plan := sc.Plan()
			if len(plan) != sc.Devices {
				t.Fatalf("plan of %d slots for %d devices", len(plan), sc.Devices)
			}
		}
		_ = sc.FleetID()
	})
}

// FuzzDecodeResults: a results file is checked before it is trusted: no
// panic, typed errors, and what it accepts merges and prints.
func FuzzDecodeResults(f *testing.F) {
	f.Add([]byte(`{"version":1,"fleet_id":"ab","shards":[{"index":0,"count":1}],"histograms":{"connect":{"lowest":1,"highest":600000000,"significant_figures":3,"total":3,"counts":[0,1,2]}}}`))
	f.Add([]byte(`{"version":1,"fleet_id":"ab","shards":[{"index":1,"count":2}],"failures":{"dial":{"io":4}},"hostile":{"replay":{"closed":1}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		r, err := DecodeResults(bytes.NewReader(doc))
		if err != nil {
			var re *reports.InputError
			if !errors.As(err, &re) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		m, err := Merge(r)
		if err != nil {
			t.Fatalf("merging one accepted result: %v", err)
		}
		if err := WriteSummary(io.Discard, m); err != nil {
			t.Fatal(err)
		}
		for st, s := range m.Histograms {
			if s.Total != r.Histograms[st].Total {
				t.Fatalf("%s: total %d after merge, %d before", st, s.Total, r.Histograms[st].Total)
			}
		}
	})
}

// FuzzParsePayload: a delivered payload is bytes from the broker.
func FuzzParsePayload(f *testing.F) {
	f.Add(appendPayload(nil, payloadHeader{Slot: 1, Seq: 2, Scheduled: 3}, 64))
	f.Add([]byte{})
	f.Add(make([]byte, PayloadHeaderLen-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parsePayload(b)
		if err != nil {
			if len(b) >= PayloadHeaderLen {
				t.Fatal("refused a payload long enough")
			}
			return
		}
		if again := appendPayload(nil, h, PayloadHeaderLen); !bytes.Equal(again, b[:PayloadHeaderLen]) {
			t.Fatal("header does not round-trip")
		}
	})
}

// FuzzParseSourceAddrs: a source list never panics and stays bounded.
func FuzzParseSourceAddrs(f *testing.F) {
	f.Add("127.0.0.2-127.0.0.20")
	f.Add("10.0.0.5, ::1, fd00::1-fd00::ff")
	f.Add("127.0.0.4-127.0.0.2")
	f.Fuzz(func(t *testing.T, v string) {
		addrs, err := ParseSourceAddrs(v)
		if err != nil {
			return
		}
		if len(addrs) == 0 || len(addrs) > MaxSourceAddrs {
			t.Fatalf("%d addresses", len(addrs))
		}
		for _, a := range addrs {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("address %v", a)
			}
		}
	})
}

// FuzzParseShard: a shard it accepts is in range and prints as given.
func FuzzParseShard(f *testing.F) {
	f.Add("0/4")
	f.Add("9999/10000")
	f.Add("4/4")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := ParseShard(v)
		if err != nil {
			return
		}
		if s.Count < 1 || s.Count > MaxShards || s.Index < 0 || s.Index >= s.Count {
			t.Fatalf("shard %v out of range", s)
		}
		if back, err := ParseShard(s.String()); err != nil || back != s {
			t.Fatalf("%v does not round-trip", s)
		}
	})
}

// FuzzReadPacket: whatever a server sends, the lean engine's reader returns
// a packet a server may send or an error, never panics, and never takes
// more than the limit.
func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{0x20, 0x02, 0x00, 0x00})                                 // CONNACK
	f.Add([]byte{0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'x'}) // PUBLISH QoS 1
	f.Add([]byte{0x90, 0x03, 0x00, 0x01, 0x80})                           // SUBACK, refused
	f.Add([]byte{0x40, 0x02, 0x00, 0x01})                                 // PUBACK
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0x7f})                           // an oversize length
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		cp, err := readPacket(r, PlainMQTT, 1<<12)
		if err != nil {
			if cp != nil {
				t.Fatal("a packet with an error")
			}
			return
		}
		switch cp.(type) {
		case *packets.ConnackPacket, *packets.PublishPacket, *packets.PubackPacket, *packets.PubrecPacket, *packets.PubrelPacket,
			*packets.PubcompPacket, *packets.SubackPacket, *packets.UnsubackPacket, *packets.PingrespPacket:
		default:
			t.Fatalf("returned a packet a server does not send: %T", cp)
		}
		if int64(len(b))-int64(r.Len()) > 1+maxLengthBytes+1<<12 {
			t.Fatal("read past the limit")
		}
	})
}
