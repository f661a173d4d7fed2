package simulator

import (
	"context"
	"errors"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// link is one MQTT session of a device, whichever engine runs it
// (Scenario.Engine): paho's client (pahoLink) or the lean engine's
// (leanLink). The device's life (schedule, reconnects, accounting) is the
// same over both.
type link interface {
	// subscribe sends one SUBSCRIBE of filters and waits at most timeout
	// for its SUBACK: the return codes, errAckTimeout, or the session's error.
	subscribe(filters map[string]byte, timeout time.Duration) ([]byte, error)
	// publish sends one PUBLISH and calls done exactly once: nil when it is
	// acknowledged (QoS 0: when it is written), errAckTimeout when timeout
	// passes first, or the session's error. paho's publish returns after
	// done; the lean engine's returns at once.
	publish(topic string, qos byte, payload []byte, timeout time.Duration, done func(error))
	// down is nil while the session is up, else why it ended: the error
	// its lost callback reports, or errConnLost.
	down() error
	// close ends the session, with a DISCONNECT when graceful; it is safe
	// twice and does not report the session lost.
	close(graceful bool)
}

// linkHooks are what a link reports to its device.
type linkHooks struct {
	lost      func(error) // the session dropped (not by close); called once, in a goroutine the device may keep
	delivered func()      // a PUBLISH of one of the device's own subscriptions arrived
}

// errAckTimeout is an acknowledgement (SUBACK, PUBACK, PUBCOMP) that did not
// come within the scenario's ack timeout.
// FailureReason maps it to handshake.ReasonAckTimeout.
var errAckTimeout = errors.New("simulator: no acknowledgement within the ack timeout")

// dialLink opens a session of cfg on the engine the fleet runs.
func (f *fleet) dialLink(ctx context.Context, cfg ClientConfig, h linkHooks) (link, error) {
	if f.sc.Engine == EngineLean {
		return dialLean(ctx, cfg, linkOptions{linkHooks: h, readers: &f.readers, ackTimeout: f.sc.Timeouts.Ack})
	}
	cfg.OnConnectionLost = h.lost
	c, err := Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &pahoLink{c: c, delivered: h.delivered}, nil
}

// pahoLink is a session of paho.mqtt.golang, the reference client (a
// pointer: the device compares its links).
type pahoLink struct {
	c         mqtt.Client
	delivered func()
}

func (l *pahoLink) subscribe(filters map[string]byte, timeout time.Duration) ([]byte, error) {
	tok := l.c.SubscribeMultiple(filters, func(mqtt.Client, mqtt.Message) { l.delivered() })
	if !tok.WaitTimeout(timeout) {
		return nil, errAckTimeout
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	var codes []byte
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for _, code := range st.Result() {
			codes = append(codes, code)
		}
	}
	return codes, nil
}

func (l *pahoLink) publish(topic string, qos byte, payload []byte, timeout time.Duration, done func(error)) {
	tok := l.c.Publish(topic, qos, false, payload)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		done(tok.Error())
	case <-t.C:
		done(errAckTimeout)
	}
}

func (l *pahoLink) down() error {
	if l.c.IsConnectionOpen() {
		return nil
	}
	return errConnLost
}

func (l *pahoLink) close(graceful bool) {
	if graceful {
		l.c.Disconnect(disconnectQuiesce)
		return
	}
	l.c.Disconnect(0)
}
