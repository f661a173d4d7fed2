// Command agentvec writes the C header of test vectors for the firmware's
// protocol code: the noise device (noise/), the seed and psk devices
// (seed/), AES and AES-GCM (crypto/aes.c, crypto/gcm.c) and the board
// agent's frame codec (agent/). The host tests under
// boards/firmware/test/agent check the C code against it.
//
// The values come from files the Go side of the project checks in and
// verifies, and from implementations independent of the C code:
//
//   - handshake/noise/testdata/vectors.json (the profile's IK vector, made
//     with github.com/flynn/noise), and REKEY vectors computed here with
//     flynn/noise's CipherState (SetNonce, Rekey) on the same handshake;
//   - handshake/seed/testdata/vectors.json (both curves) and
//     handshake/psk/testdata/vectors.txt;
//   - Go's crypto/aes and crypto/cipher GCM, on inputs from a fixed-seed
//     ChaCha8 generator;
//   - harness/boardproto/testdata/frames.txt, the worked examples of
//     docs/board-protocol.md §9.
//
// Regenerate after changing a source file or the generator:
//
//	go run ./boards/firmware/test/agentvec -o boards/firmware/test/agent/vectors.h
//
// `make generate` (go generate) runs the same.
//
// The package test fails when the checked-in header differs from what the
// generator prints, so a stale header cannot pass unnoticed.
package main

//go:generate go run . -o ../agent/vectors.h
