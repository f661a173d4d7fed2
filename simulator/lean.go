package simulator

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"shakedown/handshake"
)

// The lean engine (Scenario.Engine "lean") speaks a device's MQTT with
// paho's packet codec and no client around it. A connected device has one
// goroutine, its reader (Go needs a goroutine for a blocked Read); it writes
// in the goroutine that has something to say (a publish timer, the reader
// acknowledging a delivery, the keep-alive timer), one packet at a time
// under a mutex, and its keep-alive and acknowledgement deadlines are
// timers. paho's client has nine or ten goroutines per device: a writer, a
// pinger, a router and their helpers.
//
// MQTT 3.1.1 (protocol level 4), a clean session, no will: what the paho
// engine's ClientConfig sets.

// mqttProtocolName is the protocol name of a CONNECT (MQTT 3.1.1 §3.1.2.1).
const mqttProtocolName = "MQTT"

// pahoKeepAlive is paho's default keep-alive, which ClientConfig.KeepAlive 0 keeps.
const pahoKeepAlive = 30 * time.Second

// errPingTimeout is a PINGREQ that got no PINGRESP within the ack timeout.
var errPingTimeout = handshake.Fail(PlainMQTT, handshake.StageTransport, handshake.ReasonTimeout,
	errors.New("simulator: no PINGRESP within the ack timeout"))

// errPacketIDs is a session with every packet identifier in flight.
var errPacketIDs = errors.New("simulator: no free packet identifier")

// linkOptions are what a lean link needs beyond its ClientConfig.
type linkOptions struct {
	linkHooks
	readers    *sync.WaitGroup // owns the reader goroutines
	ackTimeout time.Duration   // PINGRESP deadline, and each write's
}

// leanLink is one session of the lean engine.
type leanLink struct {
	conn      net.Conn
	profile   handshake.Name
	o         linkOptions
	keepAlive time.Duration // 0: off
	lastSent  atomic.Int64  // Unix nanoseconds of the last packet written

	wmu sync.Mutex // one packet written at a time

	mu      sync.Mutex
	closing bool  // close was called: the end is not a loss
	ended   bool  // the reader has ended
	cause   error // why the session failed, before the reader saw it
	nextID  uint16
	flights []*leanFlight // publishes awaiting PUBACK or PUBCOMP
	sub     *leanSub      // the SUBSCRIBE awaiting its SUBACK
	ka      *time.Timer   // the next keep-alive check
	pingAt  time.Time     // a PINGREQ awaits its PINGRESP since then; zero: none
}

// leanFlight is a QoS 1 or 2 publish awaiting its acknowledgement.
type leanFlight struct {
	id     uint16
	done   func(error)
	expiry *time.Timer
}

// leanSub is a SUBSCRIBE awaiting its SUBACK.
type leanSub struct {
	id    uint16
	reply chan subReply
}

type subReply struct {
	codes []byte
	err   error
}

// dialLean opens a session: TCP, the profile's handshake and CONNECT, in
// the caller's goroutine (openLean); then starts the session's reader.
func dialLean(ctx context.Context, cfg ClientConfig, o linkOptions) (link, error) {
	ka := leanKeepAlive(cfg.KeepAlive)
	dialed := time.Now() // no later than the CONNECT, from which the keep-alive counts (§3.1.2.10)
	conn, profile, err := openLean(ctx, cfg, ka)
	if err != nil {
		return nil, err
	}
	l := &leanLink{conn: conn, profile: profile, o: o, keepAlive: ka}
	l.lastSent.Store(dialed.UnixNano())
	l.mu.Lock()
	if l.keepAlive > 0 {
		l.ka = time.AfterFunc(l.keepAlive, l.keepAliveCheck)
	}
	l.mu.Unlock()
	o.readers.Add(1)
	go l.read()
	return l, nil
}

// openLean dials cfg, runs its profile's handshake and a clean session's
// CONNECT of keepAlive (connectLean), bounded by cfg.HandshakeTimeout and
// ctx, and returns the conn and its profile.
func openLean(ctx context.Context, cfg ClientConfig, keepAlive time.Duration) (net.Conn, handshake.Name, error) {
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	conn, err := open(hctx, cfg)
	if err != nil {
		return nil, "", err
	}
	profile := PlainMQTT
	if cfg.Device != nil {
		profile = cfg.Device.Profile()
	}
	if err := connectLean(hctx, conn, profile, keepAlive, cfg); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", err
	}
	return conn, profile, nil
}

// leanKeepAlive is the keep-alive of ClientConfig.KeepAlive, as paho reads it.
func leanKeepAlive(ka time.Duration) time.Duration {
	switch {
	case ka < 0:
		return 0
	case ka == 0:
		return pahoKeepAlive
	}
	return ka
}

