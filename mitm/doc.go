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
// fixture set, and returns Results: one Verdict per cell, whose Evidence
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
//	res.WriteFile("mitm.json") // the JSON shape is documented on Results
//
// docs/security.md explains the matrix.
package mitm
