package psk_test

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
)

// fuzzKey is the PSK of psk-0001 in testdata/vectors.txt, so the seed corpus
// (the vector's exchange, and variations of it) reaches the records.
var fuzzKey, _ = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

// allowedTexts are the only texts a psk server error may carry after its
// reason: fixed messages, never bytes from the peer.
var allowedTexts = map[string]bool{
	"psk: msg1 shorter than its layout":                     true,
	"psk: unsupported msg1 version":                         true,
	"psk: device ID length out of range":                    true,
	"psk: device ID has a character outside [A-Za-z0-9._-]": true,
	"psk: bytes after the device ID":                        true,
	handshake.ErrOversizeFrame.Error():                      true,
	handshake.ErrEmptyFrame.Error():                         true,
	handshake.ErrUnknownDevice.Error():                      true,
	io.EOF.Error():                                          true,
	io.ErrUnexpectedEOF.Error():                             true,
	"record authentication failed":                          true,
	"record shorter than its tag":                           true,
}

// FuzzServer feeds an arbitrary device stream to the server side and reads
// the session to its end: every failure is a typed psk error with a fixed text.
func FuzzServer(f *testing.F) {
	dir := handshaketest.NewDirectory(
		handshake.DeviceRecord{ID: devID, Profile: handshake.PSK, Key: fuzzKey},
		handshake.DeviceRecord{ID: revokedID, Profile: handshake.PSK, Key: fuzzKey, Revoked: true},
		handshake.DeviceRecord{ID: noiseID, Profile: handshake.Noise, Key: fuzzKey},
	)
	srv := mustServer(dir)
	f.Add(session(mustDevice(devID, fuzzKey), deviceLine, serverLine))
	f.Fuzz(func(t *testing.T, in []byte) {
		conn, id, err := srv.Handshake(context.Background(), newMemConn(in))
		if err == nil {
			if id.DeviceID != devID || id.Profile != handshake.PSK {
				t.Fatalf("accepted identity %+v", id)
			}
			buf := make([]byte, 512)
			for err == nil {
				_, err = conn.Read(buf)
			}
		}
		checkError(t, err)
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var he *handshake.Error
	if !errors.As(err, &he) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	if he.Profile != handshake.PSK || he.Stage == "" || he.Reason == "" {
		t.Fatalf("incomplete error %+v", he)
	}
	if he.Err != nil && !allowedTexts[he.Err.Error()] {
		t.Fatalf("error text not in the fixed set: %q", he.Err.Error())
	}
}
