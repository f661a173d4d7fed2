package simulator

import (
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// What a lean session waits for: acknowledgements of its publishes and of
// its SUBSCRIBE, and the keep-alive's PINGRESP, each with a timer.

// maxPacketIDs is the number of packet identifiers: 1 to 65535 (MQTT 3.1.1 §2.3.1).
const maxPacketIDs = 1<<16 - 1

// newIDLocked returns a packet identifier no flight or SUBSCRIBE of the
// session holds [MQTT-2.3.1-2].
func (l *leanLink) newIDLocked() (uint16, error) {
	for range maxPacketIDs {
		l.nextID++
		if l.nextID == 0 {
			l.nextID = 1
		}
		if !l.inUseLocked(l.nextID) {
			return l.nextID, nil
		}
	}
	return 0, errPacketIDs
}

func (l *leanLink) inUseLocked(id uint16) bool {
	if l.sub != nil && l.sub.id == id {
		return true
	}
	for _, fl := range l.flights {
		if fl.id == id {
			return true
		}
	}
	return false
}

func (l *leanLink) publish(topic string, qos byte, payload []byte, timeout time.Duration, done func(error)) {
	p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	p.TopicName, p.Qos, p.Payload = topic, qos, payload
	if qos == 0 { // no acknowledgement: done when written
		done(l.write(p))
		return
	}
	l.mu.Lock()
	if err := l.stateLocked(); err != nil {
		l.mu.Unlock()
		done(err)
		return
	}
	id, err := l.newIDLocked()
	if err != nil {
		l.mu.Unlock()
		done(err)
		return
	}
	p.MessageID = id
	fl := &leanFlight{id: id, done: done}
	fl.expiry = time.AfterFunc(timeout, func() { l.expire(fl) })
	l.flights = append(l.flights, fl)
	l.mu.Unlock()
	l.write(p) // a failed write ends the session, and the end fails the flight
}

// stateLocked is the error a new request of the session meets: nil while
// it is up.
func (l *leanLink) stateLocked() error {
	switch {
	case l.cause != nil:
		return l.cause
	case l.closing || l.ended:
		return errConnLost
	}
	return nil
}

// complete ends the flight of packet identifier id, acknowledged. An
// identifier of no flight (acknowledged after its timeout) is ignored.
func (l *leanLink) complete(id uint16) {
	l.mu.Lock()
	var fl *leanFlight
	for i, f := range l.flights {
		if f.id == id {
			fl = f
			l.flights = append(l.flights[:i], l.flights[i+1:]...)
			break
		}
	}
	l.mu.Unlock()
	if fl != nil { // whoever takes a flight from the list ends it: here, expire or end
		fl.expiry.Stop()
		fl.done(nil)
	}
}

// expire is a flight's ack timeout.
func (l *leanLink) expire(fl *leanFlight) {
	l.mu.Lock()
	found := false
	for i, f := range l.flights {
		if f == fl {
			l.flights = append(l.flights[:i], l.flights[i+1:]...)
			found = true
			break
		}
	}
	l.mu.Unlock()
	if found {
		fl.done(errAckTimeout)
	}
}

func (l *leanLink) subscribe(filters map[string]byte, timeout time.Duration) ([]byte, error) {
	p := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	for f, q := range filters {
		p.Topics, p.Qoss = append(p.Topics, f), append(p.Qoss, q)
	}
	sub := &leanSub{reply: make(chan subReply, 1)}
	l.mu.Lock()
	err := l.stateLocked()
	if err == nil && l.sub != nil {
		err = errPacketIDs // one SUBSCRIBE at a time: a device sends one
	}
	if err == nil {
		sub.id, err = l.newIDLocked()
	}
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	p.MessageID = sub.id
	l.sub = sub
	l.mu.Unlock()
	l.write(p) // a failed write ends the session, and the end answers sub
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-sub.reply:
		return r.codes, r.err
	case <-t.C:
	}
	l.mu.Lock()
	if l.sub == sub {
		l.sub = nil
	}
	l.mu.Unlock()
	return nil, errAckTimeout
}

// subscribed answers the SUBSCRIBE that p acknowledges.
func (l *leanLink) subscribed(p *packets.SubackPacket) {
	l.mu.Lock()
	sub := l.sub
	if sub == nil || sub.id != p.MessageID {
		sub = nil
	} else {
		l.sub = nil
	}
	l.mu.Unlock()
	if sub != nil {
		sub.reply <- subReply{codes: p.ReturnCodes}
	}
}

// keepAliveCheck is the keep-alive timer. The client sends a PINGREQ when
// it has sent nothing for the keep-alive [MQTT-3.1.2-23], and ends a
// session whose PINGREQ gets no PINGRESP within the ack timeout (paho's
// PingTimeout).
func (l *leanLink) keepAliveCheck() {
	now := time.Now()
	l.mu.Lock()
	if l.ended || l.closing {
		l.mu.Unlock()
		return
	}
	if !l.pingAt.IsZero() && now.Sub(l.pingAt) >= l.o.ackTimeout {
		l.mu.Unlock()
		l.fail(errPingTimeout)
		return
	}
	next := time.Unix(0, l.lastSent.Load()).Add(l.keepAlive)
	ping := l.pingAt.IsZero() && !now.Before(next)
	if ping {
		l.pingAt, next = now, now.Add(l.keepAlive)
	}
	if !l.pingAt.IsZero() && l.pingAt.Add(l.o.ackTimeout).Before(next) {
		next = l.pingAt.Add(l.o.ackTimeout)
	}
	l.ka.Reset(next.Sub(now))
	l.mu.Unlock()
	if ping {
		l.write(packets.NewControlPacket(packets.Pingreq))
	}
}
