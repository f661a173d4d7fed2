package simulator

import (
	"context"
	"errors"
	"sync"
	"time"

	"shakedown/handshake"
)

// device is one legitimate slot's life: connect, subscribe, publish on
// schedule for the hold time, disconnect; reconnect by the policy when a
// connect fails or the session is lost.
//
// A connected device owns no goroutine: its next publish and the end of its
// hold are timers (time.AfterFunc), a lost session is its link's callback,
// and a cancelled run is context.AfterFunc. Goroutines of ours exist only
// while a device connects and, on paho, while a publish waits for its
// acknowledgement. This keeps a held device down to its engine's own
// goroutines and buffers: paho's nine or ten, or the lean engine's reader.
//
// Exactly one path ends a device (finish): the hold timer, the lost-session
// callback when the policy gives up, the connect loop when a connect fails
// for good, or cancellation of the run.
type device struct {
	f     *fleet
	sl    Slot
	ep    endpoint
	local int // the slot's index within the shard
	ctx   context.Context

	mu            sync.Mutex
	client        link        // the session in progress; nil between sessions
	gen           int         // the current connect's generation: callbacks of older ones are ignored
	timer         *time.Timer // the next publish, or the end of the hold
	ending        bool        // the hold is over or the run was cancelled
	completed     bool        // the hold is over: the device did what it came for
	connected     bool        // some connect succeeded
	retries       int
	next          int       // the next message's sequence number
	base, holdEnd time.Time // the publish schedule: message k at base + k·interval

	flights    sync.WaitGroup // publishes waiting for their acknowledgement
	stopCancel func() bool    // unregisters the cancellation callback
	done       sync.Once
}

// start runs the device's first connect at its scheduled time. It returns
// once the device holds a session or has ended; f.wg is released when the
// device ends.
func (d *device) start(ctx context.Context) {
	d.ctx = ctx
	d.stopCancel = context.AfterFunc(ctx, d.cancel)
	d.connectLoop(d.f.start.Add(d.sl.At))
}

// connectLoop connects, retrying by the policy, and starts the session.
// at is the attempt's scheduled time, from which its latency counts.
func (d *device) connectLoop(at time.Time) {
	for {
		d.mu.Lock()
		d.gen++
		gen := d.gen
		d.mu.Unlock()
		c, err := d.connect(at, gen)
		if err == nil {
			d.startSession(c, gen)
			return
		}
		delay, ok := d.retry()
		if !ok || !d.sleep(delay) {
			d.finish()
			return
		}
		at = time.Now()
	}
}

// startSession subscribes and arms the publish schedule, unless the run was
// cancelled or the session lost meanwhile (their paths then own the device).
func (d *device) startSession(c link, gen int) {
	rec := d.f.rec
	d.mu.Lock()
	if d.ending {
		d.mu.Unlock()
		c.close(false)
		d.finish()
		return
	}
	d.client = c
	rec.addActive(1)
	d.mu.Unlock()
	d.subscribe(c)
	d.mu.Lock()
	if d.client != c {
		d.mu.Unlock()
		return
	}
	if err := c.down(); err != nil {
		// Lost before the session was registered: the link's callback may have
		// come and gone. Whichever of the two runs first takes it, with the
		// link's own reason.
		d.mu.Unlock()
		d.lost(gen, err)
		return
	}
	defer d.mu.Unlock()
	if d.base.IsZero() {
		d.base = time.Now()
		if d.f.sc.Hold > 0 { // else held until the run is interrupted
			d.holdEnd = d.base.Add(d.f.sc.Hold)
		}
	}
	d.armLocked(gen)
}

// detachLocked ends the session's bookkeeping and returns its client.
func (d *device) detachLocked() link {
	c := d.client
	if c == nil {
		return nil
	}
	d.client = nil
	if d.timer != nil {
		d.timer.Stop()
	}
	d.f.rec.addActive(-1)
	return c
}

// armLocked sets the timer of the next event: a publish, or the hold's
// end; a device held until the run is interrupted has no end to arm.
func (d *device) armLocked(gen int) {
	t := d.holdEnd
	switch {
	case d.next < d.f.msgs:
		t = d.base.Add(time.Duration(d.next) * d.f.sc.PublishInterval)
	case t.IsZero():
		return
	}
	d.timer = time.AfterFunc(time.Until(t), func() { d.fire(gen) })
}

