package mitm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/seed"
	"shakedown/handshake/tlsprofile"
	"shakedown/harness"
	"shakedown/reports"
	"shakedown/simulator"
	"shakedown/version"
)

// Target is the server the lab attacks, seen from outside: its listeners,
// the refusals it logged, what its backend subscriber received, and the
// operator's hand on its static keys. Package mitm/labserver has an
// in-process one.
type Target interface {
	// Addr returns the TCP address of a listener.
	Addr(l Listener) (string, error)
	// Mark returns the position of the next server event.
	Mark() int
	// Events returns the server's refusals from position since on.
	Events(since int) []ServerEvent
	// Delivered returns the payloads the backend subscriber received on topic.
	Delivered(topic string) [][]byte
	// Command publishes payload on topic from the backend (a command to a device).
	Command(topic string, payload []byte) error
	// SetNoiseKeys replaces the noise server's static keys (rollover).
	SetNoiseKeys(k noise.ServerKeys)
}

// ServerEvent is a refusal the server logged: a failed handshake (Stage is
// empty: the gateway counts reasons, not stages) or a session that ended
// on an error (StageTransport).
type ServerEvent struct {
	Listener Listener
	Profile  handshake.Name
	Stage    handshake.Stage
	Reason   handshake.Reason
}

// ReasonConnackRefused is the reason of a CONNECT the broker refused with a
// CONNACK return code: the one refusal that happens inside MQTT.
const ReasonConnackRefused handshake.Reason = "connack_refused"

// Device is the device under test as scenarios drive it.
type Device interface {
	Column() Column
	ID() string
	// Credentials are the MQTT username and password (tls only).
	Credentials() (user, pass string)
	// Handshake opens a connection through the lab's path and runs the
	// device side of the handshake.
	Handshake(ctx context.Context) (*DeviceConn, error)
}

// DeviceConn is a device's session after its handshake, with the bytes the
// handshake took in each direction.
type DeviceConn struct {
	net.Conn
	Sent, Received int64
}

// Lab runs scenarios against a Target with the devices of a fixture set:
// simulated devices, or a board.
type Lab struct {
	Set    *fixtures.Set
	Target Target
	// TargetName is reported in the results (e.g. "in-process").
	TargetName string
	// Timeout bounds each cell; DefaultCellTimeout when zero.
	Timeout time.Duration
	// Progress, when set, is told about each verdict as it is made.
	Progress func(reports.Verdict)
	// NewByway makes the byway of each cell of simulated devices; a TCP
	// Proxy on 127.0.0.1 (TCPByway) when nil.
	NewByway func(to Listener, dial Dialer) (Byway, error)

	// Board, when set, is the device under test of every cell instead of
	// simulated devices: each device of a cell is the board, provisioned
	// with the cell's fixture device and run in relay mode through the
	// harness, with the attacker on the relay path (see board.go). The
	// cells it cannot run are not applicable (Results.NotApplicable).
	Board *harness.Board
	// BoardTrustsSetCA says that the board trusts the fixture set's CA and,
	// in ca-noclock mode, takes DeviceBuildTime(Set) as its clock: the board
	// protocol provisions neither, so without it the tls-ca and
	// tls-ca-noclock cells are not applicable.
	BoardTrustsSetCA bool
	// BoardSlack is added to every step's timeout on a slow board: about
	// its longest handshake (a board profile's limit). Zero for a fast one.
	BoardSlack time.Duration

	counters sync.Map // device ID -> *noise.MemCounter, shared by every device of that ID
	mu       sync.Mutex
	shapes   map[string]shape // column -> the units of its handshake
	board    *boardState      // while Run or RunCell drives Board
}

// DefaultCellTimeout bounds one cell of the matrix.
const DefaultCellTimeout = 60 * time.Second

// Timeouts of the steps inside a cell (tuning, not spec); a board's slack
// adds to the first two (cellRun.stepTimeout, cellRun.failTimeout).
const (
	baseStepTimeout = 20 * time.Second       // one handshake or MQTT exchange expected to work: returns as soon as it does, so generous for a loaded machine
	baseFailTimeout = 2 * time.Second        // one exchange expected to fail
	settle          = 150 * time.Millisecond // quiet time after a refusal before counting deliveries
	pollInterval    = 5 * time.Millisecond
	deliveryTimeout = 20 * time.Second // as baseStepTimeout
)

