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
//
// # One goroutine owns the link
//
// A Board is one state machine run by one goroutine, the link goroutine
// (link.go). It alone holds the port, the command in flight and the queue
// behind it, the event sequence, the relay's credit and the session's
// phase. Board methods, Session methods, the relay's conn and the port's
// own goroutines reach that state only by handing the link goroutine a
// request (Board.post); it runs them one at a time and never blocks on I/O,
// so a request is answered as soon as its outcome is known. Getters read a
// view the link goroutine publishes after every step.
//
// The port, up, finding or gone (port.go):
//
//	state    on                                   next
//	up       a read or a write fails              finding: the port closes, a relay ends (link_lost)
//	finding  a port with the serial number opens  up: the command in flight goes out again
//	finding  ReconnectTimeout, or no serial       gone: every request fails with link_lost
//	any      Close                                closed: every request fails
//
// What runs on the board, as the harness follows it (session.go, events.go):
//
//	phase      on                                    next
//	idle       Handshake (attach, then HANDSHAKE)    handshake
//	handshake  HANDSHAKE_DONE ok                     open: Handshake returns the Session
//	handshake  HANDSHAKE_DONE failed, relay mode     failing: the board's CLOSED is awaited
//	handshake  HANDSHAKE_DONE failed, network mode   over: Handshake fails
//	failing    CLOSED, BOOT, or a late CLOSED        over: Handshake fails with the board's reason
//	open       MESSAGE                               open: the payload goes to Receive
//	any        CLOSED, BOOT                          idle: the session ends with the reason
//	any        Session.Close, a failed Handshake     idle (CLOSE first when open)
//
// A failed relay handshake waits for its CLOSED (docs/board-protocol.md
// §5.5) at most the link's allowance, ResponseTimeout × (Retries+1), so that
// a late CLOSED cannot end the next handshake's relay. Any phase other than
// idle refuses a second Handshake as busy.
//
// In relay mode a relay runs beside the handshake and the session: the
// server's bytes go to the board in RELAY_DATA commands within the credit
// the board grants, the board's bytes (RELAY_DATA events) wait in the
// relay's conn for the tap. It ends when the board ends it (CLOSED, BOOT),
// the port goes away, an event is lost, or the tap returns; then the harness
// sends RELAY_CLOSE unless the board ended it.
//
// # Who owns each goroutine
//
// Board.wg counts them all. Close tells the link goroutine to stop; it
// closes the port and the relays' conns and cancels the board's context,
// and Close waits for every one of them:
//
//   - the link goroutine: started by Open, stopped by Close;
//   - a port's reader and writer: started by the link goroutine for each
//     port it puts the link on, ended by closing that port;
//   - the search for a port that went away: started when the port fails,
//     bounded by ReconnectTimeout and by Close;
//   - a relay's carrier (the Tap's Carry): started by the link goroutine
//     once the board accepted HANDSHAKE, ended by closing the relay's two
//     conns (Session.Close, a failed handshake, or Close); Session.Close
//     waits for its own carrier.
package harness
