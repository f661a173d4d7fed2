// Package mitm is shakedown's man-in-the-middle and replay lab: an attack
// proxy and a catalogue of scenarios, each judged on every profile where it
// means something, with the evidence of each verdict.
//
// # The byte path
//
// A device's connection reaches the attacker as a Path: two
// io.ReadWriteClosers, the device's end and (dialled on demand) the
// server's, plus dials to any other listener. A PathSource hands out the
// paths of a device's connections. Proxy is the TCP one (devices dial its
// address instead of the server's); TapSource takes the paths of a board
// harness's relay, whose Carry(ctx, board, server) it implements, so the
// same scenario code runs on the serial relay path of a board; PipeByway
// runs it over in-memory pipes.
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
// with the expected Outcome and the Source of that expectation (Noise
// rev. 34, the RFCs, the seed discussion's own argument). Lab.Run runs the
// selected cells one at a time against a Target (package mitm/labserver
// runs the reference server in process) with simulated devices from a
// fixture set, or a board, and returns the matrix as a reports.MITM: one
// reports.Verdict per cell, whose Evidence
// is the Facts seen — the reason a device or the server refused, what the
// attacker read, what a side accepted, how often the backend received a
// message. A verdict is never assumed: "rejected" needs an observed
// refusal, "succeeded" needs recovered plaintext or an accepted message.
//
//	srv, err := labserver.Start(set, nil)
//	defer srv.Close()
//	lab := &mitm.Lab{Set: set, Target: srv, TargetName: "in-process"}
//	res, err := lab.Run(ctx, mitm.Selection{Columns: []string{"tls"}})
//	res.WriteText(os.Stdout, false)
//	res.WriteFile("mitm.json") // the JSON shape is documented on reports.MITM
//
// # On a board
//
// With Lab.Board set, each cell's device is that board instead of a
// simulated one: before each device of a cell the lab provisions it with
// the cell's fixture device (keys, pins, curve, tls mode, a message-1
// counter above any the server saw), and runs its handshake in relay mode
// through Board.Handshake with the cell's TapSource as the tap, so every
// attacker action acts on the board's relay bytes; MQTT runs over the
// session's Conn. Only the harness API and the board's INFO are used, so
// the board may be the virtual one, an emulated chip or a real board. Cells
// the board cannot run (a profile or curve its INFO lacks, the seed device
// that skips point validation, the tls ca modes unless BoardTrustsSetCA)
// get the outcome reports.NotApplicable with the reason, in the matrix's
// NotApplicable;
// they are never a mismatch. Where the board refused, its log and console
// output are kept as evidence (FactLog).
//
//	b, err := harness.Open(ctx, port, opts)
//	lab := &mitm.Lab{Set: set, Target: srv, TargetName: "in-process", Board: b}
//	res, err := lab.Run(ctx, mitm.Selection{})
//
// docs/security.md explains the matrix.
package mitm
