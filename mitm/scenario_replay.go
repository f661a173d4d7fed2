package mitm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"shakedown/reports"
)

// recorded is a session the attacker recorded through an honest relay.
type recorded struct {
	rec       *Recording
	sent      int64 // the device's handshake bytes, upstream
	telemetry []byte
	command   []byte
}

// appUnits returns the units of direction d after the handshake.
func (s recorded) appUnits(d Dir, handshakeBytes int64) []Capture {
	var out []Capture
	for _, c := range s.rec.Units(d) {
		if c.Offset >= handshakeBytes {
			out = append(out, c)
		}
	}
	return out
}

// record runs a device session through an honest relay: CONNECT, SUBSCRIBE,
// a telemetry PUBLISH the backend receives and, with command, a command the
// device receives.
func (r *cellRun) record(command bool) (recorded, error) {
	dev, err := r.newDevice()
	if err != nil {
		return recorded{}, err
	}
	dc, relay, err := r.relayed(dev, ListenerOf(r.col.Profile), nil, r.stepTimeout())
	if err != nil {
		closeAll(relay)
		return recorded{}, fmt.Errorf("recording a session: %w", err)
	}
	s := recorded{rec: relay.Recording(), sent: dc.Sent}
	err = r.recordedSession(dev, dc, &s, command)
	dc.Close()
	relay.Close()
	if err != nil {
		return s, fmt.Errorf("recording a session: %w", err)
	}
	r.note("recorded a session: %d units from the device, %d from the server",
		len(s.rec.Units(Upstream)), len(s.rec.Units(Downstream)))
	return s, nil
}

func (r *cellRun) recordedSession(dev Device, dc *DeviceConn, s *recorded, command bool) error {
	cl, code, err := r.connect(dev, dc, r.stepTimeout())
	if err != nil || code != 0 {
		return fmt.Errorf("connect (code %d): %w", code, err)
	}
	ctx, cancel := r.stepCtx(r.stepTimeout())
	defer cancel()
	if _, err := cl.Subscribe(ctx, r.topic("cmd")); err != nil {
		return err
	}
	s.telemetry = r.payload("telemetry")
	if err := cl.Publish(ctx, r.topic("telemetry"), s.telemetry); err != nil {
		return err
	}
	if !r.awaitDelivery(r.topic("telemetry"), s.telemetry, 1) {
		return errors.New("the backend never received the telemetry")
	}
	if !command {
		return nil
	}
	s.command = r.payload("command")
	if err := r.m.Target.Command(r.topic("cmd"), s.command); err != nil {
		return err
	}
	rctx, rcancel := r.stepCtx(r.stepTimeout()) // an exchange of its own, as in work
	defer rcancel()
	pk, err := cl.Receive(rctx)
	if err != nil {
		return err
	}
	if !bytes.Equal(pk.Payload, s.command) {
		return errors.New("the device received another command")
	}
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactWorked, Field: "received a command in the recorded session", Value: string(s.command)})
	return nil
}

