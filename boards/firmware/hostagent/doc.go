// Package hostagent proves the C firmware against the Go side before any
// chip or emulator: its tests build the agent's host port (the C agent of
// boards/firmware/agent as a Linux process on a pseudo-terminal, target
// host-agent of boards/firmware/agent.mk), open it with package harness
// exactly as a board on a serial port, and run the device side of the
// noise, seed and psk profiles in C, in relay mode and in network mode
// (the agent dials the server itself through port/net.h), against in-process
// servers of packages shakedown/handshake/noise, seed and psk.
//
// The package holds tests only:
//
//	go test ./boards/firmware/hostagent
//
// They need make and a C99 compiler (cc). The specs cover INFO and BENCH,
// handshakes of every profile the firmware has followed by application
// bytes both ways, the noise key announcement and rollover, the
// persistent message-1 counter across resets and process restarts, and
// hostile paths: a message 2 altered by a harness.Tap, an invalid seed
// point, records the board cannot hold, which the C agent itself refuses.
package hostagent
