package bridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/server/broker"
)

// knownReasons are the reasons the filter may give.
var knownReasons = map[handshake.Reason]bool{
	handshake.ReasonClientID: true, handshake.ReasonBadUsername: true, handshake.ReasonBadPassword: true, handshake.ReasonACLPublish: true, handshake.ReasonACLSubscribe: true,
	handshake.ReasonACLWill: true, handshake.ReasonMalformed: true, handshake.ReasonProtocolViolation: true, handshake.ReasonOversizePacket: true, handshake.ReasonRegistry: true,
}

// FuzzFilter feeds the device-to-broker filter a stream of device bytes and
// holds it to its promises: no panic, only known reasons, and nothing
// forwarded that breaks the identity or topic rules.
func FuzzFilter(f *testing.F) {
	// Seeds: check-in corpus in testdata/fuzz/FuzzFilter, and these streams.
	own := "devices/" + devA + "/t"
	f.Add(false, bytes.Join([][]byte{connectOf(version311, devA, "", ""), subscribeOf(version311, 1, own), publishOf(version311, own, 1, "x"), pingreq(), disconnectOf(version311)}, nil))
	f.Add(false, bytes.Join([][]byte{connectOf(version5, devA, "", ""), aliasPublishOf(own, 1), aliasPublishOf("", 1), subscribeOf(version5, 2, "devices/"+devB+"/#")}, nil))
	f.Add(true, bytes.Join([][]byte{connectOf(version311, tlsA, tlsA, tlsAPass), publishOf(version311, "devices/"+tlsA+"/t", 0, "x")}, nil))
	for _, c := range malformedAfterConnect {
		f.Add(false, append(connectOf(c.v, devA, "", ""), c.raw...))
	}
	pol := testPolicy()
	f.Fuzz(func(t *testing.T, tls bool, stream []byte) {
		id := idA
		if tls {
			id = idTLS
		}
		fl := newFilter(pol, id)
		r := bufio.NewReader(bytes.NewReader(stream))
		for {
			p, err := readPacket(r, DefaultMaxPacket)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && err != errMalformed && err != errOversize {
					t.Fatalf("readPacket: unexpected error %v", err)
				}
				return
			}
			wasConnected := fl.version != 0
			v := fl.packet(context.Background(), p)
			if v.reason != "" {
				if !knownReasons[v.reason] {
					t.Fatalf("unknown reason %q", v.reason)
				}
				if e := fail(id.Profile, v.reason); e.Err == nil || strings.ContainsAny(e.Error(), "\x00") {
					t.Fatalf("reason %q has no fixed cause", v.reason)
				}
				if v.forward != nil {
					t.Fatalf("refused (%s) and forwarded", v.reason)
				}
				if v.end {
					return
				}
				if v.reason != handshake.ReasonACLSubscribe {
					t.Fatalf("refusal %s does not end the session", v.reason)
				}
				continue
			}
			checkForwarded(t, fl, wasConnected, p, v.forward)
		}
	})
}

// checkForwarded holds what the filter let through to the rules.
func checkForwarded(t *testing.T, fl *filter, wasConnected bool, in packet, out []byte) {
	t.Helper()
	if out == nil {
		t.Fatal("accepted and forwarded nothing")
	}
	op, err := readPacket(bufio.NewReader(bytes.NewReader(out)), DefaultMaxPacket)
	if err != nil || len(op.raw) != len(out) {
		t.Fatalf("forwarded bytes are not one packet: %v", err)
	}
	if !wasConnected {
		pk, err := decode(op, 0)
		if err != nil {
			t.Fatalf("forwarded CONNECT does not decode: %v", err)
		}
		if pk.Connect.ClientIdentifier != fl.deviceID || fl.deviceID == "" {
			t.Fatal("forwarded CONNECT names another client")
		}
		if string(pk.Connect.Username) != brokerUser || string(pk.Connect.Password) != brokerPass {
			t.Fatal("forwarded CONNECT carries the device's credentials")
		}
		if pk.Connect.WillFlag && !broker.Allowed(fl.deviceID, pk.Connect.WillTopic, fl.grants) {
			t.Fatal("forwarded a will outside the device's topics")
		}
		return
	}
	if !bytes.Equal(out, in.raw) {
		t.Fatal("forwarded a packet other than the device's")
	}
	pk, err := decode(op, fl.version)
	if err != nil {
		t.Fatalf("forwarded packet does not decode: %v", err)
	}
	switch op.fh.Type {
	case packets.Publish:
		topic := pk.TopicName
		if topic == "" {
			topic = fl.aliases[pk.Properties.TopicAlias]
		}
		if !broker.Allowed(fl.deviceID, topic, fl.grants) {
			t.Fatal("forwarded a PUBLISH outside the device's topics")
		}
	case packets.Subscribe:
		for _, s := range pk.Filters {
			if !broker.Allowed(fl.deviceID, s.Filter, fl.grants) {
				t.Fatal("forwarded a SUBSCRIBE outside the device's topics")
			}
		}
	case packets.Connect, packets.Connack, packets.Suback, packets.Unsuback, packets.Pingresp, packets.Auth:
		t.Fatalf("forwarded packet type %d", op.fh.Type)
	}
}
