package broker

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/server/accept"
	"shakedown/server/lograte"
)

// DeviceListenerID names the mochi listener of handshake conns.
const DeviceListenerID = "devices"

// BackendListenerID names the mochi listener of backend clients.
const BackendListenerID = "backend"

// Options configures the embedded broker.
type Options struct {
	// Grants returns extra topic filters a device may use besides
	// devices/{id}/#; it is called once per session, at CONNECT.
	Grants func(deviceID string) []string
	// Passwords checks MQTT CONNECT credentials of tls-profile devices.
	Passwords func(ctx context.Context, deviceID string, password []byte) error
	// Backend is the username and password of backend clients.
	BackendUser, BackendPassword string
	Logger                       *slog.Logger
	// ConnectTimeout bounds the wait for a client's CONNECT packet, on
	// devices' conns from the end of their handshake, and on the plain and
	// backend listeners' from accept; a client that sends none in time is
	// closed and counted (handshake.ReasonConnectTimeout). 0: DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Observer is told about every refused CONNECT, PUBLISH and SUBSCRIBE,
	// every session ended by a malformed or misplaced packet or by a
	// missing CONNECT, and every failed accept; nil: nobody. Refusals are
	// also logged at info, rate-limited per reason.
	Observer Observer
	// WriteQueue is the number of packets each client's queue holds
	// while they wait to be written; a packet for a client whose queue is
	// full is dropped and counted (Dropped). 0: DefaultWriteQueue.
	WriteQueue int
	// MaxPacket bounds every MQTT packet a client sends, fixed header
	// included; a longer one ends the session before its body is read.
	// 0: DefaultMaxPacket.
	MaxPacket int
}

// DefaultMaxPacket is the default of Options.MaxPacket, the bridge's bound
// too. mochi's own default is no bound: it allocates the Remaining Length a
// fixed header announces (up to 256 MiB, MQTT 3.1.1 §2.2.3) before reading
// the body, so one client that finished a handshake could take 256 MiB of
// the server with five bytes. A device's packets are far smaller.
const DefaultMaxPacket = 256 << 10

// DefaultWriteQueue is the default of Options.WriteQueue. mochi's own
// default, 8,192, costs 64 KiB per client whether or not anything waits:
// most of a device session's memory at fleet scale.
const DefaultWriteQueue = 1024

// CheckWriteQueue says whether n is a valid Options.WriteQueue.
func CheckWriteQueue(n int) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("broker: write queue %d: want 1 to %d, or 0 for the default", n, math.MaxInt32)
	}
	return nil
}

// clientReadBuffer is each client's read buffer (mochi's bufio.Reader,
// 2 KiB by default). A device's conn already hands over a whole record at a
// time (handshake.RecordConn), and devices send small packets: PUBLISH of a
// few hundred bytes, PUBACK, PINGREQ. A larger packet costs more reads, not
// an error. 1.5 KiB less per session (docs/benchmarks.md, "Memory per
// device").
const clientReadBuffer = 512

// Embedded is a running mochi broker.
type Embedded struct {
	srv      *mqtt.Server
	opts     Options
	refusals *lograte.Logger
	sessions *sessions
	once     sync.Once
	wg       sync.WaitGroup // backend listener loops
}

// New starts an embedded broker.
func New(opts Options) (*Embedded, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := CheckWriteQueue(opts.WriteQueue); err != nil {
		return nil, err
	}
	if opts.WriteQueue == 0 {
		opts.WriteQueue = DefaultWriteQueue
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxPacket <= 0 {
		opts.MaxPacket = DefaultMaxPacket
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = int32(opts.WriteQueue)
	caps.MaximumPacketSize = uint32(min(opts.MaxPacket, math.MaxInt32))
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(mochiLogs{opts.Logger.Handler()}), Capabilities: caps,
		ClientNetReadBufferSize: clientReadBuffer})
	e := &Embedded{srv: srv, opts: opts, sessions: newSessions(), refusals: lograte.New(opts.Logger, lograte.DefaultInterval, lograte.DefaultBurst)}
	if err := srv.AddHook(&bindingHook{e: e}, nil); err != nil {
		return nil, fmt.Errorf("broker: adding hook: %w", err)
	}
	if err := srv.Serve(); err != nil {
		return nil, fmt.Errorf("broker: starting: %w", err)
	}
	return e, nil
}