// Run runs the selected cells, one at a time, and returns the matrix.
func (l *Lab) Run(ctx context.Context, sel Selection) (*reports.MITM, error) {
	if err := sel.Check(); err != nil {
		return nil, err
	}
	if l.Set == nil || l.Target == nil {
		return nil, errors.New("mitm: the lab needs a fixture set and a target")
	}
	start := time.Now()
	res := &reports.MITM{Format: reports.MITMFormat, ShakedownVersion: version.String(), Started: start.UTC(),
		FixturesSeed: l.Set.Seed, Target: l.TargetName}
	interrupted := func(err error) (*reports.MITM, error) {
		res.Interrupted = true
		res.DurationMS = time.Since(start).Milliseconds()
		return res, err
	}
	if l.Board != nil {
		detach, err := l.attachBoard(ctx)
		if err != nil {
			return nil, err
		}
		defer detach()
		res.Board = l.board.describe()
	}
	for _, c := range Columns {
		if sel.column(c) {
			res.Columns = append(res.Columns, c.Name())
		}
	}
	for _, s := range catalogue {
		if !sel.scenario(s.Name) {
			continue
		}
		res.Scenarios = append(res.Scenarios, s.Name)
		for _, c := range s.Cells {
			if !sel.column(c.Column) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return interrupted(err)
			}
			v := l.runCell(ctx, s, c)
			if err := ctx.Err(); err != nil {
				// Cut short by ctx, the cell has no verdict: leave it out.
				return interrupted(err)
			}
			if v.Outcome == reports.NotApplicable {
				res.NotApplicable = append(res.NotApplicable, v)
			} else {
				if !v.AsExpected {
					res.Mismatches++
				}
				res.Verdicts = append(res.Verdicts, v)
			}
			if l.Progress != nil {
				l.Progress(v)
			}
		}
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

// RunCell runs one cell.
func (l *Lab) RunCell(ctx context.Context, scenario string, col Column) (reports.Verdict, error) {
	s, err := Lookup(scenario)
	if err != nil {
		return reports.Verdict{}, err
	}
	c, ok := s.Cell(col)
	if !ok {
		return reports.Verdict{}, fmt.Errorf("mitm: scenario %s has no %s column", scenario, col.Name())
	}
	if l.Set == nil || l.Target == nil {
		return reports.Verdict{}, errors.New("mitm: the lab needs a fixture set and a target")
	}
	if l.Board != nil {
		detach, err := l.attachBoard(ctx)
		if err != nil {
			return reports.Verdict{}, err
		}
		defer detach()
	}
	return l.runCell(ctx, s, c), nil
}

func (l *Lab) runCell(ctx context.Context, s *Scenario, c Cell) reports.Verdict {
	start := time.Now()
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultCellTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v := reports.Verdict{Scenario: s.Name, Column: c.Column.Name(), Profile: string(c.Column.Profile), Variant: c.Column.Variant,
		Expected: c.Expected, Source: c.Source}
	if l.board != nil {
		if why := l.board.notApplicable(c.Column, l.BoardTrustsSetCA); why != "" {
			v.Outcome, v.NotApplicable = reports.NotApplicable, why
			return v
		}
	}
	r, err := l.newCellRun(cctx, s, c)
	if err == nil {
		v.Device = r.fx.ID
		v.Outcome, err = s.run(r)
		r.way.Close()
		v.Evidence = r.facts
	}
	if err != nil {
		v.Outcome, v.Error = reports.Broken, err.Error()
	}
	v.AsExpected = v.Outcome == v.Expected
	v.DurationMS = time.Since(start).Milliseconds()
	return v
}

// Byway is the way a cell's simulated devices reach the server: the
// attacker's paths, and how a device opens a connection on them.
type Byway interface {
	PathSource
	DialDevice(ctx context.Context) (net.Conn, error)
	Close() error
}

// TCPByway is the default byway: a Proxy on 127.0.0.1 that devices dial.
func TCPByway(to Listener, dial Dialer) (Byway, error) {
	return NewProxy("127.0.0.1:0", to, dial)
}

// DialDevice connects to the proxy, as a device configured with the
// proxy's address instead of the server's does.
func (p *Proxy) DialDevice(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", p.Addr())
}

// cellRun is one cell in progress: its byway, its fresh device and the
// facts seen so far.
type cellRun struct {
	ctx   context.Context
	lab   *Lab
	sc    *Scenario
	cell  Cell
	col   Column
	fx    fixtures.Device
	way   Byway
	dial  Dialer
	facts []reports.Fact
	seq   atomic.Int64
	mu    sync.Mutex
}

func (l *Lab) newCellRun(ctx context.Context, s *Scenario, c Cell) (*cellRun, error) {
	fx, err := l.deviceFor(c.Column)
	if err != nil {
		return nil, err
	}
	dial := AddrDialer(l.Target.Addr)
	newWay := l.NewByway
	switch {
	case l.board != nil:
		newWay = newBoardByway
	case newWay == nil:
		newWay = TCPByway
	}
	way, err := newWay(ListenerOf(c.Column.Profile), dial)
	if err != nil {
		return nil, err
	}
	return &cellRun{ctx: ctx, lab: l, sc: s, cell: c, col: c.Column, fx: fx, way: way, dial: dial}, nil
}

// deviceFor picks the fixture device of a column: the first of its kind,
// except that a seed device without point validation is one with an odd
// private key when the set has one (the order-2 point then gives the
// attacker the session, not only the key's parity).
func (l *Lab) deviceFor(c Column) (fixtures.Device, error) {
	var pick *fixtures.Device
	for _, d := range l.Set.DevicesOf(c.Profile) {
		if c.Profile == handshake.Seed && d.Curve != c.curve() {
			continue
		}
		if pick == nil {
			d := d
			pick = &d
		}
		if c.Profile == handshake.Seed && c.nocheck() && d.Private[len(d.Private)-1]&1 == 1 {
			return d, nil
		}
		if !(c.Profile == handshake.Seed && c.nocheck()) {
			break
		}
	}
	if pick == nil {
		return fixtures.Device{}, fmt.Errorf("mitm: the fixture set has no device for column %s", c.Name())
	}
	return *pick, nil
}

// counter returns the message-1 counter every device of id shares, so
// that counters keep growing across the lab's devices.
func (l *Lab) counter(id string) noise.Counter {
	c, _ := l.counters.LoadOrStore(id, noise.NewMemCounter(uint64(time.Now().UnixNano())))
	return c.(*noise.MemCounter)
}

// raiseCounter makes the next value of id's counter greater than used.
func (l *Lab) raiseCounter(id string, used uint64) {
	if next, err := l.counter(id).Next(); err == nil && next > used {
		return
	}
	l.counters.Store(id, noise.NewMemCounter(used))
}

// DeviceBuildTime is the clock of the lab's clockless (ca-noclock) tls
// devices, their firmware's build date: 200 days before the fixture set's
// Now, when the set's expired certificate was still valid and its renewed
// and rolled ones not yet.
func DeviceBuildTime(set *fixtures.Set) time.Time { return set.Now.AddDate(0, 0, -200) }

// simDevice is a simulated device dialling the cell's proxy.
type simDevice struct {
	col        Column
	fx         fixtures.Device
	dev        handshake.Device
	pins       *noise.Pins
	user, pass string
	dial       func(ctx context.Context) (net.Conn, error)
}

// newDevice returns a fresh device for the cell's column: a simulated one,
// or the board provisioned anew.
func (r *cellRun) newDevice() (Device, error) {
	if r.lab.board != nil {
		return r.newBoardDevice()
	}
	return r.newSimDevice()
}

// newSimDevice builds a fresh simulated device for the cell's column.
func (r *cellRun) newSimDevice() (*simDevice, error) {
	set := r.lab.Set
	d := &simDevice{col: r.col, fx: r.fx, dial: r.way.DialDevice}
	var err error
	switch r.col.Profile {
	case handshake.Seed:
		d.dev, err = seed.NewDevice(seed.DeviceConfig{DeviceID: r.fx.ID, Curve: seed.Curve(r.fx.Curve),
			Private: r.fx.Private, SkipPointCheck: r.col.nocheck()})
	case handshake.Noise:
		if d.pins, err = noise.NewPins(set.NoiseCurrent.Public); err != nil {
			return nil, err
		}
		d.dev, _, _, err = simulator.NewDevice(set, r.fx, simulator.DeviceOptions{Pins: d.pins, Counter: r.lab.counter(r.fx.ID)})
	case handshake.TLS:
		// The tls columns measure the device's check of the server's
		// certificate, so their devices keep the password credential: a
		// device that accepts the attacker hands it its password, which the
		// attacker reuses to carry the session to the server. A device with
		// a client certificate would hand it nothing reusable (the
		// certificate's key signs this handshake only, RFC 8446 §4.4.3).
		d.dev, d.user, d.pass, err = simulator.NewDevice(set, r.fx, simulator.DeviceOptions{TLSMode: tlsprofile.Mode(r.col.Variant),
			BuildTime: DeviceBuildTime(set), TLSPassword: true})
	default:
		d.dev, _, _, err = simulator.NewDevice(set, r.fx, simulator.DeviceOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("mitm: building the %s device: %w", r.col.Name(), err)
	}
	return d, nil
}

func (d *simDevice) Column() Column                   { return d.col }
func (d *simDevice) ID() string                       { return d.fx.ID }
func (d *simDevice) Credentials() (user, pass string) { return d.user, d.pass }

// Pins returns a noise device's pinned server keys.
func (d *simDevice) Pins() *noise.Pins { return d.pins }

func (d *simDevice) Handshake(ctx context.Context) (*DeviceConn, error) {
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
	return &DeviceConn{Conn: conn, Sent: cc.written.Load(), Received: cc.read.Load()}, nil
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

// opened is the result of a device's handshake run in the background.
type opened struct {
	conn *DeviceConn
	err  error
}

// open starts dev's handshake; the attacker meanwhile takes the path.
func (r *cellRun) open(dev Device, timeout time.Duration) <-chan opened {
	ch := make(chan opened, 1)
	go func() {
		ctx, cancel := context.WithTimeout(r.ctx, timeout)
		defer cancel()
		c, err := dev.Handshake(ctx)
		ch <- opened{c, err}
	}()
	return ch
}

// wait returns the handshake's result.
func (r *cellRun) wait(ch <-chan opened) (*DeviceConn, error) {
	select {
	case o := <-ch:
		return o.conn, o.err
	case <-r.ctx.Done():
		return nil, r.ctx.Err()
	}
}

// next returns the path of the device's next connection.
func (r *cellRun) next() (Path, error) { return r.way.Next(r.ctx) }

// add records a fact.
func (r *cellRun) add(f reports.Fact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.facts = append(r.facts, f)
}

func (r *cellRun) note(format string, args ...any) {
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactNote, Note: fmt.Sprintf(format, args...)})
}

// refused records that side refused with err and returns the reason.
// On a board, the board's own words about it follow (boardWords).
func (r *cellRun) refused(side reports.Side, err error, note string) handshake.Reason {
	he := sessionError(r.col.Profile, err)
	r.add(reports.Fact{Side: side, Kind: reports.FactRefused, Stage: string(he.Stage), Reason: string(he.Reason), Note: note})
	if side == reports.SideDevice {
		r.boardWords()
	}
	return he.Reason
}

// deviceRefused records the device's refusal, the observation a rejection
// rests on; a device that only saw its connection end or time out refused
// nothing, and the cell cannot conclude.
func (r *cellRun) deviceRefused(err error, note string) error {
	switch reason := r.refused(reports.SideDevice, err, note); reason {
	case handshake.ReasonIO, handshake.ReasonTimeout:
		return fmt.Errorf("the device saw no refusal, only %s: %w", reason, err)
	}
	return nil
}

func (r *cellRun) read(field, value, note string) {
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactRead, Field: field, Value: value, Note: note})
}