// connectLean sends a clean session's CONNECT of cfg on conn and reads its
// CONNACK before ctx's deadline; a cancelled ctx ends the wait at once.
func connectLean(ctx context.Context, conn net.Conn, profile handshake.Name, keepAlive time.Duration, cfg ClientConfig) error {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	p := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	p.ProtocolName, p.ProtocolVersion, p.CleanSession = mqttProtocolName, mqttProtocolLevel, true
	p.Keepalive = uint16(keepAlive / time.Second)
	p.ClientIdentifier = cfg.ClientID
	p.Username, p.UsernameFlag = cfg.Username, cfg.Username != ""
	p.Password, p.PasswordFlag = []byte(cfg.Password), cfg.Password != ""
	if err := p.Write(conn); err != nil {
		return err
	}
	cp, err := readPacket(conn, profile, maxLeanPacket)
	if err != nil {
		return err
	}
	ack, ok := cp.(*packets.ConnackPacket)
	switch {
	case !ok: // [MQTT-3.2.0-1]: the first packet from the server is CONNACK
		return handshake.Fail(profile, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
	case ack.ReturnCode != packets.Accepted:
		return connackError(ack.ReturnCode)
	}
	if !stop() {
		return ctx.Err()
	}
	return conn.SetDeadline(time.Time{})
}

// read is the session's reader: it dispatches every packet until the
// connection ends, then ends the session.
func (l *leanLink) read() {
	defer l.o.readers.Done()
	l.end(readPackets(l.conn, l.profile, l.handle))
}

// readPackets reads control packets from r and hands each to handle until
// either fails, and returns that error.
func readPackets(r io.Reader, p handshake.Name, handle func(packets.ControlPacket) error) error {
	for {
		cp, err := readPacket(r, p, maxLeanPacket)
		if err != nil {
			return err
		}
		if err := handle(cp); err != nil {
			return err
		}
	}
}

// handle acts on one packet from the server.
func (l *leanLink) handle(cp packets.ControlPacket) error {
	switch p := cp.(type) {
	case *packets.PubackPacket: // QoS 1 delivered
		l.complete(p.MessageID)
	case *packets.PubrecPacket: // QoS 2, part 1: release it [MQTT-4.3.3-2]
		rel := packets.NewControlPacket(packets.Pubrel).(*packets.PubrelPacket)
		rel.MessageID = p.MessageID
		return l.write(rel)
	case *packets.PubcompPacket: // QoS 2 delivered
		l.complete(p.MessageID)
	case *packets.SubackPacket:
		l.subscribed(p)
	case *packets.PublishPacket:
		return l.deliver(p)
	case *packets.PubrelPacket: // an inbound QoS 2 message, part 2
		return l.write(pubcomp(p.MessageID))
	case *packets.PingrespPacket:
		l.mu.Lock()
		l.pingAt = time.Time{}
		l.mu.Unlock()
	case *packets.UnsubackPacket: // never asked for: ignored, as paho does
	default: // a second CONNACK
		return handshake.Fail(l.profile, handshake.StageTransport, handshake.ReasonProtocolViolation, ErrUnexpectedPacket)
	}
	return nil
}

// deliver counts a message of the device's own subscriptions and
// acknowledges it by its QoS (MQTT 3.1.1 §4.3).
func (l *leanLink) deliver(p *packets.PublishPacket) error {
	l.o.delivered()
	if ack := deliveryAck(p); ack != nil {
		return l.write(ack)
	}
	return nil
}

// deliveryAck is what a client owes the server for a delivery (MQTT 3.1.1
// §4.3): PUBACK at QoS 1, PUBREC at QoS 2, nothing (nil) at QoS 0.
func deliveryAck(p *packets.PublishPacket) packets.ControlPacket {
	switch p.Qos {
	case 1:
		ack := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
		ack.MessageID = p.MessageID
		return ack
	case 2:
		rec := packets.NewControlPacket(packets.Pubrec).(*packets.PubrecPacket)
		rec.MessageID = p.MessageID
		return rec
	}
	return nil
}

// pubcomp is the PUBCOMP that answers the server's PUBREL of an inbound
// QoS 2 message [MQTT-4.3.3-11].
func pubcomp(id uint16) packets.ControlPacket {
	comp := packets.NewControlPacket(packets.Pubcomp).(*packets.PubcompPacket)
	comp.MessageID = id
	return comp
}

// write sends one packet, within the ack timeout; a failed write fails the
// session (the reader then ends it).
func (l *leanLink) write(p packets.ControlPacket) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.conn.SetWriteDeadline(time.Now().Add(l.o.ackTimeout))
	if err := p.Write(l.conn); err != nil {
		l.fail(err)
		return err
	}
	l.lastSent.Store(time.Now().UnixNano())
	return nil
}

// fail ends the session for cause: the reader sees its connection closed
// and reports cause, not the close.
func (l *leanLink) fail(cause error) {
	l.mu.Lock()
	if l.cause == nil {
		l.cause = cause
	}
	l.mu.Unlock()
	l.conn.Close()
}

// end is the reader's last act: every waiting acknowledgement fails with the
// session's error, and a session the device did not close is lost.
func (l *leanLink) end(err error) {
	l.conn.Close()
	l.mu.Lock()
	l.ended = true
	if l.cause != nil {
		err = l.cause
	}
	if err == nil {
		err = errConnLost
	}
	l.cause = err // what a request after the end meets, and down reports
	lost := !l.closing
	flights, sub := l.flights, l.sub
	l.flights, l.sub = nil, nil
	if l.ka != nil {
		l.ka.Stop()
	}
	l.mu.Unlock()
	for _, fl := range flights {
		fl.expiry.Stop()
		fl.done(err)
	}
	if sub != nil {
		sub.reply <- subReply{err: err}
	}
	if lost {
		l.o.lost(err)
	}
}

func (l *leanLink) down() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stateLocked()
}

func (l *leanLink) close(graceful bool) {
	l.mu.Lock()
	already := l.closing || l.ended
	l.closing = true
	l.mu.Unlock()
	if already {
		l.conn.Close()
		return
	}
	if graceful { // [MQTT-3.14.4-1]: after DISCONNECT the client closes the connection
		l.wmu.Lock()
		l.conn.SetWriteDeadline(time.Now().Add(disconnectQuiesce * time.Millisecond))
		packets.NewControlPacket(packets.Disconnect).Write(l.conn)
		l.wmu.Unlock()
	}
	l.conn.Close()
}
