package harness

import (
	"io"
	"time"

	"go.bug.st/serial"

	bp "shakedown/harness/boardproto"
)

// ResetMethod is how the host resets a board through the modem lines.
type ResetMethod string

const (
	// ResetNone: no modem-line reset; only the RESET command.
	ResetNone ResetMethod = "none"
	// ResetDTR: DTR low for the pulse, then high (Arduino auto-reset).
	ResetDTR ResetMethod = "dtr"
	// ResetRTS: RTS asserted for the pulse, then released.
	ResetRTS ResetMethod = "rts"
	// ResetESP: the esptool sequence for a normal boot: DTR released (IO0
	// high) and RTS asserted (EN low) for the pulse, then both released.
	ResetESP ResetMethod = "esp"
)

// ParseResetMethod returns the method named s.
func ParseResetMethod(s string) (ResetMethod, bool) {
	switch m := ResetMethod(s); m {
	case ResetNone, ResetDTR, ResetRTS, ResetESP:
		return m, true
	}
	return "", false
}

// Options configure a Board. Board profiles (package boards) produce them;
// zero fields take the defaults below.
type Options struct {
	Baud     int             // 115200
	DataBits int             // 8
	Parity   serial.Parity   // none
	StopBits serial.StopBits // one

	// ReadTimeout bounds each read of the port (the poll granularity of the
	// reader); 0 blocks until bytes arrive or the port closes.
	ReadTimeout time.Duration

	ResponseTimeout  time.Duration // per attempt of a query: boardproto.QueryTimeout
	ProvisionTimeout time.Duration // per attempt of PROVISION: boardproto.ProvisionTimeout
	BenchTimeout     time.Duration // per BENCH: 30 s
	BootTimeout      time.Duration // BOOT after a reset: 5 s
	HandshakeTimeout time.Duration // the board's handshake deadline: 10 s
	Retries          int           // retransmissions of a command: boardproto.Retries

	Reset         ResetMethod   // ResetNone
	ResetRequired bool          // fail when the port has no modem lines
	ResetPulse    time.Duration // 100 ms

	// SerialNumber identifies the board across re-enumeration. When empty
	// it is looked up through Enumerator at Open.
	SerialNumber string
	// Enumerator lists ports to find the board again after its port
	// vanished; nil disables reconnection.
	Enumerator       Enumerator
	ReconnectTimeout time.Duration // 10 s
	PollInterval     time.Duration // 250 ms between enumerations while waiting

	// Opener opens a port; serial.Open when nil. Tests substitute fakes.
	Opener func(name string, mode *serial.Mode) (serial.Port, error)

	// Console receives console output from the start (see CaptureConsole).
	Console io.Writer
	// SkipHello opens the port without the HELLO exchange (a board that
	// does not run the agent, or a console session).
	SkipHello bool
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Baud == 0 {
		o.Baud = 115200
	}
	if o.DataBits == 0 {
		o.DataBits = 8
	}
	def(&o.ResponseTimeout, bp.QueryTimeout)
	def(&o.ProvisionTimeout, bp.ProvisionTimeout)
	def(&o.BenchTimeout, 30*time.Second)
	def(&o.BootTimeout, 5*time.Second)
	def(&o.HandshakeTimeout, 10*time.Second)
	def(&o.ResetPulse, 100*time.Millisecond)
	def(&o.ReconnectTimeout, 10*time.Second)
	def(&o.PollInterval, 250*time.Millisecond)
	if o.Retries == 0 {
		o.Retries = bp.Retries
	}
	if o.Reset == "" {
		o.Reset = ResetNone
	}
	if o.Opener == nil {
		o.Opener = serial.Open
	}
	return o
}

func (o Options) mode() *serial.Mode {
	m := &serial.Mode{BaudRate: o.Baud, DataBits: o.DataBits, Parity: o.Parity, StopBits: o.StopBits}
	if o.Reset == ResetESP {
		// Hold neither EN nor IO0 low when the port opens.
		m.InitialStatusBits = &serial.ModemOutputBits{}
	}
	return m
}