// payload returns a payload unique to this cell: what a check looks for.
func (r *cellRun) payload(what string) []byte {
	return fmt.Appendf(nil, "%s %s/%s #%d", what, r.sc.Name, r.col.Name(), r.seq.Add(1))
}

func (r *cellRun) topic(leaf string) string { return "devices/" + r.fx.ID + "/" + leaf }

// sessionError classifies err as the *handshake.Error a side saw.
func sessionError(p handshake.Name, err error) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return handshake.Fail(p, handshake.StageTransport, handshake.ReasonTimeout, err)
	}
	if p == handshake.TLS {
		return tlsprofile.SessionError(err)
	}
	return handshake.Fail(p, handshake.StageTransport, "", err)
}

// serverRefusal waits up to failTimeout for a refusal the server logged
// after mark on listener l (see refusalOn), records it and returns its reason
// ("" when none came).
func (r *cellRun) serverRefusal(mark int, l Listener, note string) handshake.Reason {
	ev, ok := r.awaitEvent(mark, r.failTimeout(), refusalOn(l))
	if !ok {
		return ""
	}
	r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactRefused, Stage: string(ev.Stage), Reason: string(ev.Reason), Note: note})
	return ev.Reason
}

// refusalOn matches the events of listener l whose reason is a refusal, not
// io or timeout (those only say that the attacker hung up).
func refusalOn(l Listener) func(ServerEvent) bool {
	return func(e ServerEvent) bool {
		return e.Listener == l && e.Reason != handshake.ReasonIO && e.Reason != handshake.ReasonTimeout
	}
}

