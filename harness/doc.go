// Package harness drives boards over serial: it opens the port a board
// profile describes (go.bug.st/serial), finds boards by USB VID, PID and
// serial number (go.bug.st/serial/enumerator), resets them through the modem
// lines where the profile says so, and speaks the board protocol of
// docs/board-protocol.md (package harness/boardproto) with the agent on the
// board.
//
// Open a board, ask who it is, benchmark it:
//
//	b, err := harness.Open(ctx, "/dev/ttyACM0", opts) // opts from a board profile
//	defer b.Close()
//	info, err := b.Info(ctx)
//	res, err := b.Bench(ctx, boardproto.BenchRequest{Op: boardproto.BenchScalarMult,
//		Param: byte(boardproto.CurveX25519), Iterations: 4})
//
// Run a handshake in relay mode: the harness connects to the server and
// carries the board's handshake bytes in both directions, so it sits on the
// path between board and server; a Tap placed there sees, drops, alters or
// injects bytes (a MITM proxy is a Tap):
//
//	s, err := b.Handshake(ctx, harness.HandshakeOptions{Profile: handshake.Noise,
//		Server: "127.0.0.1:8885", Tap: tap})
//	err = s.Send(ctx, []byte("ping"))
//	reply, err := s.Receive(ctx)
//	s.Close()
//
// Session.Conn gives the session as a net.Conn, so that a protocol runs over
// the board unchanged: an MQTT client (paho's SetCustomOpenConnectionFn
// returning s.Conn()) publishes and subscribes through the board's session.
//
// Bytes on the line that are not frames (boot banners, debug prints, noise)
// are console output: CaptureConsole copies them to a writer, per test.
//
// The link survives the board: after a reset or a USB re-enumeration the
// board's port may vanish and come back under another name; the harness
// waits for a port with the same serial number (through an Enumerator, which
// tests replace, see package harness/serialtest) and reopens it. Failures are
// *handshake.Error values of stage boardproto.StageLink, StageCommand or
// StageRelay with stable reason codes.
package harness
