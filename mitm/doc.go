// Package mitm is shakedown's attacker: a man-in-the-middle and replay
// proxy, its taps, and a catalogue of scenarios, each judged on every
// profile where it means something, with the evidence of each verdict. It
// sees only the wire: the server and the devices under test are
// interfaces of its own (Target, DeviceSource), which package lab
// implements with the reference server, simulated devices and boards.
//
// # The byte path
//
// A device's connection reaches the attacker as a Path: two
// io.ReadWriteClosers, the device's end and (dialled on demand) the
// server's, plus dials to any other listener. A PathSource hands out the
// paths of a device's connections. Proxy is the TCP one (devices dial its
// address instead of the server's); TapSource takes the paths of a board
// harness's relay, whose Carry(ctx, board, server) it implements, so the
// same scenario code runs on the serial relay path of a board (RelayByway
// is a cell's byway there); PipeByway runs it over in-memory pipes.
//
// On a path the attacker does what each scenario needs: a Relay carries
// the units of the profile's framing (2-byte-length frames for noise, seed
// and psk; TLS records for tls) through an Interceptor that may record,
// replay, alter, drop, reorder, truncate or reflect them, and records every
// unit it reads; or the attacker answers the device itself, with keys of
// its own or leaked ones (the profiles' own server code, holding the
// attacker's keys), with a TLS certificate of its choosing, or with a
// recorded session.
//
// # Scenarios and verdicts
//
// Catalogue lists the scenarios. Each has cells: a Column (a profile, and
// the device's variant: tls verification mode, seed curve and point check)
// with the expected outcome and the Source of that expectation (Noise
// rev. 34, the RFCs, the seed discussion's own argument). Matrix.Run runs
// the selected cells one at a time and returns the matrix as a
// reports.MITM: one reports.Verdict per cell, whose Evidence is the facts
// seen — the reason a device or the server refused, what the attacker
// read, what a side accepted, how often the backend received a message. A
// verdict is never assumed: "rejected" needs an observed refusal,
// "succeeded" needs recovered plaintext or an accepted message.
//
// # What a cell runs against
//
// A Matrix is given:
//
//   - a Target, the server as seen from outside: its listeners' addresses,
//     the refusals it logged, what its backend subscriber received, a way
//     to send a device a command, and the operator's hand on its noise
//     keys;
//   - a DeviceSource, the devices under test: for each column the fixture
//     device the cell runs as (a Victim: identity and keys), the cell's
//     Byway (a TCP Proxy that simulated devices dial, or a RelayByway for
//     a board's relay), fresh Devices on it, the cells that have no
//     meaning on these devices (outcome not_applicable, never a mismatch),
//     what a device said about its refusal, and its slack on every step;
//   - the lab's key Material: the noise server's keys, the tls server name
//     and the certificates the attacker presents.
//
// Package lab composes them; a test may give the matrix any of its own:
//
//	m := &mitm.Matrix{Target: srv, Devices: devs, Material: keys, TargetName: "in-process"}
//	res, err := m.Run(ctx, mitm.Selection{Columns: []string{"tls"}})
//	res.WriteText(os.Stdout, false)
//
// docs/security.md explains the matrix.
package mitm
