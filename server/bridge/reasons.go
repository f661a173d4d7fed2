package bridge

import (
	"errors"

	"shakedown/handshake"
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
	handshake.ReasonClientID:          errors.New("bridge: client ID is not the authenticated device"),
	handshake.ReasonBadUsername:       errors.New("bridge: username names another device"),
	handshake.ReasonBadPassword:       errors.New("bridge: device password refused"),
	handshake.ReasonACLPublish:        errors.New("bridge: publish outside the device's topics"),
	handshake.ReasonACLSubscribe:      errors.New("bridge: subscription outside the device's topics"),
	handshake.ReasonACLWill:           errors.New("bridge: will topic outside the device's topics"),
	handshake.ReasonMalformed:         errors.New("bridge: packet does not decode"),
	handshake.ReasonProtocolViolation: errors.New("bridge: packet out of place"),
	handshake.ReasonOversizePacket:    errors.New("bridge: packet longer than the limit"),
	handshake.ReasonIdleTimeout:       errors.New("bridge: device idle too long"),
	handshake.ReasonConnectTimeout:    errors.New("bridge: no CONNECT in time"),
	handshake.ReasonBrokerUnavailable: errors.New("bridge: external broker unreachable"),
	handshake.ReasonRegistry:          errors.New("bridge: password check failed"),
}

// fail returns the bridge's error for reason on a session of profile p.
func fail(p handshake.Name, reason handshake.Reason) *handshake.Error {
	return &handshake.Error{Profile: p, Stage: handshake.StageTransport, Reason: reason, Err: causes[reason]}
}
