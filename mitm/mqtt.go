package mitm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
)

// MQTT as the lab speaks and reads it: version 3.1.1 (protocol level 4),
// encoded and decoded with mochi-mqtt's packets package.
const (
	mqttProtocolLevel = 4 // MQTT 3.1.1 §3.1.2.2
	mqttKeepalive     = 60
	// maxMQTTPacket bounds the remaining length the lab reads: its own
	// packets are small; a longer one is refused before it is read.
	maxMQTTPacket = 64 << 10
	// maxLengthBytes is the longest Remaining Length field (3.1.1 §2.2.3,
	// 5.0 §1.5.5); lengthDigit is the value range of one of its bytes.
	maxLengthBytes = 4
	lengthDigit    = 128
)

var mqttProtocolName = []byte("MQTT") // MQTT 3.1.1 §3.1.2.1

// Errors of packet reading, wrapped in an *handshake.Error at StageTransport.
var (
	errMQTTTooLong   = errors.New("mitm: MQTT packet longer than the lab reads")
	errMQTTMalformed = errors.New("mitm: malformed MQTT packet")
)

// captureReader records the bytes read through it.
type captureReader struct {
	r   *bufio.Reader
	raw []byte
}

func (c *captureReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.raw = append(c.raw, b)
	}
	return b, err
}

// lengthReader hands packets.DecodeLength at most maxLengthBytes bytes:
// mochi's decoder reads continuation bytes for as long as they come, and a
// peer could send them for ever.
type lengthReader struct {
	r *captureReader
	n int
}

func (l *lengthReader) ReadByte() (byte, error) {
	if l.n == maxLengthBytes {
		return 0, errMQTTMalformed
	}
	l.n++
	return l.r.ReadByte()
}

// lengthBytes is the size of the shortest encoding of n, the only one
// allowed (5.0 §1.5.5 [MQTT-1.5.5-1]).
func lengthBytes(n int) int {
	b := 1
	for n >= lengthDigit {
		n /= lengthDigit
		b++
	}
	return b
}

// ReadPacket reads one MQTT control packet from r and returns it decoded,
// with its raw bytes. Packet types the lab does not decode come back with
// their fixed header only. Errors are *handshake.Error values of profile p
// at StageTransport: the stream's own error, or ReasonMalformed.
func ReadPacket(r *bufio.Reader, p handshake.Name) (packets.Packet, []byte, error) {
	var pk packets.Packet
	cr := &captureReader{r: r}
	b, err := cr.ReadByte()
	if err != nil {
		return pk, nil, streamFailure(p, err)
	}
	if err := pk.FixedHeader.Decode(b); err != nil {
		return pk, nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonMalformed, errMQTTMalformed)
	}
	lr := &lengthReader{r: cr}
	n, _, err := packets.DecodeLength(lr)
	if err != nil {
		if errors.Is(err, packets.ErrMalformedVariableByteInteger) || errors.Is(err, errMQTTMalformed) {
			return pk, nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonMalformed, errMQTTMalformed)
		}
		return pk, nil, streamFailure(p, err)
	}
	if lr.n != lengthBytes(n) {
		return pk, nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonMalformed, errMQTTMalformed)
	}
	if n > maxMQTTPacket {
		return pk, nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonOversizeFrame, errMQTTTooLong)
	}
	pk.FixedHeader.Remaining = n
	raw := make([]byte, len(cr.raw)+n)
	copy(raw, cr.raw)
	if _, err := io.ReadFull(r, raw[len(cr.raw):]); err != nil {
		return pk, nil, streamFailure(p, err)
	}
	if err := decodeBody(&pk, raw[len(cr.raw):]); err != nil {
		return pk, nil, handshake.Fail(p, handshake.StageTransport, handshake.ReasonMalformed, errMQTTMalformed)
	}
	return pk, raw, nil
}

// streamFailure keeps a typed error of the stream (a record that did not
// open) and classifies any other.
func streamFailure(p handshake.Name, err error) error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return handshake.Fail(p, handshake.StageTransport, handshake.ReasonShortFrame, errMQTTMalformed)
	}
	return sessionError(p, err)
}

func decodeBody(pk *packets.Packet, body []byte) error {
	pk.ProtocolVersion = mqttProtocolLevel
	switch pk.FixedHeader.Type {
	case packets.Connect:
		return pk.ConnectDecode(body)
	case packets.Connack:
		return pk.ConnackDecode(body)
	case packets.Publish:
		return pk.PublishDecode(body)
	case packets.Puback:
		return pk.PubackDecode(body)
	case packets.Subscribe:
		return pk.SubscribeDecode(body)
	case packets.Suback:
		return pk.SubackDecode(body)
	}
	return nil
}

