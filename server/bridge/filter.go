package bridge

import (
	"bytes"
	"context"
	"errors"
	"math"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/broker"
)

// maxAliasBytes bounds the topic-alias table one device can make the bridge
// keep (5.0 §3.3.2.3.4): the topics' bytes plus aliasEntryBytes per alias.
const (
	maxAliasBytes   = 64 << 10
	aliasEntryBytes = 16
)

// policy is what every session's filter shares.
type policy struct {
	grants    func(deviceID string) []string
	passwords func(ctx context.Context, deviceID string, password []byte) error
	// Credentials the bridge puts in every forwarded CONNECT.
	brokerUser, brokerPassword []byte
}

// filter holds one device's MQTT to its handshake identity. It sees every
// packet from the device, decoded with mochi's packets, and returns a
// verdict; it does no I/O besides the password check.
type filter struct {
	pol       *policy
	profile   handshake.Name
	deviceID  string // from the handshake; for tls, proven at CONNECT
	version   byte   // protocol version of the CONNECT; 0 before it
	keepAlive uint16 // seconds, from the CONNECT
	grants    []string
	done      bool              // the device sent DISCONNECT
	aliases   map[uint16]string // topic aliases the device set
	aliasLen  int               // their cost against maxAliasBytes
}

func newFilter(pol *policy, id handshake.Identity) *filter {
	return &filter{pol: pol, profile: id.Profile, deviceID: id.DeviceID}
}

// verdict says what becomes of one device packet.
type verdict struct {
	forward []byte           // bytes for the broker
	reply   []byte           // bytes for the device
	reason  handshake.Reason // set when the packet was refused
	end     bool             // end the session (after reply)
}

func pass(raw []byte) verdict { return verdict{forward: raw} }

// packet judges the next packet from the device.
func (f *filter) packet(ctx context.Context, p packet) verdict {
	if f.version == 0 {
		return f.connect(ctx, p)
	}
	if f.done {
		return f.refuse(handshake.ReasonProtocolViolation) // [MQTT-3.14.4-1]: the client closes after DISCONNECT
	}
	switch p.fh.Type {
	case packets.Publish:
		return f.publish(p)
	case packets.Subscribe:
		return f.subscribe(p)
	case packets.Unsubscribe:
		pk, err := decode(p, f.version)
		if err != nil || pk.UnsubscribeValidate() != packets.CodeSuccess {
			return f.refuse(handshake.ReasonMalformed)
		}
		return pass(p.raw)
	case packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		if _, err := decode(p, f.version); err != nil {
			return f.refuse(handshake.ReasonMalformed)
		}
		return pass(p.raw)
	case packets.Pingreq:
		if len(p.body) != 0 { // 3.1.1 §3.12.1, 5.0 §3.12.1: no variable header
			return f.refuse(handshake.ReasonMalformed)
		}
		return pass(p.raw)
	case packets.Disconnect:
		if _, err := decode(p, f.version); err != nil || (f.version != version5 && len(p.body) != 0) {
			return f.refuse(handshake.ReasonMalformed)
		}
		f.done = true
		return pass(p.raw)
	}
	// A second CONNECT [MQTT-3.1.0-2], the server's packets, AUTH (enhanced
	// authentication is the bridge's job, not the broker's) and type 0.
	return f.refuse(handshake.ReasonProtocolViolation)
}

// refuse ends the session; an MQTT 5 device is told why first.
func (f *filter) refuse(reason handshake.Reason) verdict {
	code := packets.ErrNotAuthorized
	switch reason {
	case handshake.ReasonMalformed:
		code = packets.ErrMalformedPacket
	case handshake.ReasonProtocolViolation:
		code = packets.ErrProtocolViolation
	case handshake.ReasonOversizePacket:
		code = packets.ErrPacketTooLarge
	}
	return verdict{reply: disconnect(f.version, code), reason: reason, end: true}
}

