package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"shakedown/boards/measure"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/mitm"
	"shakedown/reports"
)

// A board as the device under test (Lab.Board). Each device a scenario
// asks for is the board, provisioned anew with the cell's fixture device
// as a simulated device would hold it (its keys; for noise the pinned
// current server key and a message-1 counter above any the server saw; for
// tls the verification mode, pin and server name), and its handshake runs
// in relay mode through Board.Handshake with a tap of the cell's
// mitm.RelayByway: every byte between board and server passes the attacker. MQTT then
// runs over Session.Conn, as over a simulated device's connection.
//
// The board protocol reaches less of a device than a simulator does, so
// some cells have no meaning on a board (notApplicable): a profile or
// curve its INFO does not list; the seed columns of a device that skips
// point validation (the firmware's check cannot be switched off); the tls
// ca modes unless the board trusts the fixture set's CA
// (Lab.BoardTrustsSetCA), since no trust anchor or clock can be
// provisioned; the network-clock modes unless the board also asks the
// lab's time gate (Lab.BoardAsksTimeGate). A board's pinned noise keys cannot be read either: the
// server-key-rollover scenario shows them by the board's behaviour.

// boardState is the board while Run or RunCell drives it.
type boardState struct {
	b       *harness.Board
	info    bp.Info
	console *textTail
	stop    func() // ends the console capture

	mu      sync.Mutex
	cursor  uint32 // the next position of the board's log to read
	noiseID string // the noise device the board was last provisioned as
}

// Bounds of the board's words kept as evidence (tuning).
const (
	consoleKeep   = 4 << 10 // console bytes kept between refusals
	wordsLines    = 3       // lines of log or console per fact
	wordsMax      = 320     // characters per fact
	logReadsLimit = 32      // READ_LOG commands per catch-up
)

// attachBoard asks the board who it is, checks that it relays, and starts
// keeping its console output and log position. detach undoes it.
func (l *Lab) attachBoard(ctx context.Context) (detach func(), err error) {
	info, err := l.Board.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("lab: asking the board for its INFO: %w", err)
	}
	if info.Caps&bp.CapRelay == 0 {
		return nil, errors.New("lab: the board cannot relay its handshakes (no relay in its INFO caps): the attacker has no path to stand on")
	}
	st := &boardState{b: l.Board, info: info, console: &textTail{max: consoleKeep}}
	st.stop = l.Board.CaptureConsole(st.console)
	st.readLog(ctx) // from here on, the log tells of this run
	l.board = st
	return func() {
		st.stop()
		// The lab's counters keep up with the board's, for later devices.
		sctx, cancel := context.WithTimeout(context.Background(), mitm.StepTimeout+l.BoardSlack)
		l.syncCounter(sctx)
		cancel()
		l.board = nil
	}, nil
}

// describe returns the board for the results.
func (st *boardState) describe() *reports.MITMBoard {
	in := st.info
	bi := &reports.MITMBoard{Board: in.Board, Chip: in.Chip, Firmware: in.Firmware, Serial: in.Serial}
	for _, p := range in.Profiles {
		bi.Profiles = append(bi.Profiles, string(p))
	}
	for _, c := range in.Curves {
		bi.Curves = append(bi.Curves, c.String())
	}
	return bi
}

// notApplicable says why column c has no meaning on the board, or "".
func (st *boardState) notApplicable(c mitm.Column, trustsCA, asksGate bool) string {
	in := st.info
	if !slices.Contains(in.Profiles, c.Profile) {
		return fmt.Sprintf("the board does not run the %s profile (its INFO lists %s)", c.Profile, profileList(in.Profiles))
	}
	switch c.Profile {
	case handshake.Seed:
		if c.NoCheck() {
			return "the column models a device that skips point validation (SEC 1 v2.0 §3.2.2); a board runs its firmware's own check, which the board protocol cannot switch off"
		}
		if cv, ok := bp.ParseCurve(c.Curve()); !ok || !slices.Contains(in.Curves, cv) {
			return fmt.Sprintf("the board does not list the %s curve in its INFO", c.Curve())
		}
	case handshake.TLS:
		if (c == mitm.ColTLSCA || c == mitm.ColTLSCANoClock || c.NetworkClock()) && !trustsCA {
			return "the board protocol provisions no trust anchor and no clock: a ca mode needs a board built to trust the fixture set's CA (and, for ca-noclock, with the devices' build date as its clock)"
		}
		if c.NetworkClock() && !asksGate {
			return "the board protocol provisions no time server: a network-clock mode needs a board built to ask the lab's time gate and to pin its Roughtime key (Lab.BoardAsksTimeGate)"
		}
	}
	return ""
}

