package mitm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/reports"
)

// A board as the device under test (Lab.Board). Each device a scenario
// asks for is the board, provisioned anew with the cell's fixture device
// as a simulated device would hold it (its keys; for noise the pinned
// current server key and a message-1 counter above any the server saw; for
// tls the verification mode, pin and server name), and its handshake runs
// in relay mode through Board.Handshake with the cell's TapSource as the
// tap: every byte between board and server passes the attacker. MQTT then
// runs over Session.Conn, as over a simulated device's connection.
//
// The board protocol reaches less of a device than a simulator does, so
// some cells have no meaning on a board (notApplicable): a profile or
// curve its INFO does not list; the seed columns of a device that skips
// point validation (the firmware's check cannot be switched off); the tls
// ca modes unless the board trusts the fixture set's CA
// (Lab.BoardTrustsSetCA), since no trust anchor or clock can be
// provisioned. A board's pinned noise keys cannot be read either: the
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
		return nil, fmt.Errorf("mitm: asking the board for its INFO: %w", err)
	}
	if info.Caps&bp.CapRelay == 0 {
		return nil, errors.New("mitm: the board cannot relay its handshakes (no relay in its INFO caps): the attacker has no path to stand on")
	}
	st := &boardState{b: l.Board, info: info, console: &textTail{max: consoleKeep}}
	st.stop = l.Board.CaptureConsole(st.console)
	st.readLog(ctx) // from here on, the log tells of this run
	l.board = st
	return func() {
		st.stop()
		// The lab's counters keep up with the board's, for later devices.
		sctx, cancel := context.WithTimeout(context.Background(), baseStepTimeout+l.BoardSlack)
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
func (st *boardState) notApplicable(c Column, trustsCA bool) string {
	in := st.info
	if !slices.Contains(in.Profiles, c.Profile) {
		return fmt.Sprintf("the board does not run the %s profile (its INFO lists %s)", c.Profile, profileList(in.Profiles))
	}
	switch c.Profile {
	case handshake.Seed:
		if c.nocheck() {
			return "the column models a device that skips point validation (SEC 1 v2.0 §3.2.2); a board runs its firmware's own check, which the board protocol cannot switch off"
		}
		if cv, ok := bp.ParseCurve(c.curve()); !ok || !slices.Contains(in.Curves, cv) {
			return fmt.Sprintf("the board does not list the %s curve in its INFO", c.curve())
		}
	case handshake.TLS:
		if (c == ColTLSCA || c == ColTLSCANoClock) && !trustsCA {
			return "the board protocol provisions no trust anchor and no clock: a ca mode needs a board built to trust the fixture set's CA (and, for ca-noclock, with the devices' build date as its clock)"
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

// boardWords records what the board wrote up to a refusal: its console
// output since the last refusal and the end of its log.
func (r *cellRun) boardWords() {
	st := r.lab.board
	if st == nil {
		return
	}
	if text := st.console.take(); text != "" {
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactLog, Field: "console", Value: text, Note: "the board's console output up to its refusal"})
	}
	ctx, cancel := r.stepCtx(baseFailTimeout)
	defer cancel()
	if text := st.readLog(ctx); text != "" {
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactLog, Field: "log", Value: text, Note: "the board's log up to its refusal"})
	}
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

// boardByway is the byway of a cell on a board: the TapSource the board's
// relays go through, and the refusals of handshakes that never reached
// the relay (so that a scenario waiting for the path hears of them).
type boardByway struct {
	*TapSource
	refusals chan error
}

func newBoardByway(to Listener, dial Dialer) (Byway, error) {
	return &boardByway{TapSource: NewTapSource(to, dial), refusals: make(chan error, 1)}, nil
}

// Next returns the path of the board's next relay.
func (w *boardByway) Next(ctx context.Context) (Path, error) {
	select {
	case p := <-w.paths:
		return p, nil
	case err := <-w.refusals:
		return nil, fmt.Errorf("mitm: the board's handshake never reached the relay: %w", err)
	case <-w.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errBoardDials: a board's connections are the harness's relays.
var errBoardDials = errors.New("mitm: the board connects through its harness's relay, not by dialling the lab")

func (w *boardByway) DialDevice(context.Context) (net.Conn, error) { return nil, errBoardDials }

// refused tells a waiting Next of a handshake that never started its relay.
func (w *boardByway) refused(err error) {
	select {
	case w.refusals <- err:
	default:
	}
}

// boardTap is the tap of one handshake: the cell's TapSource, and whether a
// scenario took the relay's path.
type boardTap struct {
	src   *TapSource
	taken atomic.Bool
}

func (t *boardTap) Carry(ctx context.Context, board, server net.Conn) error {
	taken, err := t.src.carry(ctx, board, server)
	t.taken.Store(taken)
	return err
}

// boardDevice is the board, provisioned as the cell's device.
type boardDevice struct {
	r          *cellRun
	col        Column
	fx         fixtures.Device
	user, pass string
}

// newBoardDevice provisions the board with the cell's fixture device, after
// wiping what an earlier cell left on it.
func (r *cellRun) newBoardDevice() (*boardDevice, error) {
	ctx, cancel := r.stepCtx(r.stepTimeout())
	defer cancel()
	if err := r.awaitIdle(ctx); err != nil {
		return nil, err
	}
	used, err := r.lab.syncCounter(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.provisioning(used)
	if err != nil {
		return nil, err
	}
	st := r.lab.board
	st.mu.Lock()
	st.noiseID = ""
	if p.Profile == handshake.Noise {
		st.noiseID = r.fx.ID
	}
	st.mu.Unlock()
	if err := r.lab.Board.Provision(ctx, p); err != nil {
		return nil, fmt.Errorf("mitm: provisioning the board as %s: %w", r.fx.ID, err)
	}
	d := &boardDevice{r: r, col: r.col, fx: r.fx}
	if r.col.Profile == handshake.TLS {
		d.user, d.pass = r.fx.ID, r.fx.Password()
	}
	return d, nil
}

// provisioning is the cell's fixture device as the board stores it.
func (r *cellRun) provisioning(used uint64) (bp.Provision, error) {
	set, fx := r.lab.Set, r.fx
	p := bp.Provision{Erase: true, Profile: r.col.Profile}
	switch r.col.Profile {
	case handshake.Noise:
		ctr, err := r.boardCounter(used)
		if err != nil {
			return p, err
		}
		p.DeviceID, p.DeviceKey, p.ServerKey, p.Counter = fx.ID, fx.Private, set.NoiseCurrent.Public, &ctr
	case handshake.Seed:
		cv, ok := bp.ParseCurve(fx.Curve)
		if !ok {
			return p, fmt.Errorf("mitm: device %s has a curve the board protocol does not name", fx.ID)
		}
		p.DeviceID, p.DeviceKey, p.Curve = fx.ID, fx.Private, cv
	case handshake.PSK:
		p.DeviceID, p.DeviceKey = fx.ID, fx.Private
	case handshake.TLS:
		v, ok := tlsVerify[r.col.Variant]
		if !ok {
			return p, fmt.Errorf("mitm: no board verification mode for column %s", r.col.Name())
		}
		p.TLSVerify, p.ServerName = v, set.ServerName
		switch r.col {
		case ColTLSFingerprint:
			h := sha256.Sum256(set.Broker.Leaf.Raw)
			p.TLSPin = h[:]
		case ColTLSSPKI:
			h := sha256.Sum256(set.Broker.Leaf.RawSubjectPublicKeyInfo)
			p.TLSPin = h[:]
		}
	}
	return p, nil
}

// tlsVerify maps the tls columns' variants to the board's modes.
var tlsVerify = map[string]bp.TLSVerify{
	"none": bp.TLSVerifyNone, "fingerprint": bp.TLSVerifyFingerprint, "spki": bp.TLSVerifySPKI,
	"ca": bp.TLSVerifyCA, "ca-noclock": bp.TLSVerifyCANoClock,
}

// syncCounter reads the board's last message-1 counter and raises the lab's
// counter of the noise device the board holds to it, before anything
// replaces that identity. It returns the board's counter (0 when it has
// none).
func (l *Lab) syncCounter(ctx context.Context) (uint64, error) {
	st := l.board
	cs, err := st.b.Counters(ctx)
	if err != nil {
		return 0, fmt.Errorf("mitm: reading the board's counters: %w", err)
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

// boardCounter returns the message-1 counter to provision for the cell's
// noise device: the next of the lab's counter for it, or the board's own
// when that is greater (a board may keep one counter for every identity).
func (r *cellRun) boardCounter(used uint64) (uint64, error) {
	next, err := r.lab.counter(r.fx.ID).Next()
	if err != nil {
		return 0, err
	}
	return max(next, used), nil
}

// awaitIdle waits for the board to be idle (harness Board.WaitIdle): the
// next handshake or provisioning must not find it still in its last run.
func (r *cellRun) awaitIdle(ctx context.Context) error {
	if err := r.lab.Board.WaitIdle(ctx); err != nil {
		if handshake.ReasonOf(err) == handshake.ReasonTimeout {
			return handshake.Fail(r.col.Profile, handshake.StageDial, handshake.ReasonTimeout, err)
		}
		return fmt.Errorf("mitm: waiting for the board to be idle: %w", err)
	}
	return nil
}

func (d *boardDevice) Column() Column                   { return d.col }
func (d *boardDevice) ID() string                       { return d.fx.ID }
func (d *boardDevice) Credentials() (user, pass string) { return d.user, d.pass }

// Handshake runs the board's handshake in relay mode, the harness dialling
// the profile's listener and carrying the bytes through the cell's tap.
// The board's own deadline is ctx's.
func (d *boardDevice) Handshake(ctx context.Context) (*DeviceConn, error) {
	r := d.r
	way := r.way.(*boardByway)
	tap := &boardTap{src: way.TapSource}
	s, err := d.handshake(ctx, tap)
	if err != nil {
		// The harness has stopped carrying; a path nobody took never will be.
		if !tap.taken.Load() {
			way.refused(err)
		}
		return nil, err
	}
	return &DeviceConn{Conn: &boardConn{Conn: s.Conn(), s: s}, Sent: int64(s.Result.Sent), Received: int64(s.Result.Received)}, nil
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

func (d *boardDevice) handshake(ctx context.Context, tap *boardTap) (*harness.Session, error) {
	r := d.r
	addr, err := r.lab.Target.Addr(ListenerOf(d.col.Profile))
	if err != nil {
		return nil, handshake.Fail(d.col.Profile, handshake.StageDial, handshake.ReasonIO, err)
	}
	if err := r.awaitIdle(ctx); err != nil {
		return nil, err
	}
	opts := harness.HandshakeOptions{Profile: d.col.Profile, Server: addr, Tap: tap}
	if dl, ok := ctx.Deadline(); ok {
		// Whole milliseconds on the wire; zero would mean the board's default.
		if opts.Timeout = time.Until(dl).Truncate(time.Millisecond); opts.Timeout <= 0 {
			return nil, handshake.Fail(d.col.Profile, handshake.StageDial, handshake.ReasonTimeout, context.DeadlineExceeded)
		}
	}
	return r.lab.Board.Handshake(ctx, opts)
}