func (r *cellRun) awaitEvent(mark int, timeout time.Duration, match func(ServerEvent) bool) (ServerEvent, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		for _, e := range r.lab.Target.Events(mark) {
			if match(e) {
				return e, true
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return ServerEvent{}, false
		case <-r.ctx.Done():
			return ServerEvent{}, false
		}
	}
}

// count returns how often the backend received payload on topic.
func (r *cellRun) count(topic string, payload []byte) int {
	n := 0
	for _, p := range r.lab.Target.Delivered(topic) {
		if string(p) == string(payload) {
			n++
		}
	}
	return n
}

// awaitDelivery waits until the backend received payload on topic n times.
func (r *cellRun) awaitDelivery(topic string, payload []byte, n int) bool {
	return r.poll(deliveryTimeout, func() bool { return r.count(topic, payload) >= n })
}

// settle waits a quiet time in which late deliveries would show.
func (r *cellRun) settle() { r.poll(settle, func() bool { return false }) }

// delivered records how often the backend received payload (call settle
// first when a delivery may still be on its way).
func (r *cellRun) delivered(topic string, payload []byte, note string) int {
	n := r.count(topic, payload)
	r.add(reports.Fact{Side: reports.SideBackend, Kind: reports.FactDelivered, Field: topic, Value: string(payload), Count: n, Note: note})
	return n
}

// poll checks cond until it holds or timeout passes.
func (r *cellRun) poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		case <-r.ctx.Done():
			return false
		}
	}
}

// stepTimeout bounds one handshake or MQTT exchange expected to work.
func (r *cellRun) stepTimeout() time.Duration { return baseStepTimeout + r.lab.BoardSlack }

// failTimeout bounds one exchange expected to fail.
func (r *cellRun) failTimeout() time.Duration { return baseFailTimeout + r.lab.BoardSlack }

// stepCtx bounds one step of a cell.
func (r *cellRun) stepCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, d)
}

// closeAll closes what it is given, ignoring nils.
func closeAll(cs ...io.Closer) {
	for _, c := range cs {
		if c != nil && !isNilCloser(c) {
			c.Close()
		}
	}
}

func isNilCloser(c io.Closer) bool {
	switch v := c.(type) {
	case *DeviceConn:
		return v == nil
	case *Relay:
		return v == nil
	}
	return false
}
