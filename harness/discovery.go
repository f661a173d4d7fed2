package harness

import (
	"context"
	"strings"
	"time"

	"go.bug.st/serial/enumerator"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// PortInfo describes a serial port.
type PortInfo struct {
	Name         string // e.g. /dev/ttyACM0, COM3, /dev/pts/4
	IsUSB        bool
	VID, PID     string // lower-case hex, 4 digits, when USB
	SerialNumber string // USB iSerial, or what a test double supplies
	Manufacturer string
	Product      string
}

// Enumerator lists the serial ports of the machine.
type Enumerator interface {
	Ports() ([]PortInfo, error)
}

// Notifier is implemented by enumerators that can tell when the port list
// may have changed, so a waiting harness looks again at once.
type Notifier interface {
	Changed() <-chan struct{}
}

// USBEnumerator lists ports through go.bug.st/serial/enumerator (sysfs on
// Linux, IOKit on macOS, SetupAPI on Windows).
type USBEnumerator struct{}

// Ports lists every serial port with its USB details.
func (USBEnumerator) Ports() ([]PortInfo, error) {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonIO, Err: err}
	}
	out := make([]PortInfo, 0, len(list))
	for _, p := range list {
		out = append(out, PortInfo{Name: p.Name, IsUSB: p.IsUSB, VID: strings.ToLower(p.VID),
			PID: strings.ToLower(p.PID), SerialNumber: p.SerialNumber,
			Manufacturer: p.Manufacturer, Product: p.Product})
	}
	return out, nil
}

// USBID is a USB vendor and product ID pair, lower-case hex.
type USBID struct{ VID, PID string }

// Matches reports whether p carries this VID and PID.
func (id USBID) Matches(p PortInfo) bool {
	return p.IsUSB && strings.EqualFold(p.VID, id.VID) && strings.EqualFold(p.PID, id.PID)
}

// FindSerial returns the port of e whose serial number is serial.
func FindSerial(e Enumerator, serial string) (PortInfo, bool, error) {
	ports, err := e.Ports()
	if err != nil {
		return PortInfo{}, false, err
	}
	for _, p := range ports {
		if serial != "" && p.SerialNumber == serial {
			return p, true, nil
		}
	}
	return PortInfo{}, false, nil
}

// WaitSerial waits until a port with the serial number appears in e and
// returns it. It looks every poll and whenever e (a Notifier) signals.
func WaitSerial(ctx context.Context, e Enumerator, serial string, poll time.Duration) (PortInfo, error) {
	var changed <-chan struct{}
	if n, ok := e.(Notifier); ok {
		changed = n.Changed()
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		p, ok, err := FindSerial(e, serial)
		if err == nil && ok {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return PortInfo{}, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonLinkLost, Err: errBoardGone}
		case <-tick.C:
		case <-changed:
			if n, ok := e.(Notifier); ok {
				changed = n.Changed()
			}
		}
	}
}
