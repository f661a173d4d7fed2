package lab

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/clock"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	"shakedown/harness"
	"shakedown/mitm"
	"shakedown/reports"
)

// Lab runs the MITM matrix (a mitm.Matrix) against a Target with the
// devices of a fixture set: simulated devices, or a board.
type Lab struct {
	Set    *fixtures.Set
	Target mitm.Target
	// TargetName is reported in the results (e.g. "in-process").
	TargetName string
	// Timeout bounds each cell; mitm.DefaultCellTimeout when zero.
	Timeout time.Duration
	// Progress, when set, is told about each verdict as it is made.
	Progress func(reports.Verdict)
	// NewByway makes the byway of each cell of simulated devices; a TCP
	// proxy on 127.0.0.1 (mitm.TCPByway) when nil.
	NewByway func(to mitm.Listener, dial mitm.Dialer) (mitm.Byway, error)

	// Board, when set, is the device under test of every cell instead of
	// simulated devices: each device of a cell is the board, provisioned
	// with the cell's fixture device and run in relay mode through the
	// harness, with the attacker on the relay path (see board.go). The
	// cells it cannot run are not applicable (the matrix's NotApplicable).
	Board *harness.Board
	// BoardTrustsSetCA says that the board trusts the fixture set's CA and,
	// in ca-noclock mode, takes Set.BuildDate() as its clock: the board
	// protocol provisions neither, so without it the tls-ca and
	// tls-ca-noclock cells are not applicable.
	BoardTrustsSetCA bool
	// BoardAsksTimeGate says that the board was built to ask the time
	// servers of Lab.Time (its NTPAddr and RoughtimeAddr) and to pin the
	// fixture set's Roughtime key, in the ca-ntp and ca-roughtime modes:
	// the board protocol provisions neither, so without it (or without
	// BoardTrustsSetCA) those cells are not applicable.
	BoardAsksTimeGate bool
	// BoardSlack is added to every step's timeout on a slow board: about
	// its longest handshake (a board profile's limit). Zero for a fast one.
	BoardSlack time.Duration
	// Time is the attacker on the way to the devices' time servers (the
	// ca-ntp and ca-roughtime columns), in front of the Target's honest
	// ones (TimeTarget). When nil, Run makes one and closes it after; a
	// board built to ask the gate's addresses needs it made first
	// (mitm.NewTimeGate), and its owner closes it.
	Time *mitm.TimeGate

	counters sync.Map    // device ID -> *noise.MemCounter, shared by every device of that ID
	board    *boardState // while Run or RunCell drives Board
	gate     *mitm.TimeGate
	retired  tls.Certificate
}

// TimeTarget is a Target that runs honest time servers (UDP addresses):
// lab/labserver's does.
type TimeTarget interface {
	TimeServers() (ntp, roughtime string)
}

// Run runs the selected cells, one at a time, and returns the matrix (see
// mitm.Matrix.Run).
func (l *Lab) Run(ctx context.Context, sel mitm.Selection) (*reports.MITM, error) {
	if err := sel.Check(); err != nil {
		return nil, err
	}
	detach, err := l.attach(ctx)
	if err != nil {
		return nil, err
	}
	defer detach()
	res, err := l.matrix().Run(ctx, sel)
	if res != nil && l.board != nil {
		res.Board = l.board.describe()
	}
	return res, err
}

// RunCell runs one cell.
func (l *Lab) RunCell(ctx context.Context, scenario string, col mitm.Column) (reports.Verdict, error) {
	if _, _, err := mitm.LookupCell(scenario, col); err != nil {
		return reports.Verdict{}, err
	}
	detach, err := l.attach(ctx)
	if err != nil {
		return reports.Verdict{}, err
	}
	defer detach()
	return l.matrix().RunCell(ctx, scenario, col)
}

// attach checks that the lab has what it needs and attaches its board,
// when it has one; detach undoes it.
func (l *Lab) attach(ctx context.Context) (detach func(), err error) {
	if l.Set == nil || l.Target == nil {
		return nil, errors.New("lab: the lab needs a fixture set and a target")
	}
	retired, err := l.Set.BrokerRetired()
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l.retired = retired
	closeGate := l.attachTime()
	if l.Board == nil {
		return closeGate, nil
	}
	detachBoard, err := l.attachBoard(ctx)
	if err != nil {
		closeGate()
		return nil, err
	}
	return func() { detachBoard(); closeGate() }, nil
}

