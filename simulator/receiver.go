package simulator

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// receiverKeepAlive is the end-to-end subscriber's MQTT keep-alive, or the
// scenario's when that is shorter.
const receiverKeepAlive = 30 * time.Second

// ErrReceiverRefused is a subscription of the end-to-end subscriber that
// the broker refused.
var ErrReceiverRefused = errors.New("simulator: the broker refused the end-to-end subscription")

// rxLink is an end-to-end subscriber's session, whichever engine runs it.
type rxLink interface {
	// close sends DISCONNECT, closes the session and waits for its reader.
	close()
}

// pahoRx is an end-to-end subscriber on paho's client (the paho engine).
type pahoRx struct{ c mqtt.Client }

func (r pahoRx) close() { r.c.Disconnect(disconnectQuiesce) }

// startReceivers connects the end-to-end subscribers (Scenario.ReceiversOf):
// on the backend listener when one is configured (the gateway's, whatever
// the target), else as clients of the broker target. They run in this
// process, so publish and arrival times come from one clock. It returns
// none when nothing is published or the gateway target has no backend
// listener: end-to-end latency is then not measured.
//
// Several subscribers share one subscription, $share/GROUP/FILTER, GROUP
// being the prefix of their client IDs (GROUP-0, GROUP-1, ...): the broker
// hands each message to one of them, so every message still arrives once.
// A broker that refuses the shared filter fails the run here; one that took
// it for a plain filter would deliver nothing, and every message would
// count as missing.
//
// On the lean engine the subscribers are lean too (leanRx); the paho
// engine keeps paho's client.
func (f *fleet) startReceivers(ctx context.Context) ([]rxLink, error) {
	if f.msgs == 0 {
		return nil, nil
	}
	id := "shakedown-sim-rx-" + hex.EncodeToString(f.run[:4])
	cfg := ClientConfig{ClientID: id, HandshakeTimeout: f.sc.Timeouts.Handshake, KeepAlive: receiverKeepAlive}
	if ka := f.sc.KeepAlive; ka > 0 && ka < cfg.KeepAlive {
		cfg.KeepAlive = ka
	}
	switch b := f.sc.Backend; {
	case b.Addr != "":
		cfg.Addr, cfg.Username, cfg.Password = b.Addr, b.Username, b.Password
	case f.sc.Target == TargetBroker:
		b := f.sc.Broker
		cfg.Device, cfg.Addr, cfg.Username, cfg.Password = f.brkDev, b.Addr, b.Username, b.Password
	default:
		return nil, nil
	}
	n := f.sc.ReceiversOf()
	filter := receiverFilter(f.sc.Topic)
	if n > 1 {
		filter = "$share/" + id + "/" + filter
	}
	rxs := make([]rxLink, 0, n)
	for i := range n {
		if n > 1 {
			cfg.ClientID = fmt.Sprintf("%s-%d", id, i)
		}
		var rx rxLink
		var err error
		if f.sc.Engine == EngineLean {
			rx, err = f.startLeanReceiver(ctx, cfg, filter)
		} else {
			rx, err = f.startReceiver(ctx, cfg, filter)
		}
		if err != nil {
			for _, rx := range rxs {
				rx.close()
			}
			return nil, err
		}
		rxs = append(rxs, rx)
	}
	return rxs, nil
}

// startReceiver connects one end-to-end subscriber on paho's client and
// subscribes it.
func (f *fleet) startReceiver(ctx context.Context, cfg ClientConfig, filter string) (rxLink, error) {
	c, err := Connect(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("simulator: connecting the end-to-end subscriber: %w", err)
	}
	tok := c.Subscribe(filter, f.sc.QoS, f.onMessage)
	if !tok.WaitTimeout(f.sc.Timeouts.Ack) || tok.Error() != nil {
		c.Disconnect(0)
		return nil, fmt.Errorf("simulator: subscribing the end-to-end subscriber: %w", errors.Join(ErrReceiverRefused, tok.Error()))
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code == subackFailure {
				c.Disconnect(0)
				return nil, ErrReceiverRefused
			}
		}
	}
	return pahoRx{c}, nil
}

// onMessage is paho's handler of a delivered message.
func (f *fleet) onMessage(_ mqtt.Client, m mqtt.Message) { f.receive(m.Payload()) }

// receive matches a delivered message to its publish.
func (f *fleet) receive(payload []byte) {
	now := time.Now()
	h, err := parsePayload(payload)
	if err != nil {
		f.rec.malformed.Add(1)
		return
	}
	if h.Run != f.run {
		return // another process's run, or another shard's
	}
	slot, seq := int(h.Slot), int(h.Seq)
	if slot >= f.sc.Devices || !f.shard.Owns(slot) || seq >= f.msgs {
		f.rec.malformed.Add(1)
		return
	}
	if !f.recvd.set(f.msgIndex(slot/f.shard.Count, seq)) {
		f.rec.duplicates.Add(1)
		return
	}
	inc(&f.rec.received, f.rec.m.received)
	f.rec.sec.add(secReceived, 1)
	f.rec.observe(StageEndToEnd, now.Sub(time.Unix(0, h.Scheduled)))
}
