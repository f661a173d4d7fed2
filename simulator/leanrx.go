package simulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"shakedown/handshake"
)

// leanRx is an end-to-end subscriber on the lean engine: paho's packet
// codec and one goroutine, its reader. It reads through a buffer, and
// writes its acknowledgements into another that it flushes only when it
// has read everything that arrived: under load one read brings many
// messages and one write acknowledges them all. paho's client reads each
// packet's header byte by byte from the conn, writes each acknowledgement
// on its own, and hands every message across four goroutines; for the
// subscriber that receives a whole fleet's messages, that was a fifth of
// the simulator's CPU.
//
// Its session is what a lean device's is: MQTT 3.1.1, a clean session, no
// will. A session the broker ends before close leaves its messages
// undelivered; they count as missing, as with paho's subscriber.
type leanRx struct {
	f          *fleet
	conn       net.Conn
	profile    handshake.Name
	keepAlive  time.Duration // 0: off
	ackTimeout time.Duration
	r          *bufio.Reader
	suback     chan subReply // the SUBACK, once
	done       chan struct{} // closed when the reader has ended
	closing    atomic.Bool

	wmu      sync.Mutex
	w        *bufio.Writer // acknowledgements not yet written
	lastSent time.Time
	ka       *time.Timer // the next keep-alive check
}

// rxBuffer is the size of a lean subscriber's read and write buffers: a
// read takes up to about 40 messages of the default topic and payload, and 1,024
// PUBACKs fit in one write.
const rxBuffer = 4096

// startLeanReceiver connects one end-to-end subscriber on the lean engine
// and subscribes it to filter at the scenario's QoS.
func (f *fleet) startLeanReceiver(ctx context.Context, cfg ClientConfig, filter string) (*leanRx, error) {
	ka := leanKeepAlive(cfg.KeepAlive)
	dialed := time.Now() // no later than the CONNECT, from which the keep-alive counts
	conn, profile, err := openLean(ctx, cfg, ka)
	if err != nil {
		return nil, fmt.Errorf("simulator: connecting the end-to-end subscriber: %w", err)
	}
	rx := &leanRx{f: f, conn: conn, profile: profile, keepAlive: ka,
		ackTimeout: f.sc.Timeouts.Ack, suback: make(chan subReply, 1), done: make(chan struct{})}
	rx.r = bufio.NewReaderSize(flushFirst{rx}, rxBuffer)
	rx.w = bufio.NewWriterSize(conn, rxBuffer)
	rx.wmu.Lock()
	rx.lastSent = dialed
	if rx.keepAlive > 0 {
		rx.ka = time.AfterFunc(rx.keepAlive, rx.keepAliveCheck)
	}
	rx.wmu.Unlock()
	go rx.read()
	// The broker may deliver before its SUBACK (MQTT 3.1.1 §3.8.4), so the
	// reader is already running and hands the SUBACK over.
	sub := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sub.MessageID, sub.Topics, sub.Qoss = 1, []string{filter}, []byte{f.sc.QoS}
	if err := rx.send(sub); err != nil {
		rx.close()
		return nil, fmt.Errorf("simulator: subscribing the end-to-end subscriber: %w", err)
	}
	t := time.NewTimer(rx.ackTimeout)
	defer t.Stop()
	var reply subReply
	select {
	case reply = <-rx.suback:
	case <-t.C:
		reply.err = errAckTimeout
	}
	switch {
	case reply.err != nil:
		rx.close()
		return nil, fmt.Errorf("simulator: subscribing the end-to-end subscriber: %w", errors.Join(ErrReceiverRefused, reply.err))
	case len(reply.codes) != 1 || reply.codes[0] == subackFailure:
		rx.close()
		return nil, ErrReceiverRefused
	}
	return rx, nil
}

// flushFirst is the conn as the subscriber's read buffer sees it: every
// read that would wait for the broker first writes the acknowledgements
// the subscriber owes it.
type flushFirst struct{ rx *leanRx }

