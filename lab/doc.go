// Package lab puts the pieces of a MITM run together: a server to attack
// (package lab/labserver runs the reference server in process), the
// devices under test (simulated devices built from a fixture set, or a
// board driven through package harness) and the attacker (package mitm's
// proxy, taps and scenario matrix). Package mitm knows neither servers nor
// devices: it runs against the interfaces mitm.Target and
// mitm.DeviceSource, and Lab implements the second.
//
// # The matrix with simulated devices
//
// Build or load a fixture set, start the lab's server for it, and run the
// matrix (or part of it: a mitm.Selection picks scenarios and columns):
//
//	set, err := fixtures.Build(fixtures.Options{Seed: "shakedown"})
//	srv, err := labserver.Start(set, nil)
//	defer srv.Close()
//	l := &lab.Lab{Set: set, Target: srv, TargetName: "in-process"}
//	res, err := l.Run(ctx, mitm.Selection{Columns: []string{"tls"}})
//	res.WriteText(os.Stdout, false) // the matrix and the evidence that matters
//	res.WriteFile("mitm.json")      // format shakedown-mitm/1 (reports.MITM)
//
// Each cell gets a fresh device of its column, built from the column's
// fixture device (the first of its profile; for a seed device that skips
// point validation, one with an odd key), which dials a TCP proxy on
// 127.0.0.1 (mitm.TCPByway) instead of the server: the attacker stands on
// every byte. Set Lab.NewByway to put the same devices on another byte
// path (mitm.NewPipeByway: in-memory pipes, as a board's relay carries
// them). A noise device's message-1 counter is shared by every device of
// its ID, so it keeps growing across cells, as a real device's does.
//
// # The matrix on a board
//
// Open a board with package harness and set Lab.Board: each device of a
// cell is then that board, provisioned with the cell's fixture device
// (keys, pins, curve, tls mode, a message-1 counter above any the server
// saw), its handshake run in relay mode through the harness with the
// attacker on the relay path (mitm.RelayByway); MQTT runs over the
// session. Only the harness API and the board's INFO are used, so the
// board may be the virtual one, an emulated chip or a real one:
//
//	b, err := harness.Open(ctx, port, prof.Options())
//	srv, err := labserver.StartOptions(set, labserver.Options{
//		HandshakeTimeout: labserver.HandshakeTimeout + prof.LongestLimit()})
//	l := &lab.Lab{Set: set, Target: srv, TargetName: "uno", Board: b,
//		BoardSlack: prof.LongestLimit()}
//	res, err := l.Run(ctx, mitm.Selection{})
//
// A slow board takes its slack on every step (Lab.BoardSlack) and on the
// server's handshake deadline: it computes its first message after the
// harness has connected. Cells the board cannot run (a profile or curve
// its INFO lacks, the seed device that skips point validation, the tls ca
// modes unless Lab.BoardTrustsSetCA, the network-clock modes unless also
// Lab.BoardAsksTimeGate) get the outcome not_applicable with
// the reason, in the matrix's NotApplicable list; they are never a
// mismatch. Where the board refused, its log and console output are kept
// as evidence (fact kind log). The virtual board trusts the fixture set's
// CA when started with the set's roots and Set.BuildDate() as its clock,
// and asks the lab's time gate when started with its addresses and the
// set's Roughtime key (virtual.Config.Clocks; make the gate first with
// mitm.NewTimeGate and give it as Lab.Time).
//
// # Other users of the lab's server
//
// The suites talk to the same server without the matrix: a device or board
// of profile p dials labserver.Server.AddrOf(p), and the server's Events
// and Count show what it refused and what its backend received.
package lab
