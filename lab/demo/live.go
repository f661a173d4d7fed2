package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server/app"
	"shakedown/simulator"
)

// liveTimeout bounds the part of the story on the first server: the
// backend subscriber, the devices, the boards and the chips' agents.
const liveTimeout = 90 * time.Second

// deliveryTimeout is how long a message may take from a device to the
// backend subscriber.
const deliveryTimeout = 5 * time.Second

// live runs the server of the devices and boards, and them against it: one
// device per profile, the virtual boards, the emulated chips. It returns
// an error only when the server or the backend subscriber could not start
// or the server failed.
func (s *story) live(ctx context.Context) error {
	ready, stop, err := startServer(ctx, s.cfg)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(s.out, "== server: embedded broker, SQLite registry")
	for _, p := range handshake.Profiles {
		note := ""
		if p.Insecure() {
			note = "  (INSECURE by design: reproduces the seed discussion)"
		}
		fmt.Fprintf(s.out, "   %-5s listener %s%s\n", p, ready.Listeners[string(p)], note)
	}
	lctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	sub, err := subscribe(lctx, ready.Listeners["backend"], s.cfg.BackendUser, s.cfg.BackendPassword)
	if err != nil {
		return err
	}
	defer sub.close()
	s.devices(lctx, ready, sub)
	if ctx.Err() != nil {
		return nil
	}
	s.virtualBoards(lctx, ctx, ready.Listeners, sub)
	if ctx.Err() != nil {
		return nil
	}
	s.chips(lctx, ctx, ready.Listeners, sub)
	if err := stop(); err != nil {
		return fmt.Errorf("demo: the server: %w", err)
	}
	return nil
}

// devices connects the first fixture device of each profile, publishes
// one message as it and waits for the backend to receive it.
func (s *story) devices(ctx context.Context, ready app.Ready, sub *backend) {
	fmt.Fprintln(s.out, "== one device per profile: handshake, MQTT CONNECT, PUBLISH, received by the backend")
	for _, p := range handshake.Profiles {
		d := s.set.DevicesOf(p)[0]
		start := time.Now()
		c, err := connectDevice(ctx, s.set, d, ready.Listeners[string(p)])
		if err != nil {
			s.fail(fmt.Sprintf("   %-5s %-20s FAILED: %v", p, d.ID, err), fmt.Sprintf("the %s device %s failed: %v", p, d.ID, err))
			continue
		}
		connected := time.Since(start)
		topic := "devices/" + d.ID + "/telemetry"
		payload := fmt.Sprintf("temperature=21.5 from %s", d.ID)
		pt := c.Publish(topic, 1, false, payload)
		pt.WaitTimeout(10 * time.Second)
		received := sub.received(topic, payload)
		c.Disconnect(50)
		status := "received by the backend"
		if !received || pt.Error() != nil {
			status, s.failures = "NOT received", s.failures+1
		}
		fmt.Fprintf(s.out, "   %-5s %-20s connected in %6.1f ms, published %q: %s\n", p, d.ID, float64(connected.Microseconds())/1000, topic, status)
	}
}

// connectDevice makes fixture device d a simulated device and connects it
// to the server at addr: handshake and MQTT CONNECT.
func connectDevice(ctx context.Context, set *fixtures.Set, d fixtures.Device, addr string) (mqtt.Client, error) {
	dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
	if err != nil {
		return nil, err
	}
	return simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: addr, ClientID: d.ID, Username: user, Password: pass})
}

// backend is the dashboard of the demo: an MQTT client on the server's
// backend listener subscribed to every device's topics, holding the last
// message of each topic.
type backend struct {
	c       mqtt.Client
	mu      sync.Mutex
	got     map[string]string
	arrived chan struct{}
}

// subscribe connects the backend subscriber at addr.
func subscribe(ctx context.Context, addr, user, password string) (*backend, error) {
	c, err := simulator.Connect(ctx, simulator.ClientConfig{Addr: addr, ClientID: "demo-dashboard", Username: user, Password: password})
	if err != nil {
		return nil, fmt.Errorf("demo: backend subscriber: %w", err)
	}
	b := &backend{c: c, got: map[string]string{}, arrived: make(chan struct{}, 16)}
	tok := c.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		b.mu.Lock()
		b.got[m.Topic()] = string(m.Payload())
		b.mu.Unlock()
		select {
		case b.arrived <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		c.Disconnect(100)
		return nil, fmt.Errorf("demo: backend subscribe: %v", tok.Error())
	}
	return b, nil
}

// received reports whether payload arrives on topic within
// deliveryTimeout (or has arrived).
func (b *backend) received(topic, payload string) bool {
	deadline := time.After(deliveryTimeout)
	for {
		b.mu.Lock()
		ok := b.got[topic] == payload
		b.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-b.arrived:
		case <-deadline:
			return false
		}
	}
}

func (b *backend) close() { b.c.Disconnect(100) }
