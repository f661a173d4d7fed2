package mitm

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/psk"
	"shakedown/reports"
)

// relayed opens a session of dev through an honest or intercepting relay
// to listener l. On a failed handshake it returns the relay (to close) and
// the device's error.
func (r *cellRun) relayed(dev Device, l Listener, ic Interceptor, timeout time.Duration) (*DeviceConn, *Relay, error) {
	ch := r.open(dev, timeout)
	p, err := r.next()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := r.stepCtx(timeout)
	defer cancel()
	var srv io.ReadWriteCloser
	if l == ListenerOf(r.col.Profile) {
		srv, err = p.Server(ctx)
	} else {
		srv, err = p.Dial(ctx, l)
	}
	if err != nil {
		p.Close()
		r.wait(ch)
		return nil, nil, fmt.Errorf("mitm: dialling the %s listener: %w", l, err)
	}
	relay := NewRelay(p.Device(), srv, FramingOf(r.col.Profile), r.col.Profile, ic)
	dc, err := r.wait(ch)
	return dc, relay, err
}

// connect runs the device's MQTT CONNECT on dc and returns the client.
func (r *cellRun) connect(dev Device, dc *DeviceConn, timeout time.Duration) (*client, byte, error) {
	cl := newClient(dc, r.col.Profile)
	ctx, cancel := r.stepCtx(timeout)
	defer cancel()
	user, pass := dev.Credentials()
	code, err := cl.Connect(ctx, dev.ID(), user, pass)
	return cl, code, err
}

// errConnack is a CONNACK that refused the device.
var errConnack = errors.New("mitm: the broker refused the CONNECT")

// work runs a device's whole session on dc: CONNECT, SUBSCRIBE to its
// command topic, a telemetry PUBLISH the backend must receive, and a command
// from the backend the device must receive. It records each step.
func (r *cellRun) work(dev Device, dc *DeviceConn) error {
	cl, code, err := r.connect(dev, dc, r.stepTimeout())
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("%w (return code %d)", errConnack, code)
	}
	ctx, cancel := r.stepCtx(r.stepTimeout())
	defer cancel()
	if g, err := cl.Subscribe(ctx, r.topic("cmd")); err != nil || g > 1 {
		return fmt.Errorf("subscribing (granted %d): %w", g, err)
	}
	tele := r.payload("telemetry")
	if err := cl.Publish(ctx, r.topic("telemetry"), tele); err != nil {
		return fmt.Errorf("publishing: %w", err)
	}
	if !r.awaitDelivery(r.topic("telemetry"), tele, 1) {
		return errors.New("the backend never received the telemetry")
	}
	r.add(reports.Fact{Side: reports.SideBackend, Kind: reports.FactDelivered, Field: r.topic("telemetry"), Value: string(tele), Count: 1})
	cmd := r.payload("command")
	if err := r.m.Target.Command(r.topic("cmd"), cmd); err != nil {
		return fmt.Errorf("sending a command: %w", err)
	}
	// The command is an exchange of its own: the wait for the telemetry
	// above may have used most of ctx on a loaded machine.
	rctx, rcancel := r.stepCtx(r.stepTimeout())
	defer rcancel()
	pk, err := cl.Receive(rctx)
	if err != nil {
		return fmt.Errorf("receiving the command: %w", err)
	}
	if !bytes.Equal(pk.Payload, cmd) {
		return errors.New("the device received another command than the backend sent")
	}
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactWorked, Field: "connect, subscribe, publish, command", Value: string(cmd)})
	return nil
}

// shape is what a column's handshake looks like on the wire: the body
// lengths of the units each direction sends before application data.
type shape struct {
	up, down []int
}

func (s shape) units(d Dir) []int {
	if d == Upstream {
		return s.up
	}
	return s.down
}

// shapeOf measures a recorded session: the units that end within the bytes
// the device's handshake sent and received.
func shapeOf(rec *Recording, dc *DeviceConn) shape {
	var s shape
	for _, c := range rec.Units(Upstream) {
		if c.End() <= dc.Sent {
			s.up = append(s.up, len(c.Body()))
		}
	}
	for _, c := range rec.Units(Downstream) {
		if c.End() <= dc.Received {
			s.down = append(s.down, len(c.Body()))
		}
	}
	return s
}

// shape returns the column's handshake shape, measured once through an
// honest relay.
func (r *cellRun) shape() (shape, error) {
	l := r.m
	l.mu.Lock()
	sh, ok := l.shapes[r.col.Name()]
	l.mu.Unlock()
	if ok {
		return sh, nil
	}
	dev, err := r.newDevice()
	if err != nil {
		return shape{}, err
	}
	dc, relay, err := r.relayed(dev, ListenerOf(r.col.Profile), nil, r.stepTimeout())
	defer closeAll(dc, relay)
	if err != nil {
		return shape{}, fmt.Errorf("mitm: measuring the handshake: %w", err)
	}
	if _, code, err := r.connect(dev, dc, r.stepTimeout()); err != nil || code != 0 {
		return shape{}, fmt.Errorf("mitm: measuring the handshake: connect (code %d): %w", code, err)
	}
	sh = shapeOf(relay.Recording(), dc)
	l.mu.Lock()
	if l.shapes == nil {
		l.shapes = map[string]shape{}
	}
	l.shapes[r.col.Name()] = sh
	l.mu.Unlock()
	return sh, nil
}

// oneDevice is the attacker's registry: the victim alone, with the key the
// attacker holds or guesses. It is a handshake.Directory and CounterStore.
type oneDevice struct{ rec handshake.DeviceRecord }

func (o oneDevice) DeviceByID(_ context.Context, id string) (handshake.DeviceRecord, error) {
	if id != o.rec.ID {
		return handshake.DeviceRecord{}, handshake.ErrUnknownDevice
	}
	return o.rec, nil
}

func (o oneDevice) DeviceByKey(_ context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	if p != o.rec.Profile || !bytes.Equal(key, o.rec.Key) {
		return handshake.DeviceRecord{}, handshake.ErrUnknownDevice
	}
	return o.rec, nil
}

func (oneDevice) AcceptCounter(context.Context, string, uint64) error { return nil }

// scriptConn is a net.Conn that reads recorded bytes and discards writes:
// the way to run a profile's record layer over a recording.
type scriptConn struct {
	r *bytes.Reader
}

func newScriptConn(wires ...[]byte) net.Conn {
	return &scriptConn{r: bytes.NewReader(bytes.Join(wires, nil))}
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return labAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return labAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// wires returns the bytes of captures.
func wires(cs []Capture) [][]byte {
	out := make([][]byte, len(cs))
	for i, c := range cs {
		out[i] = c.Wire
	}
	return out
}

// pskServerSession is the server's record layer of a psk device, built from
// the pre-shared key: what an attacker holding the key builds.
func pskServerSession(conn net.Conn, key []byte, id string) (*handshake.RecordConn, error) {
	ds, sd, err := psk.DeriveKeys(key, id)
	if err != nil {
		return nil, err
	}
	recv, err := counterGCM(ds)
	if err != nil {
		return nil, err
	}
	send, err := counterGCM(sd)
	if err != nil {
		return nil, err
	}
	return handshake.NewRecordConn(conn, handshake.PSK, send, recv), nil
}

func counterGCM(key []byte) (*handshake.CounterAEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &handshake.CounterAEAD{AEAD: aead}, nil
}

// random returns n bytes from crypto/rand.
func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// clone copies b.
func clone(b []byte) []byte { return append([]byte(nil), b...) }