// AddBackendListener listens for backend clients on addr ("127.0.0.1:0"
// picks a port) and returns the address. Its accept loop rides out
// failures such as EMFILE (package server/accept).
func (e *Embedded) AddBackendListener(addr string) (net.Addr, error) {
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("broker: backend listener: %w", err)
	}
	ln := accept.Wrap(raw, func(err error, wait time.Duration) {
		e.opts.Logger.Warn("accept failed; retrying", "listener", BackendListenerID, "err", err, "retry_in", wait.String())
		e.opts.Observer.AcceptFailed(BackendListenerID)
	})
	l := listeners.NewNet(BackendListenerID, backendListener{Listener: ln, e: e})
	if err := e.srv.AddListener(l); err != nil {
		ln.Close()
		return nil, fmt.Errorf("broker: backend listener: %w", err)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		l.Serve(e.establish)
	}()
	return ln.Addr(), nil
}

// AttachDevice serves an MQTT session on a handshake conn until it ends.
// The conn is closed when AttachDevice returns.
func (e *Embedded) AttachDevice(conn net.Conn, id handshake.Identity) error {
	dc := &deviceConn{Conn: conn, id: id, wait: connectWait{obs: e.opts.Observer, label: id.Profile}}
	startConnectWait(conn, e.opts.ConnectTimeout)
	err := e.establish(DeviceListenerID, dc)
	conn.Close()
	if err == nil || errors.Is(err, net.ErrClosed) {
		return nil
	}
	e.sessionEnded(dc, err)
	return err
}

// AttachPlain serves plain MQTT on conn, without a handshake: the baseline
// listener for comparisons. The client ID is taken on trust and the topic
// rules of devices still apply to it.
func (e *Embedded) AttachPlain(conn net.Conn) error {
	dc := &deviceConn{Conn: conn, plain: true, wait: connectWait{obs: e.opts.Observer, label: LabelPlain}}
	startConnectWait(conn, e.opts.ConnectTimeout)
	err := e.establish(DeviceListenerID, dc)
	conn.Close()
	if err == nil || errors.Is(err, net.ErrClosed) {
		return nil
	}
	e.sessionEnded(dc, err)
	return err
}

// Publish publishes from inside the broker (the inline client).
func (e *Embedded) Publish(topic string, payload []byte, qos byte) error {
	return e.srv.Publish(topic, payload, false, qos)
}

// Subscribe subscribes the inline client.
func (e *Embedded) Subscribe(filter string, id int, fn func(topic string, payload []byte)) error {
	return e.srv.Subscribe(filter, id, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		fn(pk.TopicName, pk.Payload)
	})
}

// Clients returns the number of connected clients.
func (e *Embedded) Clients() int64 { return e.srv.Info.ClientsConnected }

// Dropped returns the messages the broker accepted and then dropped for one
// subscriber: queue counts packets dropped because the client's write queue
// was full (Options.WriteQueue); inflight counts QoS 1 and 2 messages
// dropped because the client already had as many unacknowledged messages
// as the broker keeps for it (mochi's MaximumInflight, 8,192).
func (e *Embedded) Dropped() (queue, inflight int64) {
	return atomic.LoadInt64(&e.srv.Info.MessagesDropped), atomic.LoadInt64(&e.srv.Info.InflightDropped)
}

// Close stops the broker and disconnects every client. Safe to call twice.
func (e *Embedded) Close() error {
	var err error
	e.once.Do(func() {
		err = e.srv.Close()
		e.wg.Wait()
	})
	return err
}

// deviceConn carries the handshake identity into the broker's hooks.
type deviceConn struct {
	net.Conn
	id       handshake.Identity
	plain    bool // baseline listener: no handshake, the client ID is taken on trust
	mu       sync.Mutex
	deviceID string   // bound at CONNECT
	grants   []string // read once at CONNECT
	wait     connectWait
}

func (c *deviceConn) connectWait() *connectWait { return &c.wait }

func (c *deviceConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.wait.failed(err)
	}
	return n, err
}

func (c *deviceConn) bound() (string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deviceID, c.grants
}