func profileList(ps []handshake.Name) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// readLog reads the board's log from where the last read ended and returns
// its last lines.
func (st *boardState) readLog(ctx context.Context) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var text []byte
	for range logReadsLimit {
		lg, err := st.b.ReadLog(ctx, st.cursor)
		if err != nil || len(lg.Text) == 0 {
			break
		}
		text = append(text, lg.Text...)
		st.cursor = lg.Next
	}
	return lastLines(text)
}

// onBoard is the lab's board as the matrix's DeviceSource: every device
// of a cell is the board, provisioned anew, its connections the harness's
// relays.
type onBoard struct{ labDevices }

func (d onBoard) NotApplicable(c mitm.Column) string {
	return d.l.board.notApplicable(c, d.l.BoardTrustsSetCA, d.l.BoardAsksTimeGate)
}

func (onBoard) Byway(to mitm.Listener, dial mitm.Dialer) (mitm.Byway, error) {
	return mitm.NewRelayByway(to, dial), nil
}

// Words returns what the board wrote up to a refusal: its console output
// since the last refusal and the end of its log.
func (d onBoard) Words(ctx context.Context) []reports.Fact {
	st := d.l.board
	var fs []reports.Fact
	if text := st.console.take(); text != "" {
		fs = append(fs, reports.Fact{Side: reports.SideDevice, Kind: reports.FactLog, Field: "console", Value: text, Note: "the board's console output up to its refusal"})
	}
	if text := st.readLog(ctx); text != "" {
		fs = append(fs, reports.Fact{Side: reports.SideDevice, Kind: reports.FactLog, Field: "log", Value: text, Note: "the board's log up to its refusal"})
	}
	return fs
}

// textTail keeps the last max bytes written to it.
type textTail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *textTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// take returns the last lines kept and forgets everything.
func (t *textTail) take() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := lastLines(t.buf)
	t.buf = t.buf[:0]
	return s
}

// lastLines returns the last non-empty lines of text as printable ASCII
// (anything else becomes '.'), at most wordsLines lines and wordsMax
// characters, joined by " | ".
func lastLines(text []byte) string {
	var lines []string
	for _, l := range strings.FieldsFunc(string(text), func(r rune) bool { return r == '\n' || r == '\r' }) {
		clean := strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return '.'
			}
			return r
		}, l)
		if clean = strings.TrimSpace(clean); clean != "" {
			lines = append(lines, clean)
		}
	}
	if len(lines) > wordsLines {
		lines = lines[len(lines)-wordsLines:]
	}
	s := strings.Join(lines, " | ")
	if len(s) > wordsMax {
		s = "…" + s[len(s)-wordsMax:]
	}
	return s
}

// boardDevice is the board, provisioned as a cell's device.
type boardDevice struct {
	lab        *Lab
	col        mitm.Column
	fx         fixtures.Device
	way        *mitm.RelayByway
	user, pass string
}

// NewDevice provisions the board with the victim's fixture device, after
// wiping what an earlier cell left on it.
func (d onBoard) NewDevice(ctx context.Context, c mitm.Column, v mitm.Victim, way mitm.Byway) (mitm.Device, error) {
	fx, err := d.device(v)
	if err != nil {
		return nil, err
	}
	rw, ok := way.(*mitm.RelayByway)
	if !ok {
		return nil, errors.New("lab: a board's byway is a relay byway")
	}
	l := d.l
	if err := l.awaitIdle(ctx, c.Profile); err != nil {
		return nil, err
	}
	used, err := l.syncCounter(ctx)
	if err != nil {
		return nil, err
	}
	p, id, err := l.provisioning(c, fx, used)
	if err != nil {
		return nil, err
	}
	st := l.board
	st.mu.Lock()
	st.noiseID = ""
	if p.Profile == handshake.Noise {
		st.noiseID = fx.ID
	}
	st.mu.Unlock()
	if err := l.Board.Provision(ctx, p); err != nil {
		return nil, fmt.Errorf("lab: provisioning the board as %s: %w", fx.ID, err)
	}
	return &boardDevice{lab: l, col: c, fx: fx, way: rw, user: id.User, pass: id.Password}, nil
}

