package bridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/server"
)

// Test identities: devices of a framed profile (the handshake names them)
// and of tls (the CONNECT password proves them).
const (
	devA       = "dev-a"
	devB       = "dev-b"
	tlsA       = "tls-a"
	tlsAPass   = "pw-of-tls-a"
	tlsBroken  = "tls-broken" // the password check fails for another reason
	brokerUser = "bridge"
	brokerPass = "bridge-secret"
)

var (
	idA   = handshake.Identity{Profile: handshake.Noise, DeviceID: devA}
	idTLS = handshake.Identity{Profile: handshake.TLS}
)

// testPolicy grants dev-a fleet/+/status and knows one tls password.
func testPolicy() *policy {
	return &policy{
		grants: func(id string) []string {
			if id == devA {
				return []string{"fleet/+/status"}
			}
			return nil
		},
		passwords: func(_ context.Context, id string, pw []byte) error {
			switch {
			case id == tlsBroken:
				return errors.New("registry down")
			case id != tlsA:
				return fmt.Errorf("test: %w", handshake.ErrUnknownDevice)
			case string(pw) != tlsAPass:
				return server.ErrBadPassword
			}
			return nil
		},
		brokerUser: []byte(brokerUser), brokerPassword: []byte(brokerPass),
	}
}

// enc encodes pk with mochi's codec.
func enc(pk packets.Packet) []byte {
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	case packets.Unsubscribe:
		err = pk.UnsubscribeEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		err = fmt.Errorf("test: no encoder for packet type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// connectPacket is a clean-session CONNECT of protocol version v.
func connectPacket(v byte, clientID, user, pass string) packets.Packet {
	name := []byte("MQTT")
	if v == version31 {
		name = []byte("MQIsdp")
	}
	return packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: v,
		Connect: packets.ConnectParams{
			ProtocolName: name, ClientIdentifier: clientID, Clean: true, Keepalive: 30,
			UsernameFlag: user != "", Username: []byte(user),
			PasswordFlag: pass != "", Password: []byte(pass),
		},
	}
}

func connectOf(v byte, clientID, user, pass string) []byte {
	return enc(connectPacket(v, clientID, user, pass))
}

func publishOf(v byte, topic string, qos byte, payload string) []byte {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, ProtocolVersion: v,
		TopicName: topic, Payload: []byte(payload)}
	if qos > 0 {
		pk.PacketID = 7
	}
	return enc(pk)
}

// aliasPublishOf is an MQTT 5 PUBLISH setting (topic != "") or using alias.
func aliasPublishOf(topic string, alias uint16) []byte {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: version5,
		TopicName: topic, Payload: []byte("x"), Properties: packets.Properties{TopicAlias: alias, TopicAliasFlag: true}}
	return enc(pk)
}

func subscribeOf(v byte, id uint16, filters ...string) []byte {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: v, PacketID: id}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f, Qos: 1})
	}
	return enc(pk)
}

func unsubscribeOf(v byte, id uint16, filters ...string) []byte {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, ProtocolVersion: v, PacketID: id}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f})
	}
	return enc(pk)
}

func pubackOf(v byte, id uint16) []byte {
	return enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, ProtocolVersion: v, PacketID: id})
}

func pingreq() []byte {
	return enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
}

func disconnectOf(v byte) []byte {
	return enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ProtocolVersion: v})
}

