// Package labserver is the MITM lab's target: the reference server (the
// gateway of package server and its embedded broker, as package
// server/servertest builds them) run in process on 127.0.0.1 for a fixture
// set, with what the lab needs to judge attacks:
//
//   - a listener per profile, and two more tls listeners whose broker
//     certificate was renewed with the same key (tls-renewed) and rolled
//     over to a new key (tls-rolled);
//   - a log of every refusal: failed handshakes with their reason (from the
//     gateway's Observer) and sessions that ended on an error, such as a
//     record that did not open (from the Sink);
//   - a backend subscriber on devices/# and a way to send devices commands;
//   - the noise server's static keys, which a scenario rolls over.
//
// It is the matrix's mitm.Target, and the server the suites' handshake,
// replay and fleet specs talk to without the matrix. It assembles no
// gateway or broker itself: servertest does, as for every in-process
// server. Usage:
//
//	srv, err := labserver.Start(set, nil)
//	defer srv.Close()
//	l := &lab.Lab{Set: set, Target: srv, TargetName: "in-process"}
//	res, err := l.Run(ctx, mitm.Selection{})
package labserver
