package virtual

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// Config configures a virtual board. Zero fields take the defaults noted.
type Config struct {
	Board    string // "shakedown virtual board"
	Chip     string // "host"
	Firmware string // "shakedown virtual 1"
	Serial   string // the serial number INFO reports: "VIRTUAL-0001"
	ClockHz  uint32 // 1 GHz, nominal

	MaxPayload int  // 255; 64-255
	NoNetwork  bool // refuse network mode (a board without its own network)
	// RelayWindow is the relay credit the board grants at a time:
	// MaxPayload when zero.
	RelayWindow int

	// Devices builds the device side of each profile: DefaultDevices when nil.
	Devices map[handshake.Name]DeviceFactory
	// Costs, when set, make a slow chip: keys x25519, p256, secp160r1,
	// aead_per_kib, sha256_per_kib, as in board profiles.
	Costs map[string]time.Duration
	// Faults make a faulty chip; SetFaults changes them later.
	Faults Faults

	// Dial connects in network mode; a net.Dialer when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HandshakeTimeout is the default handshake deadline: 10 s.
	HandshakeTimeout time.Duration
	// TLSRoots and BuildTime serve the tls profile's ca modes.
	TLSRoots  *x509.CertPool
	BuildTime time.Time
	// Clocks are the time servers the board was built to ask in the
	// ca-ntp and ca-roughtime modes (the board protocol provisions none).
	Clocks Clocks
	// Console receives the board's own log lines as it writes them.
	Console io.Writer
}

// Clocks are a board's time servers: an SNTP server, and a Roughtime
// server with the Ed25519 key the board pins. Empty: the mode is refused.
type Clocks struct {
	NTP          string
	Roughtime    string
	RoughtimeKey ed25519.PublicKey
}

// Faults make the board misbehave the way real boards do.
type Faults struct {
	// Noise is written before every BOOT, as a ROM talking at another baud
	// rate would; it may contain zeros.
	Noise []byte
	// Banner is printed before every BOOT.
	Banner string
	// ResetInHandshake reboots the board during each of the next N
	// handshakes, in the middle of its first relay frame.
	ResetInHandshake int
	// DropResponses removes one byte from each of the next N responses.
	DropResponses int
}

func (c Config) withDefaults() Config {
	if c.Board == "" {
		c.Board = "shakedown virtual board"
	}
	if c.Chip == "" {
		c.Chip = "host"
	}
	if c.Firmware == "" {
		c.Firmware = "shakedown virtual 1"
	}
	if c.Serial == "" {
		c.Serial = "VIRTUAL-0001"
	}
	if c.ClockHz == 0 {
		c.ClockHz = 1_000_000_000
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = bp.MaxPayload
	}
	if c.RelayWindow == 0 {
		c.RelayWindow = c.MaxPayload
	}
	if c.Devices == nil {
		c.Devices = DefaultDevices()
	}
	if c.Dial == nil {
		var d net.Dialer
		c.Dial = d.DialContext
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	return c
}

// Board is a running virtual board.
type Board struct {
	cfg Config

	wg        sync.WaitGroup
	closed    chan struct{}
	closeOnce sync.Once

	// wmu serialises output and orders it: held while an event's seq is
	// taken and its frame written. Lock order: wmu, then mu.
	wmu sync.Mutex

	mu     sync.Mutex
	master *os.File
	slave  *os.File
	path   string
	faults Faults

	// persistent, like flash
	store     map[handshake.Name]*slot
	bootCount uint32

	// volatile: reset at every boot
	evSeq     byte
	last      lastCmd
	run       *run
	provFor   handshake.Name
	counters  map[bp.CounterID]uint64
	log       logRing
	bootStart time.Time
}

type slot struct {
	prov    bp.Provision
	counter uint64 // last message-1 counter used
}

type lastCmd struct {
	valid  bool
	typ    bp.Type
	seq    byte
	status bp.Status
}

// Start opens a pseudo-terminal and boots the board on it (a power-on BOOT,
// after the configured noise and banner).
func Start(cfg Config) (*Board, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxPayload < bp.MinPayloadLimit || cfg.MaxPayload > bp.MaxPayload {
		return nil, fmt.Errorf("virtual: MaxPayload %d outside %d-%d", cfg.MaxPayload, bp.MinPayloadLimit, bp.MaxPayload)
	}
	b := &Board{cfg: cfg, closed: make(chan struct{}), faults: cfg.Faults, store: map[handshake.Name]*slot{}}
	if err := b.attach(); err != nil {
		return nil, err
	}
	b.reboot(bp.BootPowerOn)
	return b, nil
}

// attach opens a new pseudo-terminal, starts reading it, and closes the old
// one (after the new one exists, so the path always changes).
func (b *Board) attach() error {
	master, slave, err := openPTY()
	if err != nil {
		return err
	}
	b.mu.Lock()
	oldM, oldS := b.master, b.slave
	b.master, b.slave, b.path = master, slave, slave.Name()
	b.mu.Unlock()
	if oldM != nil {
		oldM.Close()
		oldS.Close()
	}
	b.wg.Add(1)
	go b.readLoop(master)
	return nil
}

// Path returns the pseudo-terminal the harness opens.
func (b *Board) Path() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.path
}

// Serial returns the board's serial number.
func (b *Board) Serial() string { return b.cfg.Serial }

// SetFaults replaces the faults.
func (b *Board) SetFaults(f Faults) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = f
}

// BootCount returns the number of boots so far.
func (b *Board) BootCount() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bootCount
}

// MessageCounter returns the last message-1 counter the board used for profile.
func (b *Board) MessageCounter(p handshake.Name) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.store[p]; s != nil {
		return s.counter
	}
	return 0
}