// fire is the timer: publish the next message, or end the hold.
func (d *device) fire(gen int) {
	d.mu.Lock()
	if gen != d.gen || d.client == nil || d.ending {
		d.mu.Unlock()
		return
	}
	if d.next < d.f.msgs {
		c, seq := d.client, d.next
		sched := d.base.Add(time.Duration(seq) * d.f.sc.PublishInterval)
		d.next++
		d.armLocked(gen) // the schedule goes on whether or not this publish is acknowledged
		d.flights.Add(1)
		d.mu.Unlock()
		d.publish(c, seq, sched) // releases the flight when the publish is done
		return
	}
	d.ending, d.completed = true, true
	c := d.detachLocked()
	d.mu.Unlock()
	lowerTo(&d.f.rec.steadyEnd, time.Now())
	d.flights.Wait()
	c.close(true)
	d.finish()
}

// lost is the link's connection-lost callback (in a goroutine of paho's, or
// the lean engine's reader).
func (d *device) lost(gen int, err error) {
	d.mu.Lock()
	if gen != d.gen || d.ending {
		d.mu.Unlock()
		return
	}
	c := d.detachLocked()
	holdOver := !d.holdEnd.IsZero() && !time.Now().Before(d.holdEnd)
	if c != nil && holdOver {
		d.completed = true // lost at the very end: the hold is done
	}
	d.mu.Unlock()
	if c == nil {
		return
	}
	if err == nil {
		err = errConnLost
	}
	inc(&d.f.rec.lost, d.f.rec.m.lost)
	d.f.rec.fail(FailSession, FailureReason(err))
	if holdOver {
		d.finish()
		return
	}
	delay, ok := d.retry()
	if !ok || !d.sleep(delay) {
		d.finish()
		return
	}
	d.connectLoop(time.Now())
}

// cancel ends the device when the run is cancelled.
func (d *device) cancel() {
	lowerTo(&d.f.rec.steadyEnd, time.Now())
	d.mu.Lock()
	d.ending = true
	c := d.detachLocked()
	d.mu.Unlock()
	if c != nil {
		c.close(false)
		d.finish()
	}
	// Without a session, the connect loop or the lost callback sees the
	// cancelled context and finishes.
}

// finish records the device's end once and releases the fleet. A device
// that did not complete its hold was lost, unless the run was cancelled:
// then the interruption cut it short, and that is not the server's failure.
func (d *device) finish() {
	d.done.Do(func() {
		d.stopCancel()
		d.flights.Wait()
		rec := d.f.rec
		d.mu.Lock()
		switch {
		case d.completed:
		case d.ctx.Err() != nil:
			rec.cutShort.Add(1)
		case !d.connected:
			rec.connectFailed.Add(1)
			rec.devicesLost.Add(1)
		default:
			rec.devicesLost.Add(1)
		}
		if d.f.sc.Hold > 0 { // a device held until interrupted had no schedule to miss
			rec.unpublished.Add(int64(d.f.msgs - d.next))
		}
		d.mu.Unlock()
		d.f.wg.Done()
	})
}

// retry says whether and after how long the policy tries again.
func (d *device) retry() (time.Duration, bool) {
	r := d.f.sc.Reconnect
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Policy == ReconnectNone || d.retries >= r.MaxAttempts || d.ctx.Err() != nil || d.ending {
		return 0, false
	}
	d.retries++
	if r.Policy == ReconnectImmediate {
		return 0, true
	}
	const maxBackoff = 10 * time.Minute
	delay := r.Backoff
	for range d.retries - 1 {
		if delay >= maxBackoff/2 {
			return maxBackoff, true
		}
		delay *= 2
	}
	return delay, true
}

func (d *device) sleep(delay time.Duration) bool {
	if delay <= 0 {
		return d.ctx.Err() == nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.ctx.Done():
		return false
	}
}