// EncodePacket returns the wire form of pk (version 3.1.1).
func EncodePacket(pk packets.Packet) ([]byte, error) {
	pk.ProtocolVersion = mqttProtocolLevel
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Connack:
		err = pk.ConnackEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	case packets.Suback:
		err = pk.SubackEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	case packets.Pingresp:
		err = pk.PingrespEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		err = fmt.Errorf("mitm: encoding packet type %d is not supported", pk.FixedHeader.Type)
	}
	return buf.Bytes(), err
}

func header(t byte) packets.FixedHeader { return packets.FixedHeader{Type: t} }

// connectPacket is a device's CONNECT: clean session, the client ID, and
// the username and password when user is not empty (tls).
func connectPacket(clientID, user, pass string) packets.Packet {
	pk := packets.Packet{FixedHeader: header(packets.Connect)}
	pk.Connect = packets.ConnectParams{
		ProtocolName: mqttProtocolName, Clean: true, Keepalive: mqttKeepalive, ClientIdentifier: clientID,
	}
	if user != "" {
		pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte(user)
		pk.Connect.PasswordFlag, pk.Connect.Password = true, []byte(pass)
	}
	return pk
}

func publishPacket(topic string, payload []byte, qos byte, id uint16) packets.Packet {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic, Payload: payload}
	if qos > 0 {
		pk.PacketID = id
	}
	return pk
}

// client is the MQTT client of the lab's simulated device: one packet per
// Write, so one packet per record, in an order the scenarios know.
type client struct {
	conn    net.Conn
	r       *bufio.Reader
	profile handshake.Name
	nextID  uint16
	queued  []packets.Packet // PUBLISHes that arrived while waiting for an ack
}

func newClient(conn net.Conn, p handshake.Name) *client {
	return &client{conn: conn, r: bufio.NewReader(conn), profile: p}
}

func (c *client) write(pk packets.Packet) error {
	wire, err := EncodePacket(pk)
	if err != nil {
		return err
	}
	if _, err := c.conn.Write(wire); err != nil {
		return sessionError(c.profile, err)
	}
	return nil
}

// read returns the next packet, within ctx.
func (c *client) read(ctx context.Context) (packets.Packet, error) {
	release := handshake.Bound(ctx, c.conn)
	defer release()
	pk, _, err := ReadPacket(c.r, c.profile)
	if err != nil {
		return pk, sessionError(c.profile, err)
	}
	return pk, nil
}

// await reads until a packet of type t (and packet ID id when not 0),
// queueing the PUBLISHes that come first.
func (c *client) await(ctx context.Context, t byte, id uint16) (packets.Packet, error) {
	for {
		pk, err := c.read(ctx)
		if err != nil {
			return pk, err
		}
		switch {
		case pk.FixedHeader.Type == t && (id == 0 || pk.PacketID == id):
			return pk, nil
		case pk.FixedHeader.Type == packets.Publish:
			c.queued = append(c.queued, pk)
			if err := c.ackPublish(pk); err != nil {
				return pk, err
			}
		}
	}
}

func (c *client) ackPublish(pk packets.Packet) error {
	if pk.FixedHeader.Qos == 0 {
		return nil
	}
	return c.write(packets.Packet{FixedHeader: header(packets.Puback), PacketID: pk.PacketID})
}

func (c *client) id() uint16 {
	c.nextID++
	return c.nextID
}

// Connect sends CONNECT and returns the CONNACK's return code (0: accepted).
func (c *client) Connect(ctx context.Context, clientID, user, pass string) (byte, error) {
	if err := c.write(connectPacket(clientID, user, pass)); err != nil {
		return 0, err
	}
	pk, err := c.await(ctx, packets.Connack, 0)
	if err != nil {
		return 0, err
	}
	return pk.ReasonCode, nil
}

// Subscribe subscribes to filter at QoS 1 and returns the granted code.
func (c *client) Subscribe(ctx context.Context, filter string) (byte, error) {
	id := c.id()
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: id,
		Filters: packets.Subscriptions{{Filter: filter, Qos: 1}}}
	if err := c.write(pk); err != nil {
		return 0, err
	}
	ack, err := c.await(ctx, packets.Suback, id)
	if err != nil {
		return 0, err
	}
	if len(ack.ReasonCodes) != 1 {
		return 0, handshake.Fail(c.profile, handshake.StageTransport, handshake.ReasonMalformed, errMQTTMalformed)
	}
	return ack.ReasonCodes[0], nil
}