// malformedAfterConnect are device packets, sent after a CONNECT of the
// version given, that must end the session as malformed.
var malformedAfterConnect = []struct {
	name string
	v    byte
	raw  []byte
}{
	{"PUBLISH of QoS 3", version311, []byte{
		0x36,       // PUBLISH, flags 0110: QoS 3 [MQTT-3.3.1-4]
		0x03,       // remaining length 3
		0x00, 0x01, // topic length 1
		'a',
	}},
	{"a remaining length of five bytes", version311, []byte{
		0x30,                         // PUBLISH, QoS 0
		0x80, 0x80, 0x80, 0x80, 0x01, // continuation past the fourth byte (3.1.1 §2.2.3)
	}},
	{"a remaining length not in its shortest form", version311, []byte{
		0xc0,       // PINGREQ
		0x80, 0x00, // 0 in two bytes [MQTT-1.5.5-1]
	}},
	{"a topic length past the packet", version311, []byte{
		0x30,       // PUBLISH, QoS 0
		0x03,       // remaining length 3
		0x00, 0x05, // topic length 5, but only 1 byte follows
		'a',
	}},
	{"a topic that is not UTF-8", version311, []byte{
		0x30,       // PUBLISH, QoS 0
		0x04,       // remaining length 4
		0x00, 0x02, // topic length 2
		0xc3, 0x28, // an invalid two-byte sequence [MQTT-1.5.3-1]
	}},
	{"a topic with a wildcard", version311, []byte{
		0x30,       // PUBLISH, QoS 0
		0x03,       // remaining length 3
		0x00, 0x01, // topic length 1
		'#', // [MQTT-3.3.2-2]
	}},
	{"a PUBLISH of QoS 1 without its packet ID", version311, []byte{
		0x32,       // PUBLISH, QoS 1
		0x03,       // remaining length 3
		0x00, 0x01, // topic length 1
		'a', // packet ID missing
	}},
	{"SUBSCRIBE flags 0000", version311, []byte{
		0x80,       // SUBSCRIBE, flags must be 0010 [MQTT-3.8.1-1]
		0x06,       // remaining length 6
		0x00, 0x01, // packet ID 1
		0x00, 0x01, 'a', // filter "a"
		0x01, // QoS 1
	}},
	{"a SUBSCRIBE without filters", version311, []byte{
		0x82,       // SUBSCRIBE
		0x02,       // remaining length 2
		0x00, 0x01, // packet ID 1, then nothing [MQTT-3.8.3-3]
	}},
	{"a SUBSCRIBE asking QoS 3", version311, []byte{
		0x82,       // SUBSCRIBE
		0x06,       // remaining length 6
		0x00, 0x01, // packet ID 1
		0x00, 0x01, 'a', // filter "a"
		0x03, // QoS 3 [MQTT-3-8.3-4]
	}},
	{"an MQTT 5 SUBSCRIBE whose filter lacks its options byte", version5, []byte{
		0x82,       // SUBSCRIBE
		0x06,       // remaining length 6
		0x00, 0x01, // packet ID 1
		0x00,            // property length 0
		0x00, 0x01, 'a', // filter "a", then no subscription options
	}},
	{"an MQTT 5 PUBLISH with a property not allowed in it", version5, []byte{
		0x30,            // PUBLISH, QoS 0
		0x07,            // remaining length 7
		0x00, 0x01, 'a', // topic "a"
		0x03,       // property length 3
		0x21,       // Receive Maximum: CONNECT and CONNACK only (5.0 §2.2.2.2)
		0x00, 0x0a, // 10
	}},
	{"an UNSUBSCRIBE without filters", version311, []byte{
		0xa2,       // UNSUBSCRIBE
		0x02,       // remaining length 2
		0x00, 0x01, // packet ID 1, then nothing [MQTT-3.10.3-2]
	}},
	{"PUBREL flags 0000", version311, []byte{
		0x60,       // PUBREL, flags must be 0010 [MQTT-3.6.1-1]
		0x02,       // remaining length 2
		0x00, 0x01, // packet ID 1
	}},
	{"a PINGREQ with a body", version311, []byte{
		0xc0, // PINGREQ
		0x01, // remaining length 1 (must be 0)
		0x00,
	}},
	{"a PUBACK without its packet ID", version311, []byte{
		0x40, // PUBACK
		0x01, // remaining length 1
		0x00,
	}},
}

// protocolAfterConnect are well-formed packets out of place after a 3.1.1
// CONNECT.
var protocolAfterConnect = []struct {
	name string
	raw  []byte
}{
	{"a second CONNECT", nil}, // filled by the spec: a valid CONNECT
	{"a CONNACK", []byte{0x20, 0x02, 0x00, 0x00}},
	{"a SUBACK", []byte{0x90, 0x03, 0x00, 0x01, 0x00}},
	{"an UNSUBACK", []byte{0xb0, 0x02, 0x00, 0x01}},
	{"a PINGRESP", []byte{0xd0, 0x00}},
	{"an AUTH", []byte{0xf0, 0x00}},
	{"packet type 0", []byte{0x00, 0x00}},
}

// readAll splits b into packets.
func readAll(b []byte) ([]packet, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var out []packet
	for {
		p, err := readPacket(r, DefaultMaxPacket)
		if err != nil {
			if len(out) > 0 && errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, p)
	}
}
