// Command vectorgen writes the C header of generated test vectors used by
// the firmware's host tests (boards/firmware/test/vectors/generated.h).
//
// Every expected value comes from an implementation independent of the C
// code under test: Go's crypto/sha256, crypto/hmac and crypto/ecdh,
// golang.org/x/crypto/curve25519, github.com/flynn/noise for the Noise
// ChaChaPoly cipher (Noise revision 34 §12.3 nonce) and a math/big
// short-Weierstrass implementation in this command for secp160r1, which
// no Go library offers (SEC 2 v1.0 §2.4.2). The inputs are drawn from a
// fixed-seed ChaCha8 generator, so the output is the same on every run.
//
// Regenerate after changing the generator:
//
//	go run ./boards/firmware/test/vectorgen -o boards/firmware/test/vectors/generated.h
//
// `make generate` (go generate) runs the same.
//
// The package test fails when the checked-in header differs from what the
// generator prints.
package main

//go:generate go run . -o ../vectors/generated.h
