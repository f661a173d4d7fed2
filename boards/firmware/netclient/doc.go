// Package netclient proves the firmware's network client against the
// reference server: a device that opens its own TCP connection (board
// protocol network mode) instead of having the harness relay its bytes.
// Its tests build two host programs from the C of boards/firmware and run
// them against a server of package servertest, which is built from the
// same code as `shakedown serve`:
//
//   - client-publish (make client-host): client/ over port/net.h, whose
//     POSIX implementation is port/host/net.c;
//   - arduino-host (make arduino-host): the Arduino library
//     arduino/ShakedownNoise compiled with g++, its Client& a POSIX client
//     on port/net.h in place of a WiFiClient.
//
// Each shakes hands with the noise profile, sends an MQTT CONNECT, one
// PUBLISH and a DISCONNECT through the secure channel, and the specs
// check that the message arrives at a subscriber of the server's broker,
// in process and through a `shakedown serve` process with a backend
// subscriber (label serve); then that a wrong pinned key, a replayed
// counter and a closed port fail with their codes and publish nothing.
// The library's Publish example, provisioned with keys, also runs on an
// emulated Uno (simavr, label uno) with its serial port bridged to the
// server, until the subscriber has its message.
//
// The package holds tests only:
//
//	go test ./boards/firmware/netclient
//
// They need make, a C99 compiler (cc) and g++; the Uno spec also gcc-avr,
// simavr, arduino-core-avr and arduino-mk, and skips without them unless
// SHAKEDOWN_REQUIRE_EMULATORS=1.
package netclient