// profile is the metric label of the conn's sessions.
func (c *deviceConn) profile() handshake.Name {
	if c.plain {
		return PlainProfile
	}
	return c.id.Profile
}

// refused counts a refusal and logs it, rate-limited. The record names the
// device only when a handshake authenticated it: before that the client ID
// is whatever the peer sent.
func (e *Embedded) refused(dc *deviceConn, reason handshake.Reason, msg string) {
	if e.opts.Observer != nil {
		e.opts.Observer.Refused(dc.profile(), reason)
	}
	args := []any{"profile", dc.profile(), "reason", reason}
	if id, _ := dc.bound(); id != "" {
		args = append(args, "device", id)
	} else if dc.id.DeviceID != "" {
		args = append(args, "device", dc.id.DeviceID)
	}
	if ra := dc.RemoteAddr(); ra != nil {
		args = append(args, "remote", ra.String())
	}
	e.refusals.Info(string(reason), msg, args...)
}

// sessionReasons are the MQTT reason codes (5.0 §2.4) of errors that end a
// session because of what the device sent; the hooks count the rest.
var sessionReasons = map[byte]handshake.Reason{
	packets.ErrMalformedPacket.Code:   handshake.ReasonMalformed,
	packets.ErrProtocolViolation.Code: handshake.ReasonProtocolViolation,
	packets.ErrReceiveMaximum.Code:    handshake.ReasonProtocolViolation,
	packets.ErrTopicAliasInvalid.Code: handshake.ReasonProtocolViolation,
	packets.ErrPacketTooLarge.Code:    handshake.ReasonOversizePacket,
}

// sessionEnded counts a session that mochi ended on a packet of the device.
func (e *Embedded) sessionEnded(dc *deviceConn, err error) {
	var code packets.Code
	if !errors.As(err, &code) {
		return
	}
	if reason, ok := sessionReasons[code.Code]; ok {
		e.refused(dc, reason, "session ended")
	}
}

// bindingHook binds MQTT identities and topics to the handshake.
type bindingHook struct {
	mqtt.HookBase
	e *Embedded
}

func (h *bindingHook) ID() string { return "shakedown-binding" }

func (h *bindingHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnSessionEstablish, mqtt.OnACLCheck, mqtt.OnSubscribe}, []byte{b})
}

// refuse counts and logs a refused CONNECT; it returns false, the hook's
// answer.
func (h *bindingHook) refuse(dc *deviceConn, reason handshake.Reason) bool {
	h.e.refused(dc, reason, "connect refused")
	return false
}

// OnConnect: the CONNECT was read in time (connect.go).
func (h *bindingHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	markConnect(cl, pk)
	return nil
}

// OnSessionEstablish: a session that takes over another waits until mochi
// has finished with the old one (takeover.go).
func (h *bindingHook) OnSessionEstablish(cl *mqtt.Client, _ packets.Packet) {
	if h.e.sessions.establish(cl) {
		h.e.opts.Logger.Warn("the session taken over did not end in time; going on", "wait", TakeoverWait.String())
	}
}

// OnConnectAuthenticate: the client ID must be the authenticated device ID.
func (h *bindingHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	clientID := string(pk.Connect.ClientIdentifier)
	dc, ok := cl.Net.Conn.(*deviceConn)
	if !ok {
		// Backend listener: fixed credentials.
		return cl.Net.Listener == BackendListenerID && h.e.opts.BackendUser != "" &&
			subtle.ConstantTimeCompare(pk.Connect.Username, []byte(h.e.opts.BackendUser)) == 1 &&
			subtle.ConstantTimeCompare(pk.Connect.Password, []byte(h.e.opts.BackendPassword)) == 1
	}
	want := dc.id.DeviceID
	if dc.plain {
		want = clientID
	}
	if want == "" {
		// tls without a client certificate: the handshake authenticated
		// only the server; the device proves itself with its CONNECT
		// password (server.Passwords: a keyed hash, or a slow one in a
		// bounded slot).
		if string(pk.Connect.Username) != clientID || clientID == "" {
			return h.refuse(dc, handshake.ReasonClientID)
		}
		if h.e.opts.Passwords == nil {
			return h.refuse(dc, handshake.ReasonBadPassword)
		}
		if err := h.e.opts.Passwords(context.Background(), clientID, pk.Connect.Password); err != nil {
			return h.refuse(dc, handshake.ReasonBadPassword)
		}
		want = clientID
	}
	if clientID != want || !handshake.ValidDeviceID(want) {
		return h.refuse(dc, handshake.ReasonClientID)
	}
	// The username is empty or names the device itself, never another.
	if len(pk.Connect.Username) > 0 && string(pk.Connect.Username) != want {
		return h.refuse(dc, handshake.ReasonBadUsername)
	}
	grants := h.grants(want)
	// mochi publishes the will without an ACL check: it is checked here.
	if pk.Connect.WillFlag && !Allowed(want, pk.Connect.WillTopic, grants) {
		return h.refuse(dc, handshake.ReasonACLWill)
	}
	dc.mu.Lock()
	dc.deviceID, dc.grants = want, grants
	dc.mu.Unlock()
	return true
}

