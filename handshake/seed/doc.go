// Package seed is the seed discussion's ECDH design, exactly as its author
// wrote it. It is INSECURE BY DESIGN and kept only to reproduce its
// weaknesses in the MITM lab and to benchmark its cost on P-256 and on
// secp160r1 (the seed's "160-bit keys").
//
// The device sends its ID in plaintext; the server looks up the device's
// "public" point, answers with an ephemeral public point the device cannot
// authenticate, and both sides derive AES-128-GCM keys by HKDF-SHA256 from
// the x-coordinate of the ECDH product:
//
//	device -> server  msg1: version, curve, device ID (plaintext)
//	server -> device  msg2: ephemeral point E = e·G (unauthenticated)
//	shared = x(e·D) = x(d·E)      D = d·G is the device's "public" point
//	keys   = HKDF-SHA256(shared, info = "shakedown seed v1" || 0x00 || id)
//
// The design's only secret is the device's "public" point D (and d): whoever
// learns D can impersonate the server to that device and the device to the
// server, and read every session. There is no sender authentication of the
// server, no freshness from the device (msg1 and the device's side of a
// recorded session replay), no forward secrecy for the device's static key
// and no handshake integrity: a tampered handshake shows only when the first
// record fails to open.
//
// Usage:
//
//	priv, pub, err := seed.GenerateKey(seed.Secp160r1, nil) // pub goes to the registry
//	dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: "dev-1", Curve: seed.Secp160r1, Private: priv})
//	conn, err := handshake.Dial(ctx, dev, "tcp", addr)
//
//	srv, err := seed.NewServer(seed.ServerConfig{Directory: dir})
//	conn, id, err := srv.Handshake(ctx, raw)
//
// P-256 uses crypto/ecdh; secp160r1 uses the generic, non-constant-time
// arithmetic of package weierstrass with full point validation.
// DeviceConfig.SkipPointCheck makes a device that trusts any point it gets
// (the invalid-curve attack target; see InvalidCurvePoint).
package seed
