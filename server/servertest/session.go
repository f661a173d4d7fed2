package servertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
)

// Sizes of the acknowledgements MQTTSession reads (MQTT 3.1.1 §3.2, §3.9).
const (
	connackLen = 4 // 1b: type // 1b: length 2 // 1b: flags // 1b: return code
	subackLen  = 5 // 1b: type // 1b: length 3 // 2b: packet ID // 1b: granted QoS
)

// Session makes the conn of a connected device that holds no goroutine
// and no MQTT client: over raw, dev's handshake, then MQTTSession. A
// server's memory per session is measured with it. ctx bounds the whole
// exchange; the returned conn has no deadline.
func Session(ctx context.Context, raw net.Conn, dev handshake.Device, clientID string) (net.Conn, error) {
	conn, err := dev.Handshake(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("servertest: handshake of %s: %w", clientID, err)
	}
	if err := MQTTSession(ctx, conn, clientID); err != nil {
		return nil, err
	}
	return conn, nil
}

// MQTTSession does a device's MQTT start on conn, a handshake's session or
// a plain TCP conn: CONNECT as clientID, SUBSCRIBE at QoS 1 to
// devices/{clientID}/cmd, and the CONNACK and SUBACK read and checked. ctx
// bounds the exchange; conn is left with no deadline.
func MQTTSession(ctx context.Context, conn net.Conn, clientID string) error {
	var out bytes.Buffer
	connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: clientID}}
	sub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1, ProtocolVersion: 4,
		Filters: packets.Subscriptions{{Filter: "devices/" + clientID + "/cmd", Qos: 1}}}
	if err := connect.ConnectEncode(&out); err != nil {
		return fmt.Errorf("servertest: encoding CONNECT: %w", err)
	}
	if err := sub.SubscribeEncode(&out); err != nil {
		return fmt.Errorf("servertest: encoding SUBSCRIBE: %w", err)
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return fmt.Errorf("servertest: writing CONNECT of %s: %w", clientID, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(dl)
	}
	var in [connackLen + subackLen]byte
	if _, err := io.ReadFull(conn, in[:]); err != nil {
		return fmt.Errorf("servertest: reading CONNACK of %s: %w", clientID, err)
	}
	if in[0] != packets.Connack<<4 || in[3] != 0 || in[connackLen] != packets.Suback<<4 || in[len(in)-1] != 1 {
		return fmt.Errorf("servertest: session of %s refused", clientID)
	}
	conn.SetReadDeadline(time.Time{})
	return nil
}
