// Package handshake is the common ground of shakedown's protocol profiles.
//
// A profile (noise, seed, psk, tls) turns a raw net.Conn into a net.Conn that
// carries application bytes (MQTT, in practice). Every profile has two sides:
//
//	dev := noise.NewDevice(cfg)                 // a Device
//	conn, err := handshake.Dial(ctx, dev, "tcp", "gw:8885")
//
//	srv := noise.NewServer(scfg)                // a Server
//	conn, id, err := srv.Handshake(ctx, raw)    // id.DeviceID is authenticated
//
// Both sides take a context whose deadline bounds the handshake: it is applied
// to the conn while the handshake runs and cleared afterwards.
//
// The framed profiles (noise, seed, psk) share the wire framing of this package:
// every message is a 2-byte big-endian length followed by that many bytes
// (ReadFrame, WriteFrame), and the session after the handshake is a RecordConn,
// one sealed record per frame.
//
// Failures are *Error values carrying the profile, the stage and a Reason code.
// Reason codes are stable strings, used as metric labels and report columns.
// Errors never contain bytes received from the peer. reasons.go declares the
// reason codes of the whole project, the server's, the simulator's and the
// board link's too, once each (docs/protocol.md, "Reason codes").
//
// The server side finds devices through a Directory and enforces message-1
// freshness through a CounterStore; the registry of package server implements
// both, and package handshaketest has in-memory ones for tests.
package handshake