// runReplayToDevice: record a session, then answer the device's next
// connection with the server's recorded units, without any server.
func runReplayToDevice(r *cellRun) (reports.Outcome, error) {
	s, err := r.record(true)
	if err != nil {
		return reports.Broken, err
	}
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	ch := r.open(dev, r.failTimeout())
	p, err := r.next()
	if err != nil {
		return reports.Broken, err
	}
	defer p.Close()
	// Read what the device sends, as it comes.
	var mu sync.Mutex
	var up []Unit
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			u, err := ReadUnit(p.Device(), FramingOf(r.col.Profile), r.col.Profile)
			if err != nil {
				return
			}
			mu.Lock()
			up = append(up, u)
			mu.Unlock()
		}
	}()
	defer func() { p.Close(); <-readDone }()
	for _, c := range s.rec.Units(Downstream) {
		if _, err := p.Device().Write(c.Wire); err != nil {
			break // the device hung up
		}
	}
	r.note("replayed the server's %d recorded units", len(s.rec.Units(Downstream)))
	dc, err := r.wait(ch)
	if err != nil {
		if err := r.deviceRefused(err, "the replayed handshake"); err != nil {
			return reports.Broken, err
		}
		return reports.Rejected, nil
	}
	defer dc.Close()
	cl, code, err := r.connect(dev, dc, r.failTimeout())
	if err != nil {
		if err := r.deviceRefused(err, "the replayed CONNACK"); err != nil {
			return reports.Broken, err
		}
		return reports.Rejected, nil
	}
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "CONNACK", Value: fmt.Sprintf("return code %d", code), Note: "replayed from the recording"})
	ctx, cancel := r.stepCtx(r.failTimeout())
	defer cancel()
	if _, err := cl.Subscribe(ctx, r.topic("cmd")); err != nil {
		r.refused(reports.SideDevice, err, "the replayed SUBACK")
		return reports.Succeeded, nil
	}
	if err := cl.Publish(ctx, r.topic("telemetry"), r.payload("telemetry")); err != nil {
		r.refused(reports.SideDevice, err, "the replayed PUBACK")
		return reports.Succeeded, nil
	}
	pk, err := cl.Receive(ctx)
	if err == nil {
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "command", Value: string(pk.Payload), Note: "replayed: the backend sent it once, in the recorded session"})
	}
	// The device's first record equals the recorded one: the same CONNECT
	// under the same key and nonce.
	app := s.appUnits(Upstream, s.sent)
	first := len(s.rec.Units(Upstream)) - len(app)
	var replayed Unit
	if len(app) > 0 && r.poll(r.failTimeout(), func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(up) > first {
			replayed = up[first]
			return true
		}
		return false
	}) && bytes.Equal(replayed.Wire, app[0].Wire) {
		r.read("reused keystream", fmt.Sprintf("the device's first record (%d bytes) is byte for byte the recorded one", len(replayed.Wire)),
			"same key and nonce twice (NIST SP 800-38D §8)")
	}
	return reports.Succeeded, nil
}

// runReplayToServer: record a session, then send the device's recorded
// units to the server on a connection of the attacker's own.
func runReplayToServer(r *cellRun) (reports.Outcome, error) {
	s, err := r.record(false)
	if err != nil {
		return reports.Broken, err
	}
	topic := r.topic("telemetry")
	ctx, cancel := r.stepCtx(deliveryTimeout + r.failTimeout())
	defer cancel()
	mark := r.m.Target.Mark()
	conn, err := r.dial(ctx, ListenerOf(r.col.Profile))
	if err != nil {
		return reports.Broken, err
	}
	drained := make(chan struct{})
	defer func() { conn.Close(); <-drained }()
	for _, c := range s.rec.Units(Upstream) {
		if _, err := conn.Write(c.Wire); err != nil {
			break
		}
	}
	r.note("replayed the device's %d recorded units on a new connection", len(s.rec.Units(Upstream)))
	go func() { defer close(drained); drain(ctx, conn) }()
	var refusal ServerEvent
	r.poll(deliveryTimeout, func() bool {
		if r.count(topic, s.telemetry) >= 2 {
			return true
		}
		if ev, ok := r.firstRefusal(mark); ok {
			refusal = ev
			return true
		}
		return false
	})
	if refusal.Reason != "" {
		r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactRefused, Stage: string(refusal.Stage), Reason: string(refusal.Reason), Note: "the replayed session"})
	}
	r.settle()
	n := r.delivered(topic, s.telemetry, "the recorded telemetry; once is the original")
	switch {
	case n >= 2:
		return reports.Succeeded, nil
	case refusal.Reason != "":
		return reports.Rejected, nil
	}
	return reports.Broken, errors.New("the replay was neither delivered nor refused")
}

// firstRefusal returns the first refusal the cell's listener logged after
// mark.
func (r *cellRun) firstRefusal(mark int) (ServerEvent, bool) {
	match := refusalOn(ListenerOf(r.col.Profile))
	for _, e := range r.m.Target.Events(mark) {
		if match(e) {
			return e, true
		}
	}
	return ServerEvent{}, false
}

// drain reads and discards until the connection ends or ctx is done.
func drain(ctx context.Context, c interface {
	Read([]byte) (int, error)
	SetReadDeadline(time.Time) error
}) {
	if d, ok := ctx.Deadline(); ok {
		c.SetReadDeadline(d)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