// connect opens a session; at is the attempt's scheduled time, from which
// the connect latency counts.
func (d *device) connect(at time.Time, gen int) (link, error) {
	rec := d.f.rec
	var tm ConnectTimings
	cfg := d.f.clientConfig(d.sl, d.ep)
	cfg.Timings = &tm
	rec.attempts.Add(1)
	c, err := d.f.dialLink(d.ctx, cfg, linkHooks{lost: func(err error) { d.lost(gen, err) }, delivered: d.f.onDelivered})
	now := time.Now()
	if !tm.Dialed.IsZero() {
		rec.observe(StageTCP, tm.Dialed.Sub(tm.DialStart))
	}
	if !tm.Handshaken.IsZero() && d.ep.dev != nil {
		rec.observe(StageHandshake, tm.Handshaken.Sub(tm.Dialed))
		span(&rec.firstHandshake, &rec.lastHandshake, tm.Handshaken)
		inc(&rec.handshakes, rec.m.handshakes)
	}
	if err != nil {
		if d.ctx.Err() != nil {
			return nil, err // the run was cancelled: not the server's failure
		}
		stage := FailConnack
		switch {
		case tm.Dialed.IsZero():
			stage = FailDial
		case tm.Handshaken.IsZero():
			stage = FailHandshake
		}
		rec.fail(stage, FailureReason(err))
		return nil, err
	}
	rec.observe(StageConnack, now.Sub(tm.Handshaken))
	rec.observe(StageConnect, now.Sub(at))
	span(&rec.firstConnect, &rec.lastConnect, now)
	rec.m.connects.Inc()
	rec.sec.add(secConnects, 1)
	d.mu.Lock()
	if d.connected {
		inc(&rec.reconnects, rec.m.reconnects)
	} else {
		d.connected = true
		rec.connected.Add(1)
		raiseTo(&rec.rampEnd, now)
	}
	d.mu.Unlock()
	return c, nil
}

func (d *device) subscribe(c link) {
	subs := d.f.sc.Subscriptions
	if len(subs) == 0 {
		return
	}
	filters := make(map[string]byte, len(subs))
	for _, s := range subs {
		filters[expand(s, d.ep.clientID)] = d.f.sc.QoS
	}
	start := time.Now()
	codes, err := c.subscribe(filters, d.f.sc.Timeouts.Ack)
	if err != nil {
		if d.ctx.Err() == nil { // else the interruption ended the session
			d.f.rec.fail(FailSuback, FailureReason(err))
		}
		return
	}
	d.f.rec.observe(StageSuback, time.Since(start))
	for _, code := range codes {
		if code == subackFailure {
			d.f.rec.fail(FailSuback, handshake.ReasonSubackRefused)
			return
		}
	}
	d.f.rec.subscribed.Add(1)
}

// onDelivered counts a message a device's own subscription received.
func (f *fleet) onDelivered() {
	f.rec.delivered.Add(1)
	f.rec.sec.add(secDelivered, 1)
}

var errConnLost = errors.New("simulator: connection lost")

// subackFailure is the SUBACK return code of a refused filter (MQTT 3.1.1 §3.9.3).
const subackFailure = 0x80

// publish sends message seq, scheduled at sched; its acknowledgement (at
// most timeouts.ack later) is counted by published, which releases the
// device's flight.
func (d *device) publish(c link, seq int, sched time.Time) {
	rec := d.f.rec
	h := payloadHeader{Run: d.f.run, Slot: uint32(d.sl.N), Seq: uint32(seq), Scheduled: sched.UnixNano()}
	payload := appendPayload(make([]byte, 0, d.f.sc.PayloadSize), h, d.f.sc.PayloadSize)
	lowerTo(&rec.firstPublish, sched)
	inc(&rec.published, rec.m.published)
	rec.sec.add(secPublishes, 1)
	c.publish(expand(d.f.sc.Topic, d.ep.clientID), d.f.sc.QoS, payload, d.f.sc.Timeouts.Ack, func(err error) {
		defer d.flights.Done()
		d.published(seq, sched, err)
	})
}

// published counts the end of message seq's publish: acknowledged, timed
// out, or failed with its session.
func (d *device) published(seq int, sched time.Time, err error) {
	rec := d.f.rec
	now := time.Now()
	switch {
	case errors.Is(err, errAckTimeout):
		rec.publishFailed.Add(1)
		rec.fail(FailPublish, handshake.ReasonAckTimeout)
		return
	case err != nil && d.ctx.Err() != nil:
		return // the interruption closed the session under it: in flight, not failed
	case err != nil:
		rec.publishFailed.Add(1)
		rec.fail(FailPublish, FailureReason(err))
		return
	}
	inc(&rec.acked, rec.m.acked)
	if d.f.sc.QoS > 0 { // QoS 0 has no acknowledgement: done says only that it was written
		rec.observe(StagePublish, now.Sub(sched))
		rec.sec.add(secAcks, 1)
	}
	raiseTo(&rec.lastAck, now)
	d.f.acked.set(d.f.msgIndex(d.local, seq))
}
