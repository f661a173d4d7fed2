// Package suites is the one set of ginkgo suites that runs, unchanged,
// against a virtual board, the agent firmware on an emulated chip, a real
// board on a serial port, or a simulated fleet:
//
//   - info (label info): the board is the board its profile describes and
//     keeps its identity over a reset;
//   - handshake (label handshake): every profile the board runs completes
//     its handshake within the limit of the board's profile, measured over
//     --runs handshakes with gmeasure (the board's own count, through its
//     clock, and the wall time), then carries MQTT both ways;
//   - replay (label replay): the server refuses the board's noise message 1
//     replayed, and the board's message-1 counter survives a reboot;
//   - throughput (label throughput): MQTT messages through the board's
//     session, each acknowledged and received exactly once;
//   - ecdh-bench (labels ecdh-bench, bench): the board times each curve,
//     AEAD and SHA-256; on an emulated chip a second run repeats the count
//     exactly;
//   - mitm (label mitm): the MITM matrix of package mitm, run by package
//     lab with the board as the device, on the board's relay path, every
//     verdict as expected;
//   - fleet (label fleet): a simulator scenario, every device connected,
//     every message delivered and the scenario's thresholds held.
//
// The board talks to the reference server run in process (package
// lab/labserver) with a fixture set generated from a fixed seed, or the
// set of --fixtures. One set of flags chooses the target (Config.Bind):
//
//	shakedown test --virtual
//	shakedown test --emulated avr
//	shakedown test --port /dev/ttyACM0 --board uno --junit junit.xml
//	shakedown test --fleet fleet.yaml
//
// or, from a checkout, with go test (flags after -args):
//
//	go test ./suites/ -args --emulated cortex-m3 -ginkgo.label-filter=handshake
//
// Run declares the specs and runs them once per process; it is what
// `shakedown test` calls, with ginkgo's JUnit and JSON reporters set.
package suites
