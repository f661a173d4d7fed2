package bridge

import (
	"errors"

	"shakedown/handshake"
	"shakedown/server/broker"
)

// Reasons the bridge refuses a device packet or ends a session for. They are
// stable strings, used as metric labels; they never carry peer bytes. The
// reasons the embedded broker shares are declared in package broker.
const (
	ReasonClientID     = broker.ReasonClientID
	ReasonUsername     = broker.ReasonUsername
	ReasonBadPassword  = broker.ReasonBadPassword
	ReasonACLPublish   = broker.ReasonACLPublish
	ReasonACLSubscribe = broker.ReasonACLSubscribe
	ReasonACLWill      = broker.ReasonACLWill
	ReasonMalformed    = broker.ReasonMalformed
	ReasonProtocol     = broker.ReasonProtocol
	// ReasonOversize: a packet longer than Options.MaxPacket.
	ReasonOversize = broker.ReasonOversize
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
	ReasonUsername:       errors.New("bridge: username names another device"),
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
