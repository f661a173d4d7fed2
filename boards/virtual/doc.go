// Package virtual is a board in Go: it speaks the board protocol of
// docs/board-protocol.md on a pseudo-terminal, exactly as the agent firmware
// does on a UART, and runs the device side of every profile through the
// profile packages of shakedown/handshake. It is the reference agent and the
// board of tests and demos.
//
//	vb, err := virtual.Start(virtual.Config{Serial: "VB-0001"})
//	defer vb.Close()
//	b, err := harness.Open(ctx, vb.Path(), opts) // /dev/pts/N
//
// It can behave like a slow chip: with Config.Costs (from a board profile,
// see FromProfile) every scalar multiplication, AEAD and hash takes the
// profile's time, in benchmarks and in handshakes. It can behave like a
// faulty one (Faults): line noise and a boot banner before every BOOT, a
// reboot in the middle of a handshake that cuts a frame in half, responses
// that lose a byte. Replug makes it vanish and come back under another
// pseudo-terminal, as a board on native USB does when it resets.
//
// A pseudo-terminal has no modem lines: the virtual board is reset by the
// RESET command, by Reset, or by Replug.
package virtual