// attachTime puts the lab's time gate (Lab.Time, or one of its own) in
// front of the target's time servers; a target without them leaves the
// network-clock columns without a gate, and they do not run.
func (l *Lab) attachTime() (detach func()) {
	tt, ok := l.Target.(TimeTarget)
	if !ok {
		return func() {}
	}
	g, own := l.Time, false
	if g == nil {
		var err error
		if g, err = mitm.NewTimeGate(); err != nil {
			return func() {}
		}
		own = true
	}
	g.SetUpstream(tt.TimeServers())
	l.gate = g
	return func() {
		if own {
			g.Close()
		}
		l.gate = nil
	}
}

// matrix is the attacker's part of the lab, with the lab's server, devices
// and key material.
func (l *Lab) matrix() *mitm.Matrix {
	var devs mitm.DeviceSource = simulated{labDevices{l}}
	if l.board != nil {
		devs = onBoard{labDevices{l}}
	}
	set := l.Set
	return &mitm.Matrix{Target: l.Target, Devices: devs, FixturesSeed: set.Seed, TargetName: l.TargetName,
		Timeout: l.Timeout, Progress: l.Progress, Time: l.gate,
		Material: mitm.Material{NoiseCurrent: set.NoiseCurrent, NoiseNext: set.NoiseNext, ServerName: set.ServerName,
			Attacker: set.Attacker, Expired: set.BrokerExpired, Retired: l.retired}}
}

// labDevices is what the lab's simulated devices and its board have in
// common as a DeviceSource.
type labDevices struct{ l *Lab }

func (d labDevices) Victim(c mitm.Column) (mitm.Victim, error) {
	fx, err := d.l.deviceFor(c)
	if err != nil {
		return mitm.Victim{}, err
	}
	return mitm.Victim{ID: fx.ID, Curve: fx.Curve, Public: fx.Public, Private: fx.Private}, nil
}

func (d labDevices) Slack() time.Duration { return d.l.BoardSlack }

// device returns the fixture device of a victim.
func (d labDevices) device(v mitm.Victim) (fixtures.Device, error) {
	fx, ok := d.l.Set.Device(v.ID)
	if !ok {
		return fixtures.Device{}, fmt.Errorf("lab: the fixture set has no device %s", v.ID)
	}
	return fx, nil
}

// simulated are the lab's simulated devices, each dialling the cell's
// byway (a TCP proxy unless Lab.NewByway says otherwise).
type simulated struct{ labDevices }

func (simulated) NotApplicable(mitm.Column) string { return "" }

func (d simulated) Byway(to mitm.Listener, dial mitm.Dialer) (mitm.Byway, error) {
	if d.l.NewByway != nil {
		return d.l.NewByway(to, dial)
	}
	return mitm.TCPByway(to, dial)
}

func (d simulated) NewDevice(_ context.Context, c mitm.Column, v mitm.Victim, way mitm.Byway) (mitm.Device, error) {
	fx, err := d.device(v)
	if err != nil {
		return nil, err
	}
	return d.l.newSimDevice(c, fx, way)
}

func (simulated) Words(context.Context) []reports.Fact { return nil }

// deviceFor picks the fixture device of a column: the first of its kind,
// except that a seed device without point validation is one with an odd
// private key when the set has one (the order-2 point then gives the
// attacker the session, not only the key's parity).
func (l *Lab) deviceFor(c mitm.Column) (fixtures.Device, error) {
	var pick *fixtures.Device
	for _, d := range l.Set.DevicesOf(c.Profile) {
		if c.Profile == handshake.Seed && d.Curve != c.Curve() {
			continue
		}
		if pick == nil {
			d := d
			pick = &d
		}
		if c.Profile == handshake.Seed && c.NoCheck() && d.Private[len(d.Private)-1]&1 == 1 {
			return d, nil
		}
		if !(c.Profile == handshake.Seed && c.NoCheck()) {
			break
		}
	}
	if pick == nil {
		return fixtures.Device{}, fmt.Errorf("lab: the fixture set has no device for column %s", c.Name())
	}
	return *pick, nil
}

// counter returns the message-1 counter every device of id shares, so
// that counters keep growing across the lab's devices.
func (l *Lab) counter(id string) noise.Counter {
	c, _ := l.counters.LoadOrStore(id, fixtures.NewCounter())
	return c.(*noise.MemCounter)
}

// raiseCounter makes the next value of id's counter greater than used.
func (l *Lab) raiseCounter(id string, used uint64) {
	if next, err := l.counter(id).Next(); err == nil && next > used {
		return
	}
	l.counters.Store(id, noise.NewMemCounter(used))
}

