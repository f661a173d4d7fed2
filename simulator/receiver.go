package simulator

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// receiverKeepAlive is the end-to-end subscriber's MQTT keep-alive.
const receiverKeepAlive = 30 * time.Second

// ErrReceiverRefused is a subscription of the end-to-end subscriber that
// the broker refused.
var ErrReceiverRefused = errors.New("simulator: the broker refused the end-to-end subscription")

// startReceiver connects the end-to-end subscriber: on the backend listener
// when one is configured (the gateway's, whatever the target), else as a
// client of the broker target. It runs in this process, so publish and
// arrival times come from one clock. It returns nil when nothing is
// published or the gateway target has no backend listener: end-to-end
// latency is then not measured.
func (f *fleet) startReceiver(ctx context.Context) (mqtt.Client, error) {
	if f.msgs == 0 {
		return nil, nil
	}
	cfg := ClientConfig{ClientID: "shakedown-sim-rx-" + hex.EncodeToString(f.run[:4]),
		HandshakeTimeout: f.sc.Timeouts.Handshake, KeepAlive: receiverKeepAlive}
	switch b := f.sc.Backend; {
	case b.Addr != "":
		cfg.Addr, cfg.Username, cfg.Password = b.Addr, b.Username, b.Password
	case f.sc.Target == TargetBroker:
		b := f.sc.Broker
		cfg.Device, cfg.Addr, cfg.Username, cfg.Password = f.brkDev, b.Addr, b.Username, b.Password
	default:
		return nil, nil
	}
	c, err := Connect(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("simulator: connecting the end-to-end subscriber: %w", err)
	}
	tok := c.Subscribe(receiverFilter(f.sc.Topic), f.sc.QoS, f.onMessage)
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
	return c, nil
}

// onMessage matches a delivered message to its publish.
func (f *fleet) onMessage(_ mqtt.Client, m mqtt.Message) {
	now := time.Now()
	h, err := parsePayload(m.Payload())
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