// OnACLCheck: devices stay under devices/{id}/ and their grants. mochi asks
// with write set for each PUBLISH of a client, and without it for each
// SUBSCRIBE filter (counted by OnSubscribe) and each message delivered.
func (h *bindingHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	dc, ok := cl.Net.Conn.(*deviceConn)
	if !ok {
		return cl.Net.Listener == BackendListenerID || cl.Net.Inline
	}
	id, grants := dc.bound()
	allowed := id != "" && Allowed(id, topic, grants)
	if !allowed && write {
		h.e.refused(dc, handshake.ReasonACLPublish, "publish refused")
	}
	return allowed
}

// OnSubscribe counts a SUBSCRIBE holding a filter outside the device's,
// once per packet; mochi fails each such filter in the SUBACK (OnACLCheck).
func (h *bindingHook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	dc, ok := cl.Net.Conn.(*deviceConn)
	if !ok {
		return pk
	}
	id, grants := dc.bound()
	for _, f := range pk.Filters {
		if id == "" || !Allowed(id, f.Filter, grants) {
			h.e.refused(dc, handshake.ReasonACLSubscribe, "subscription refused")
			break
		}
	}
	return pk
}

func (h *bindingHook) grants(id string) []string {
	if h.e.opts.Grants == nil {
		return nil
	}
	return h.e.opts.Grants(id)
}

// Allowed reports whether device id may use topic (a topic name or a
// filter): in its namespace, devices/{id}/..., or within one of grants.
//
// Levels compare exactly (MQTT 3.1.1 §4.7): the first level is "devices",
// the second is id itself, and at least one level follows; what follows is
// the device's own (devices/{id}/# included). An id outside the device ID
// rule (handshake.ValidDeviceID: no '/', '+' or '#') has no namespace, so
// neither a longer ID sharing a prefix (c and c/d) nor a wildcard in the
// ID's level ever reaches another device's topics.
func Allowed(id, topic string, grants []string) bool {
	if inNamespace(id, topic) {
		return true
	}
	for _, g := range grants {
		if within(topic, g) {
			return true
		}
	}
	return false
}

// namespacePrefix is the first topic level of every device namespace.
const namespacePrefix = "devices/"

// inNamespace reports whether topic lies in devices/{id}/: with a valid id,
// which holds no '/', the prefix "devices/" + id + "/" is exactly the levels
// "devices" and id.
func inNamespace(id, topic string) bool {
	if !handshake.ValidDeviceID(id) || !strings.HasPrefix(topic, namespacePrefix) {
		return false
	}
	rest := topic[len(namespacePrefix):]
	return len(rest) > len(id) && rest[len(id)] == '/' && rest[:len(id)] == id
}

// within reports whether every topic matched by topic (a name or a filter)
// is matched by filter g.
func within(topic, g string) bool {
	t, f := strings.Split(topic, "/"), strings.Split(g, "/")
	for i, fl := range f {
		if fl == "#" {
			return true
		}
		if i >= len(t) {
			return false
		}
		switch {
		case t[i] == "#":
			return false
		case fl == "+":
			// + in the grant covers one level, a + in the topic too
		case t[i] == "+" || t[i] != fl:
			return false
		}
	}
	return len(t) == len(f)
}