// simDevice is a simulated device dialling the cell's proxy.
type simDevice struct {
	col        mitm.Column
	fx         fixtures.Device
	dev        handshake.Device
	pins       *noise.Pins
	user, pass string
	dial       func(ctx context.Context) (net.Conn, error)
}

// newSimDevice builds a fresh simulated device for column c as fixture
// device fx, dialling way.
func (l *Lab) newSimDevice(c mitm.Column, fx fixtures.Device, way mitm.Byway) (*simDevice, error) {
	id, err := l.identity(c, fx)
	if err != nil {
		return nil, err
	}
	dev, err := id.NewDevice()
	if err != nil {
		return nil, fmt.Errorf("lab: building the %s device: %w", c.Name(), err)
	}
	return &simDevice{col: c, fx: fx, dev: dev, pins: id.Pins, user: id.User, pass: id.Password, dial: way.DialDevice}, nil
}

// identity provisions fixture device fx for column c: a noise device
// counts on from the lab's counter of its ID; a seed column may model a
// device that skips point validation; a tls column sets the verification
// mode, and its devices keep the password credential. The tls columns
// measure the device's check of the server's certificate: a device that
// accepts the attacker hands it its password, which the attacker reuses to
// carry the session to the server. A device with a client certificate
// would hand it nothing reusable (the certificate's key signs this
// handshake only, RFC 8446 §4.4.3).
func (l *Lab) identity(c mitm.Column, fx fixtures.Device) (fixtures.Identity, error) {
	o := fixtures.ProvisionOptions{Profile: c.Profile}
	switch c.Profile {
	case handshake.Noise:
		o.Counter = l.counter(fx.ID)
	case handshake.Seed:
		o.SkipPointCheck = c.NoCheck()
	case handshake.TLS:
		o.TLSMode, o.TLSPassword = tlsprofile.Mode(c.Variant), true
		if c.NetworkClock() {
			src, err := l.timeSource(o.TLSMode)
			if err != nil {
				return fixtures.Identity{}, err
			}
			o.Clock = src
		}
	}
	id, err := fixtures.Provision(l.Set, fx.ID, o)
	if err != nil {
		return id, fmt.Errorf("lab: provisioning the %s device: %w", c.Name(), err)
	}
	return id, nil
}

// timeSource is the time server a network-clock device of mode m asks:
// the attacker's gate, in front of the lab's servers; a ca-roughtime
// device pins the set's Roughtime key.
func (l *Lab) timeSource(m tlsprofile.Mode) (clock.Source, error) {
	if l.gate == nil {
		return nil, errors.New("lab: no time gate for the network-clock columns")
	}
	if m == tlsprofile.CANTP {
		return clock.NewSNTP(l.gate.NTPAddr()), nil
	}
	key, err := l.Set.RoughtimeKey()
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return clock.NewRoughtime(l.gate.RoughtimeAddr(), key.Public().(ed25519.PublicKey)), nil
}

func (d *simDevice) Column() mitm.Column              { return d.col }
func (d *simDevice) ID() string                       { return d.fx.ID }
func (d *simDevice) Credentials() (user, pass string) { return d.user, d.pass }

// Pins returns a noise device's pinned server keys.
func (d *simDevice) Pins() *noise.Pins { return d.pins }

// clockSyncer is a device that asks its time server before it dials
// (tlsprofile's ca-ntp and ca-roughtime devices).
type clockSyncer interface {
	SyncClock(ctx context.Context) error
	ClockReading() (time.Time, bool)
}

// ClockReading returns the time a network-clock device last checked a
// certificate at.
func (d *simDevice) ClockReading() (time.Time, bool) {
	if cs, ok := d.dev.(clockSyncer); ok {
		return cs.ClockReading()
	}
	return time.Time{}, false
}

func (d *simDevice) Handshake(ctx context.Context) (*mitm.DeviceConn, error) {
	if cs, ok := d.dev.(clockSyncer); ok {
		if err := cs.SyncClock(ctx); err != nil {
			return nil, err
		}
	}
	raw, err := d.dial(ctx)
	if err != nil {
		return nil, handshake.Fail(d.col.Profile, handshake.StageDial, handshake.ReasonIO, err)
	}
	cc := &countingConn{Conn: raw}
	conn, err := d.dev.Handshake(ctx, cc)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &mitm.DeviceConn{Conn: conn, Sent: cc.written.Load(), Received: cc.read.Load()}, nil
}

// countingConn counts the bytes a handshake moves.
type countingConn struct {
	net.Conn
	read, written atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}
