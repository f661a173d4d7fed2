package boards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"shakedown/harness"
)

// Where says which real board to open: its port or its USB serial number,
// and its profile by name or file (recognised from the USB ids when both
// are empty).
type Where struct {
	Port        string // e.g. /dev/ttyACM0, COM3, or an emulator's /dev/pts/N
	Serial      string // USB serial number, instead of Port
	Board       string // profile name
	ProfileFile string // a profile YAML file, instead of Board
	Baud        int    // overrides the profile's baud rate when > 0
}

// Resolve finds the port and the profile. warn receives a note when the
// USB ids fit several profiles.
func (w Where) Resolve(e harness.Enumerator, warn io.Writer) (harness.PortInfo, Profile, error) {
	port, err := w.port(e)
	if err != nil {
		return harness.PortInfo{}, Profile{}, err
	}
	prof, err := w.profile(port, warn)
	return port, prof, err
}

// Open resolves the board and opens it with its profile's options; opts
// adjusts them (console, SkipHello) before the port opens.
func (w Where) Open(ctx context.Context, warn io.Writer, opts func(*harness.Options)) (*harness.Board, Profile, error) {
	e := harness.USBEnumerator{}
	port, prof, err := w.Resolve(e, warn)
	if err != nil {
		return nil, Profile{}, err
	}
	o := prof.Options()
	o.Enumerator = e
	o.SerialNumber = port.SerialNumber
	if w.Baud > 0 {
		o.Baud = w.Baud
	}
	if opts != nil {
		opts(&o)
	}
	b, err := harness.Open(ctx, port.Name, o)
	if err != nil {
		return nil, Profile{}, fmt.Errorf("opening %s as %s: %w", port.Name, prof.Name, err)
	}
	return b, prof, nil
}

func (w Where) port(e harness.Enumerator) (harness.PortInfo, error) {
	switch {
	case w.Port != "" && w.Serial != "":
		return harness.PortInfo{}, errors.New("give --port or --serial, not both")
	case w.Serial != "":
		p, ok, err := harness.FindSerial(e, w.Serial)
		if err != nil {
			return harness.PortInfo{}, err
		}
		if !ok {
			return harness.PortInfo{}, fmt.Errorf("no port with serial number %q (see shakedown board list)", w.Serial)
		}
		return p, nil
	case w.Port != "":
		ports, _ := e.Ports()
		for _, p := range ports {
			if p.Name == w.Port {
				return p, nil
			}
		}
		if strings.ContainsRune(w.Port, '/') {
			// A device path (not a Windows COMn name): say plainly when
			// there is nothing there, before any profile or link error.
			if _, err := os.Stat(w.Port); err != nil {
				return harness.PortInfo{}, fmt.Errorf("boards: no serial port %s (shakedown board list shows the ports): %w", w.Port, err)
			}
		}
		return harness.PortInfo{Name: w.Port}, nil
	}
	return harness.PortInfo{}, errors.New("which board? give --port (or --serial); shakedown board list shows the ports")
}

func (w Where) profile(port harness.PortInfo, warn io.Writer) (Profile, error) {
	switch {
	case w.ProfileFile != "":
		return Load(w.ProfileFile)
	case w.Board != "":
		return Lookup(w.Board)
	}
	all, err := All()
	if err != nil {
		return Profile{}, err
	}
	if m := Recognise(port, all); len(m) > 0 {
		if len(m) > 1 && warn != nil {
			fmt.Fprintf(warn, "note: %s:%s fits %d profiles; using %s (choose with --board)\n", port.VID, port.PID, len(m), m[0].Name)
		}
		return m[0], nil
	}
	return Lookup("virtual")
}
