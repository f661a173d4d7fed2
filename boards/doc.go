// Package boards holds the board profiles: what the harness needs to know
// about a board to find it, open its port, reset it, drive it and judge it.
// A profile names the board and its chip, clock and memory, the serial
// settings and timeouts, the reset method, the USB vendor and product IDs by
// which the harness recognises it, the agent's limits, the expected cost of
// its crypto operations, and the limits a run is held to (for example
// "a noise handshake within 6 s" on an ATmega328P).
//
// The profiles of the supported boards are YAML files under profiles/,
// embedded in the binary:
//
//	p, err := boards.Lookup("uno")
//	b, err := harness.Open(ctx, "/dev/ttyACM0", p.Options())
//
// Parse and Load read other profiles with the same validation; every
// problem is reported, with the file and the field, in one *ProfileError.
//
// Subpackage virtual is a board in Go that speaks the board protocol over a
// pseudo-terminal; emulated runs the firmware on emulated chips; measure
// turns what a board does into the figures reports show (provisioning,
// benchmark plans, timed handshakes); the C firmware lives in firmware/.
package boards
