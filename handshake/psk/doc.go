// Package psk is the seed discussion's simpler design: "a pre-shared
// symmetric key for all communication". It is INSECURE BY DESIGN and kept
// only to reproduce its weaknesses in the MITM lab and to compare its cost.
//
// Every device holds one 256-bit pre-shared key (PSK), also stored in the
// server's registry. The device opens a session with a single plaintext
// message that names it; nothing comes back. Both sides then derive the same
// two AES-256-GCM keys from the PSK and the device ID alone:
//
//	device -> server  msg1: version 0x01, idlen, device ID (plaintext)
//	okm  = HKDF-SHA256(IKM = PSK, salt = "", info = "shakedown psk v1" || 0x00 || id, L = 64)
//	k_ds = okm[0:32]   device -> server records
//	k_sd = okm[32:64]  server -> device records
//
// The records are AES-256-GCM with counter nonces (4 zero bytes || 8-byte
// big-endian record number, from 0 in each direction), one record per frame
// (handshake.RecordConn over handshake.CounterAEAD).
//
// What the design lacks, on purpose: there is no freshness. The keys are the
// same in every session, so a recorded session replays to the server byte
// for byte, and every session reuses the nonces of the previous ones under
// the same key (NIST SP 800-38D §8: the keystream and the GHASH key leak).
// msg1 has no integrity of its own: a tampered msg1 either names no device or
// selects other keys, and the tampering shows only when the first record
// fails to open.
//
// Usage, device side:
//
//	dev, err := psk.NewDevice(psk.DeviceConfig{DeviceID: "psk-0001", Key: key})
//	conn, err := handshake.Dial(ctx, dev, "tcp", "gateway:8887")
//
// Server side (rec.Key of a psk device is its PSK):
//
//	srv, err := psk.NewServer(psk.ServerConfig{Directory: reg})
//	conn, id, err := srv.Handshake(ctx, raw)
//
// The example exchange of docs/protocol.md is checked in as
// testdata/vectors.txt, computed from the specification by
// internal/vectorgen with primitives independent of this package.
package psk

//go:generate go run ./internal/vectorgen -o testdata/vectors.txt