// connect judges the first packet, which must be a CONNECT [MQTT-3.1.0-1],
// and rebuilds it for the broker.
func (f *filter) connect(ctx context.Context, p packet) verdict {
	if p.fh.Type != packets.Connect {
		return verdict{reason: handshake.ReasonProtocolViolation, end: true}
	}
	pk, err := decode(p, 0)
	if err != nil || pk.ConnectValidate() != packets.CodeSuccess {
		return verdict{reason: handshake.ReasonMalformed, end: true}
	}
	v := pk.ProtocolVersion
	refuse := func(reason handshake.Reason) verdict {
		return verdict{reply: connack(v, packets.ErrNotAuthorized, packets.Err3NotAuthorized), reason: reason, end: true}
	}
	clientID := pk.Connect.ClientIdentifier
	id := f.deviceID
	if id == "" {
		// tls without a client certificate: the handshake authenticated
		// only the server; the CONNECT username names the device and its
		// password proves it.
		if clientID == "" || !pk.Connect.UsernameFlag || string(pk.Connect.Username) != clientID {
			return refuse(handshake.ReasonClientID)
		}
		if f.pol.passwords == nil {
			return refuse(handshake.ReasonBadPassword)
		}
		if err := f.pol.passwords(ctx, clientID, pk.Connect.Password); err != nil {
			if errors.Is(err, server.ErrBadPassword) || errors.Is(err, handshake.ErrUnknownDevice) {
				return refuse(handshake.ReasonBadPassword)
			}
			return verdict{reply: connack(v, packets.ErrServerUnavailable, packets.Err3ServerUnavailable), reason: handshake.ReasonRegistry, end: true}
		}
		id = clientID
	}
	if clientID != id || !handshake.ValidDeviceID(id) {
		return refuse(handshake.ReasonClientID)
	}
	// The username is empty or names the device itself, never another.
	if pk.Connect.UsernameFlag && len(pk.Connect.Username) > 0 && string(pk.Connect.Username) != id {
		return refuse(handshake.ReasonBadUsername)
	}
	grants := f.grantsOf(id)
	if pk.Connect.WillFlag && !broker.Allowed(id, pk.Connect.WillTopic, grants) {
		return refuse(handshake.ReasonACLWill)
	}
	// The broker sees the bridge's credentials, never the device's, and no
	// enhanced authentication (5.0 §4.12): the bridge is the authenticator.
	pk.Connect.UsernameFlag = len(f.pol.brokerUser) > 0
	pk.Connect.Username = f.pol.brokerUser
	pk.Connect.PasswordFlag = pk.Connect.UsernameFlag && len(f.pol.brokerPassword) > 0
	pk.Connect.Password = nil
	if pk.Connect.PasswordFlag {
		pk.Connect.Password = f.pol.brokerPassword
	}
	pk.Properties.AuthenticationMethod = ""
	pk.Properties.AuthenticationData = nil
	pk.Mods.AllowResponseInfo = true // keep the will's response topic and correlation data
	var buf bytes.Buffer
	if err := pk.ConnectEncode(&buf); err != nil {
		return verdict{reason: handshake.ReasonMalformed, end: true}
	}
	f.deviceID, f.version, f.grants, f.keepAlive = id, v, grants, pk.Connect.Keepalive
	return pass(buf.Bytes())
}

func (f *filter) grantsOf(id string) []string {
	if f.pol.grants == nil {
		return nil
	}
	return f.pol.grants(id)
}

// publish lets a PUBLISH through when its topic is the device's.
func (f *filter) publish(p packet) verdict {
	pk, err := decode(p, f.version)
	if err != nil || pk.PublishValidate(math.MaxUint16) != packets.CodeSuccess {
		return f.refuse(handshake.ReasonMalformed)
	}
	topic := pk.TopicName
	// 5.0 §3.3.2.3.4: a PUBLISH may name its topic by an alias the device
	// set earlier in the session (with a topic this filter allowed).
	alias := pk.Properties.TopicAlias
	if f.version == version5 && pk.Properties.TopicAliasFlag && topic == "" {
		t, ok := f.aliases[alias]
		if !ok {
			return f.refuse(handshake.ReasonProtocolViolation)
		}
		topic = t
	}
	if !broker.Allowed(f.deviceID, topic, f.grants) {
		return f.refuse(handshake.ReasonACLPublish)
	}
	if f.version == version5 && pk.Properties.TopicAliasFlag && pk.TopicName != "" {
		if !f.setAlias(alias, pk.TopicName) {
			return f.refuse(handshake.ReasonProtocolViolation)
		}
	}
	return pass(p.raw)
}

func (f *filter) setAlias(alias uint16, topic string) bool {
	if f.aliases == nil {
		f.aliases = map[uint16]string{}
	}
	cost := len(topic) + aliasEntryBytes
	if old, ok := f.aliases[alias]; ok {
		cost -= len(old) + aliasEntryBytes
	}
	if f.aliasLen+cost > maxAliasBytes {
		return false
	}
	f.aliases[alias] = string([]byte(topic)) // own copy: the topic aliases the packet
	f.aliasLen += cost
	return true
}

// subscribe lets a SUBSCRIBE through when every filter is the device's. A
// SUBSCRIBE with any other filter is refused whole: it never reaches the
// broker, and the bridge answers a SUBACK failing every filter of it, so the
// device learns exactly what it holds (nothing new) and the session goes on.
func (f *filter) subscribe(p packet) verdict {
	pk, err := decode(p, f.version)
	if err != nil || pk.SubscribeValidate() != packets.CodeSuccess {
		return f.refuse(handshake.ReasonMalformed)
	}
	for _, s := range pk.Filters {
		if !broker.Allowed(f.deviceID, s.Filter, f.grants) {
			return verdict{reply: suback(f.version, pk.PacketID, len(pk.Filters)), reason: handshake.ReasonACLSubscribe}
		}
	}
	return pass(p.raw)
}
