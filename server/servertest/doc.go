// Package servertest runs the reference server in process for tests and
// the lab: a gateway with one listener per profile on 127.0.0.1, the
// embedded broker behind it, and an in-memory device directory. It is built
// with the same code as `shakedown serve` (server.NewStack); only the
// registry is replaced, by a handshaketest.Directory.
//
// A spec starts one from a fixture set and connects devices to its
// listeners:
//
//	srv, err := servertest.Start(servertest.Options{
//		Devices:      set.Records(),
//		Passwords:    set.Passwords(),
//		NoiseCurrent: set.NoiseCurrent,
//		Certificate:  set.Broker,
//		Subscriber:   inbox.Receive, // inbox := &servertest.Inbox{}
//	})
//	if err != nil { ... }
//	defer srv.Close()
//	addr := srv.Addr(handshake.Noise)
//
// The zero Options listen for every profile with no per-source rate limit
// (specs connect many devices from one address) and a handshake deadline
// of DefaultHandshakeTimeout, generous for a loaded machine and a slow
// board. Server.Handshakes and Server.Refused tell what the gateways made
// of each handshake, whatever Observer the spec gave; Server.Directory
// revokes devices and holds their counters; Server.Broker publishes
// commands to devices.
//
// A test of what lies below MQTT gives a Sink instead of the broker: Echo
// answers every message of a session, for a board's secure channel. Listen
// adds a listener of a profile that already has one, on a gateway of its
// own in front of the same sink: the lab's tls listeners with a renewed or
// a rolled broker certificate.
//
// Close stops every goroutine the Server started; it is safe to call twice.
package servertest