func (f flushFirst) Read(p []byte) (int, error) {
	f.rx.wmu.Lock()
	err := f.rx.flushLocked()
	f.rx.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	return f.rx.conn.Read(p)
}

// read is the subscriber's reader: it handles every packet until the
// session ends.
func (rx *leanRx) read() {
	defer close(rx.done)
	err := readPackets(rx.r, rx.profile, rx.handle)
	rx.conn.Close()
	rx.wmu.Lock()
	if rx.ka != nil {
		rx.ka.Stop()
	}
	rx.wmu.Unlock()
	select {
	case rx.suback <- subReply{err: err}: // a subscribe still waiting
	default:
	}
}

// handle acts on one packet from the broker.
func (rx *leanRx) handle(cp packets.ControlPacket) error {
	switch p := cp.(type) {
	case *packets.PublishPacket:
		rx.f.receive(p.Payload)
		if ack := deliveryAck(p); ack != nil {
			return rx.queue(ack)
		}
	case *packets.PubrelPacket: // QoS 2, part 2
		return rx.queue(pubcomp(p.MessageID))
	case *packets.SubackPacket:
		if p.MessageID != 1 {
			return handshake.Fail(rx.profile, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
		}
		select {
		case rx.suback <- subReply{codes: p.ReturnCodes}:
		default: // a second SUBACK
			return handshake.Fail(rx.profile, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
		}
	case *packets.PingrespPacket:
	default: // acknowledgements of what it never sent, a second CONNACK
		return handshake.Fail(rx.profile, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
	}
	return nil
}

// queue adds an acknowledgement to those the next flush writes.
func (rx *leanRx) queue(p packets.ControlPacket) error {
	rx.wmu.Lock()
	defer rx.wmu.Unlock()
	if rx.w.Available() < 4 { // an acknowledgement is 4 bytes (§3.4-§3.7)
		if err := rx.flushLocked(); err != nil {
			return err
		}
	}
	return p.Write(rx.w)
}

// send writes p and whatever is queued before it, now.
func (rx *leanRx) send(p packets.ControlPacket) error {
	rx.wmu.Lock()
	defer rx.wmu.Unlock()
	if err := p.Write(rx.w); err != nil {
		return err
	}
	return rx.flushLocked()
}

// flushLocked writes what is queued, within the ack timeout.
func (rx *leanRx) flushLocked() error {
	if rx.w.Buffered() == 0 {
		return nil
	}
	rx.conn.SetWriteDeadline(time.Now().Add(rx.ackTimeout))
	if err := rx.w.Flush(); err != nil {
		return err
	}
	rx.lastSent = time.Now()
	return nil
}

// keepAliveCheck sends PINGREQ when the subscriber has written nothing
// for its keep-alive (MQTT 3.1.1 §3.1.2.10): a subscriber of QoS 0
// messages acknowledges nothing, and the broker would end a silent
// session. A failed write ends the session.
func (rx *leanRx) keepAliveCheck() {
	rx.wmu.Lock()
	defer rx.wmu.Unlock()
	if rx.closing.Load() {
		return
	}
	next := rx.keepAlive - time.Since(rx.lastSent)
	if next <= 0 {
		if err := packets.NewControlPacket(packets.Pingreq).Write(rx.w); err != nil || rx.flushLocked() != nil {
			rx.conn.Close()
			return
		}
		next = rx.keepAlive
	}
	rx.ka.Reset(next)
}

// close writes what is queued and DISCONNECT [MQTT-3.14.4-1], closes the
// session and waits for the reader. It is safe twice.
func (rx *leanRx) close() {
	if rx.closing.Swap(true) {
		<-rx.done
		return
	}
	rx.wmu.Lock()
	rx.conn.SetWriteDeadline(time.Now().Add(disconnectQuiesce * time.Millisecond))
	if packets.NewControlPacket(packets.Disconnect).Write(rx.w) == nil {
		rx.w.Flush()
	}
	rx.wmu.Unlock()
	rx.conn.Close()
	<-rx.done
}