// provisioning is fixture device fx of column c as the board stores it,
// over whatever an earlier cell left (a noise device's counter above both
// the lab's and the board's, used), with its identity.
func (l *Lab) provisioning(c mitm.Column, fx fixtures.Device, used uint64) (bp.Provision, fixtures.Identity, error) {
	id, err := l.identity(c, fx)
	if err != nil {
		return bp.Provision{}, id, err
	}
	p, err := measure.ProvisionOf(id)
	if err != nil {
		return p, id, fmt.Errorf("lab: provisioning the board as %s: %w", fx.ID, err)
	}
	p.Erase = true
	if p.Profile == handshake.Noise {
		ctr, err := l.boardCounter(fx.ID, used)
		if err != nil {
			return p, id, err
		}
		p.Counter = &ctr
	}
	return p, id, nil
}

// syncCounter reads the board's last message-1 counter and raises the lab's
// counter of the noise device the board holds to it, before anything
// replaces that identity. It returns the board's counter (0 when it has
// none).
func (l *Lab) syncCounter(ctx context.Context) (uint64, error) {
	st := l.board
	cs, err := st.b.Counters(ctx)
	if err != nil {
		return 0, fmt.Errorf("lab: reading the board's counters: %w", err)
	}
	used, _ := cs.Get(bp.CounterMessageCounter)
	st.mu.Lock()
	id := st.noiseID
	st.mu.Unlock()
	if id != "" {
		l.raiseCounter(id, used)
	}
	return used, nil
}

// boardCounter returns the message-1 counter to provision for noise
// device id: the next of the lab's counter for it, or the board's own when
// that is greater (a board may keep one counter for every identity).
func (l *Lab) boardCounter(id string, used uint64) (uint64, error) {
	next, err := l.counter(id).Next()
	if err != nil {
		return 0, err
	}
	return max(next, used), nil
}

// awaitIdle waits for the board to be idle (harness Board.WaitIdle): the
// next handshake or provisioning must not find it still in its last run.
func (l *Lab) awaitIdle(ctx context.Context, p handshake.Name) error {
	if err := l.Board.WaitIdle(ctx); err != nil {
		if handshake.ReasonOf(err) == handshake.ReasonTimeout {
			return handshake.Fail(p, handshake.StageDial, handshake.ReasonTimeout, err)
		}
		return fmt.Errorf("lab: waiting for the board to be idle: %w", err)
	}
	return nil
}

func (d *boardDevice) Column() mitm.Column              { return d.col }
func (d *boardDevice) ID() string                       { return d.fx.ID }
func (d *boardDevice) Credentials() (user, pass string) { return d.user, d.pass }

// Handshake runs the board's handshake in relay mode, the harness dialling
// the profile's listener and carrying the bytes through the cell's tap.
// The board's own deadline is ctx's.
func (d *boardDevice) Handshake(ctx context.Context) (*mitm.DeviceConn, error) {
	tap := d.way.Tap()
	s, err := d.handshake(ctx, tap)
	if err != nil {
		// The harness has stopped carrying; a path nobody took never will be.
		tap.Failed(err)
		return nil, err
	}
	return &mitm.DeviceConn{Conn: &boardConn{Conn: s.Conn(), s: s}, Sent: int64(s.Result.Sent), Received: int64(s.Result.Received)}, nil
}

// boardConn is the board's session as the lab's device conn. A write into a
// session the board has already ended (it answers SEND with no_session)
// reports success, as a write into a TCP connection whose peer has gone
// does: the session's end, with the board's own reason, is what the next
// Read returns, as it is for a simulated device.
type boardConn struct {
	net.Conn
	s *harness.Session
}

func (c *boardConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && handshake.ReasonOf(err) == bp.StatusNoSession.Reason() {
		select {
		case <-c.s.Done():
			return len(p), nil
		default:
		}
	}
	return n, err
}

func (d *boardDevice) handshake(ctx context.Context, tap *mitm.RelayTap) (*harness.Session, error) {
	addr, err := d.lab.Target.Addr(mitm.ListenerOf(d.col.Profile))
	if err != nil {
		return nil, handshake.Fail(d.col.Profile, handshake.StageDial, handshake.ReasonIO, err)
	}
	if err := d.lab.awaitIdle(ctx, d.col.Profile); err != nil {
		return nil, err
	}
	opts := harness.HandshakeOptions{Profile: d.col.Profile, Server: addr, Tap: tap}
	if dl, ok := ctx.Deadline(); ok {
		// Whole milliseconds on the wire; zero would mean the board's default.
		if opts.Timeout = time.Until(dl).Truncate(time.Millisecond); opts.Timeout <= 0 {
			return nil, handshake.Fail(d.col.Profile, handshake.StageDial, handshake.ReasonTimeout, context.DeadlineExceeded)
		}
	}
	return d.lab.Board.Handshake(ctx, opts)
}
