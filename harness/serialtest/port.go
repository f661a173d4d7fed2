package serialtest

import (
	"net"
	"sync"
	"syscall"
	"time"

	"go.bug.st/serial"
)

// LineChange is one modem-line change a Port recorded.
type LineChange struct {
	Line  string // "DTR" or "RTS"
	Level bool
}

// Port is a serial.Port over one end of an in-memory pipe. It records DTR
// and RTS changes; with NoModemLines set it refuses them like a
// pseudo-terminal does.
type Port struct {
	conn         net.Conn
	NoModemLines bool

	mu      sync.Mutex
	changes []LineChange
	mode    serial.Mode
	timeout time.Duration
}

// NewPort returns a port and the other end of its line (the board's side).
func NewPort() (*Port, net.Conn) {
	a, b := net.Pipe()
	return &Port{conn: a, timeout: serial.NoTimeout}, b
}

// Changes returns the recorded modem-line changes.
func (p *Port) Changes() []LineChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]LineChange(nil), p.changes...)
}

// Mode returns the mode last set.
func (p *Port) Mode() serial.Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

func (p *Port) SetMode(m *serial.Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = *m
	return nil
}

// Read reads from the line; with a read timeout set it returns 0, nil when
// nothing arrives in time, as go.bug.st/serial does.
func (p *Port) Read(b []byte) (int, error) {
	p.mu.Lock()
	t := p.timeout
	p.mu.Unlock()
	if t >= 0 {
		p.conn.SetReadDeadline(time.Now().Add(t))
		defer p.conn.SetReadDeadline(time.Time{})
	}
	n, err := p.conn.Read(b)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return n, nil
	}
	return n, err
}

func (p *Port) Write(b []byte) (int, error) { return p.conn.Write(b) }
func (p *Port) Drain() error                { return nil }
func (p *Port) ResetInputBuffer() error     { return nil }
func (p *Port) ResetOutputBuffer() error    { return nil }

func (p *Port) SetDTR(v bool) error { return p.set("DTR", v) }
func (p *Port) SetRTS(v bool) error { return p.set("RTS", v) }

func (p *Port) set(line string, v bool) error {
	if p.NoModemLines {
		return syscall.ENOTTY // what a pseudo-terminal answers
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changes = append(p.changes, LineChange{Line: line, Level: v})
	return nil
}

func (p *Port) GetModemStatusBits() (*serial.ModemStatusBits, error) {
	return &serial.ModemStatusBits{}, nil
}

func (p *Port) SetReadTimeout(t time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeout = t
	return nil
}

func (p *Port) Close() error                { return p.conn.Close() }
func (p *Port) Break(d time.Duration) error { return nil }

var _ serial.Port = (*Port)(nil)