// Reset reboots the board as its reset button would.
func (b *Board) Reset() { b.reboot(bp.BootExternal) }

// Replug makes the board vanish and come back on a new pseudo-terminal, as
// a board on native USB does when it resets: the old path goes away, the
// board reboots, and the new path is returned.
func (b *Board) Replug() (string, error) {
	b.wmu.Lock()
	err := b.attach()
	b.wmu.Unlock()
	if err != nil {
		return "", err
	}
	b.reboot(bp.BootExternal)
	return b.Path(), nil
}

// Close stops the board and closes its pseudo-terminal. It is safe to call
// more than once.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		close(b.closed)
		b.mu.Lock()
		r := b.run
		b.run = nil
		m, s := b.master, b.slave
		b.mu.Unlock()
		if r != nil {
			r.stop()
		}
		m.Close()
		s.Close()
	})
	b.wg.Wait()
	return nil
}

// ---------------------------------------------------------------- input

func (b *Board) readLoop(master *os.File) {
	defer b.wg.Done()
	var dec bp.Decoder
	buf := make([]byte, 512)
	for {
		n, err := master.Read(buf)
		for _, it := range dec.Feed(buf[:n]) {
			if it.Frame != nil {
				b.command(*it.Frame)
			} else {
				b.count(bp.CounterBadFrames, 1) // a host sends no console text
			}
		}
		if err != nil {
			return // closed: Close or Replug
		}
	}
}

// ---------------------------------------------------------------- output

// write writes raw bytes; the caller holds wmu.
func (b *Board) write(p []byte) {
	b.mu.Lock()
	m := b.master
	b.mu.Unlock()
	m.Write(p) // a closed terminal drops output, as a UART with nobody listening
}

// respond sends a response with body; it applies the DropResponses fault.
func (b *Board) respond(cmd bp.Frame, st bp.Status, body []byte) {
	wire, err := bp.AppendFrame(nil, bp.Frame{Type: cmd.Type.Response(), Seq: cmd.Seq,
		Payload: bp.AppendResponse(nil, st, body)})
	if err != nil {
		return
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	if b.faults.DropResponses > 0 {
		b.faults.DropResponses--
		wire = append(wire[:len(wire)/2], wire[len(wire)/2+1:]...)
	}
	b.counters[bp.CounterFramesTx]++
	b.mu.Unlock()
	b.write(wire)
}

// emit sends an event for run r (nil: for the board itself). Nothing is sent
// when r is no longer the board's current run: a handshake cut short by
// CLOSE or a reboot stays silent.
func (b *Board) emit(r *run, t bp.Type, payload []byte) bool {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.emitLocked(r, t, payload)
}

func (b *Board) emitLocked(r *run, t bp.Type, payload []byte) bool {
	b.mu.Lock()
	if r != nil && b.run != r {
		b.mu.Unlock()
		return false
	}
	seq := b.evSeq
	b.evSeq++
	b.counters[bp.CounterFramesTx]++
	b.mu.Unlock()
	wire, err := bp.AppendFrame(nil, bp.Frame{Type: t, Seq: seq, Payload: payload})
	if err != nil {
		return false
	}
	b.write(wire)
	return true
}

// reboot restarts the board: the run stops, volatile state is cleared, and
// noise, banner and BOOT go out.
func (b *Board) reboot(reason bp.BootReason) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.rebootLocked(reason)
}

func (b *Board) rebootLocked(reason bp.BootReason) {
	b.mu.Lock()
	r := b.run
	b.run = nil
	b.bootCount++
	b.evSeq = 0
	b.last = lastCmd{}
	b.provFor = ""
	b.counters = map[bp.CounterID]uint64{}
	b.log = logRing{}
	b.bootStart = time.Now()
	f := b.faults
	boot := bp.Boot{Reason: reason, Version: bp.Version, MaxPayload: byte(b.cfg.MaxPayload), BootCount: b.bootCount}
	b.mu.Unlock()
	if r != nil {
		r.stop()
	}
	b.write(f.Noise)
	b.write([]byte(f.Banner))
	b.emitLocked(nil, bp.EvtBoot, boot.Append(nil))
	b.logf("boot %d (%s)", boot.BootCount, reason)
}

// ---------------------------------------------------------------- bookkeeping

func (b *Board) count(id bp.CounterID, n uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counters[id] += n
}

func (b *Board) logf(format string, a ...any) {
	line := fmt.Sprintf(format, a...) + "\n"
	b.mu.Lock()
	b.log.write([]byte(line))
	b.mu.Unlock()
	if b.cfg.Console != nil {
		b.cfg.Console.Write([]byte(line))
	}
}

// logRing is the agent's log: the last logSize bytes, with positions
// counted from 0 at boot.
type logRing struct {
	buf  []byte
	next uint32 // position after the last byte written
}

const logSize = 1024

func (l *logRing) write(p []byte) {
	l.buf = append(l.buf, p...)
	if over := len(l.buf) - logSize; over > 0 {
		l.buf = l.buf[over:]
	}
	l.next += uint32(len(p))
}

// read returns up to max bytes from position cursor.
func (l *logRing) read(cursor uint32, max int) bp.Log {
	first := l.next - uint32(len(l.buf))
	if cursor < first || cursor > l.next {
		cursor = first
	}
	text := l.buf[cursor-first:]
	if len(text) > max {
		text = text[:max]
	}
	return bp.Log{First: cursor, Next: cursor + uint32(len(text)), Text: append([]byte(nil), text...)}
}

var errNoSession = errors.New("virtual: no session")