// Publish publishes at QoS 1 and waits for the PUBACK.
func (c *client) Publish(ctx context.Context, topic string, payload []byte) error {
	id := c.id()
	if err := c.write(publishPacket(topic, payload, 1, id)); err != nil {
		return err
	}
	_, err := c.await(ctx, packets.Puback, id)
	return err
}

// PublishNow publishes at QoS 0: one record, no answer.
func (c *client) PublishNow(topic string, payload []byte) error {
	return c.write(publishPacket(topic, payload, 0, 0))
}

// Ping sends PINGREQ and waits for PINGRESP: a round trip that shows the
// session still works.
func (c *client) Ping(ctx context.Context) error {
	if err := c.write(packets.Packet{FixedHeader: header(packets.Pingreq)}); err != nil {
		return err
	}
	_, err := c.await(ctx, packets.Pingresp, 0)
	return err
}

// Receive returns the next PUBLISH (a command).
func (c *client) Receive(ctx context.Context) (packets.Packet, error) {
	if len(c.queued) > 0 {
		pk := c.queued[0]
		c.queued = c.queued[1:]
		return pk, nil
	}
	pk, err := c.await(ctx, packets.Publish, 0)
	if err != nil {
		return pk, err
	}
	return pk, c.ackPublish(pk)
}

// fakeBroker answers a device's MQTT session the way a broker would, for
// an attacker who holds the session's keys: CONNACK, SUBACK and PUBACK for
// whatever the device sends, and PUBLISHes of the attacker's choosing.
// Every packet the device sent is reported on Packets.
type fakeBroker struct {
	conn    net.Conn
	profile handshake.Name
	packets chan packets.Packet
	wmu     sync.Mutex
	done    chan struct{}
	err     error
}

func startFakeBroker(conn net.Conn, p handshake.Name) *fakeBroker {
	b := &fakeBroker{conn: conn, profile: p, packets: make(chan packets.Packet, 64), done: make(chan struct{})}
	go b.serve()
	return b
}

func (b *fakeBroker) serve() {
	defer close(b.done)
	defer close(b.packets)
	r := bufio.NewReader(b.conn)
	for {
		pk, _, err := ReadPacket(r, b.profile)
		if err != nil {
			b.err = err
			return
		}
		select {
		case b.packets <- pk:
		default: // a scenario reads the few packets it needs
		}
		var reply packets.Packet
		switch pk.FixedHeader.Type {
		case packets.Connect:
			reply = packets.Packet{FixedHeader: header(packets.Connack)}
		case packets.Subscribe:
			codes := make([]byte, len(pk.Filters))
			for i, f := range pk.Filters {
				codes[i] = f.Qos
			}
			reply = packets.Packet{FixedHeader: header(packets.Suback), PacketID: pk.PacketID, ReasonCodes: codes}
		case packets.Publish:
			if pk.FixedHeader.Qos == 0 {
				continue
			}
			reply = packets.Packet{FixedHeader: header(packets.Puback), PacketID: pk.PacketID}
		case packets.Pingreq:
			reply = packets.Packet{FixedHeader: header(packets.Pingresp)}
		default:
			continue
		}
		if err := b.send(reply); err != nil {
			b.err = err
			return
		}
	}
}

func (b *fakeBroker) send(pk packets.Packet) error {
	wire, err := EncodePacket(pk)
	if err != nil {
		return err
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	_, err = b.conn.Write(wire)
	return err
}

// Publish sends the device a PUBLISH at QoS 0.
func (b *fakeBroker) Publish(topic string, payload []byte) error {
	return b.send(publishPacket(topic, payload, 0, 0))
}

// awaitPacket returns the next packet the device sent of type t.
func (b *fakeBroker) awaitPacket(ctx context.Context, t byte) (packets.Packet, error) {
	for {
		select {
		case pk, ok := <-b.packets:
			if !ok {
				return pk, errors.Join(errFakeBrokerEnded, b.err)
			}
			if pk.FixedHeader.Type == t {
				return pk, nil
			}
		case <-ctx.Done():
			return packets.Packet{}, ctx.Err()
		}
	}
}

var errFakeBrokerEnded = errors.New("mitm: the device's session ended")

// sniff carries plaintext MQTT between a device and a server for an
// attacker in the middle, reporting every packet the device sends. It
// returns when either side ends.
func sniff(device, server net.Conn, p handshake.Name, seen func(packets.Packet)) {
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		r := bufio.NewReader(device)
		for {
			pk, raw, err := ReadPacket(r, p)
			if err != nil {
				return
			}
			seen(pk)
			if _, err := server.Write(raw); err != nil {
				return
			}
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		io.Copy(device, server)
	}()
	<-done
	device.Close()
	server.Close()
	<-done
}
