package bridge

import (
	"errors"

	"shakedown/handshake"
	"shakedown/server/broker"
)

// Reasons the bridge refuses a device packet or ends a session for. They are
// stable strings, used as metric labels; they never carry peer bytes.
const (
	// ReasonClientID: the CONNECT client ID is not the authenticated device
	// ID (for tls, where CONNECT credentials identify the device: the
	// username is not the client ID, or either is empty).
	ReasonClientID handshake.Reason = "client_id"
	// ReasonBadPassword: tls only; the CONNECT password failed the
	// Options.Passwords check (or the device is unknown to it).
	ReasonBadPassword handshake.Reason = "bad_password"
	// ReasonACLPublish: a PUBLISH to a topic outside the device's.
	ReasonACLPublish handshake.Reason = "acl_publish"
	// ReasonACLSubscribe: a SUBSCRIBE with a filter outside the device's.
	ReasonACLSubscribe handshake.Reason = "acl_subscribe"
	// ReasonACLWill: a CONNECT whose will topic is outside the device's.
	ReasonACLWill handshake.Reason = "acl_will"
	// ReasonMalformed: a packet that does not decode or validate.
	ReasonMalformed = handshake.ReasonMalformed
	// ReasonProtocol: a well-formed packet out of place: the first packet
	// not a CONNECT, a second CONNECT, a packet only a server sends, AUTH,
	// anything after DISCONNECT, or an unknown topic alias.
	ReasonProtocol handshake.Reason = "protocol_violation"
	// ReasonOversize: a packet longer than Options.MaxPacket.
	ReasonOversize handshake.Reason = "oversize_packet"
	// ReasonIdle: no packet from the device within the idle bound.
	ReasonIdle handshake.Reason = "idle_timeout"
	// ReasonConnectTimeout: no CONNECT from the device within
	// Options.ConnectTimeout of the end of its handshake; the embedded
	// broker's reason for the same bound.
	ReasonConnectTimeout = broker.ReasonConnectTimeout
	// ReasonBroker: the external broker could not be reached.
	ReasonBroker handshake.Reason = "broker_unavailable"
	// ReasonRegistry: the password check failed for another reason than a
	// wrong password (the registry is down).
	ReasonRegistry = handshake.ReasonRegistry
)

// Observer is told about every packet the bridge refuses and every session
// it ends on its own initiative; metrics implement it.
type Observer interface {
	Refused(p handshake.Name, reason handshake.Reason)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(p handshake.Name, reason handshake.Reason)

// Refused calls f.
func (f ObserverFunc) Refused(p handshake.Name, reason handshake.Reason) { f(p, reason) }

type nopObserver struct{}

func (nopObserver) Refused(handshake.Name, handshake.Reason) {}

// causes are the fixed texts of the bridge's errors, one per reason; the
// errors never carry bytes received from the device.
var causes = map[handshake.Reason]error{
	ReasonClientID:       errors.New("bridge: client ID is not the authenticated device"),
	ReasonBadPassword:    errors.New("bridge: device password refused"),
	ReasonACLPublish:     errors.New("bridge: publish outside the device's topics"),
	ReasonACLSubscribe:   errors.New("bridge: subscription outside the device's topics"),
	ReasonACLWill:        errors.New("bridge: will topic outside the device's topics"),
	ReasonMalformed:      errors.New("bridge: packet does not decode"),
	ReasonProtocol:       errors.New("bridge: packet out of place"),
	ReasonOversize:       errors.New("bridge: packet longer than the limit"),
	ReasonIdle:           errors.New("bridge: device idle too long"),
	ReasonConnectTimeout: errors.New("bridge: no CONNECT in time"),
	ReasonBroker:         errors.New("bridge: external broker unreachable"),
	ReasonRegistry:       errors.New("bridge: password check failed"),
}

// fail returns the bridge's error for reason on a session of profile p.
func fail(p handshake.Name, reason handshake.Reason) *handshake.Error {
	return &handshake.Error{Profile: p, Stage: handshake.StageTransport, Reason: reason, Err: causes[reason]}
}
