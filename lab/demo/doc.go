// Package demo is the whole story of shakedown on embedded defaults, as
// `shakedown demo` (and `make demo`) tells it:
//
//  1. a fixture set, and the reference server on loopback with it: SQLite
//     registry, embedded broker, every profile (the insecure ones too);
//  2. one device per profile: handshake, MQTT CONNECT, a PUBLISH that a
//     backend subscriber must receive;
//  3. virtual boards (and, where the toolchains and emulators are, the
//     agent firmware on emulated chips) running handshakes that the
//     harness relays to the server, and MQTT over the board's session;
//  4. the firmware's benchmark on the emulated chips;
//  5. a fleet of simulated devices against a fresh server;
//  6. the MITM matrix against the lab's server in process;
//  7. the results: boards.json, sim.json, mitm.json, run.json, a Markdown
//     summary (report.md) and an HTML report (report.html), all in one
//     folder, beside the fixtures and the two SQLite registries.
//
// Use it as the command does:
//
//	o := demo.DefaultOptions()
//	o.Dir, o.Out = "out/demo", os.Stdout
//	res, err := demo.Run(ctx, o)
//	switch {
//	case errors.Is(err, demo.ErrInterrupted): // the results so far are written, marked interrupted
//	case err != nil:                          // the demo could not set up: nothing ran
//	case res.Failures > 0 || !res.Summary.OK: // a part failed, or the verdict needs attention
//	}
//
// A part that fails (a device, a board, the fleet, the matrix) is counted
// in Result.Failures, printed and noted in the report, and the story goes
// on. A part whose tools are missing (the chips' toolchains, emulators or
// images) is skipped with a note. Nothing is left running when Run returns.
package demo
