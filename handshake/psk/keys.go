package psk

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"

	"shakedown/handshake"
)

// Key schedule (RFC 5869, HKDF-SHA256):
//
//	okm  = HKDF(IKM = PSK, salt = empty, info = InfoLabel || 0x00 || id, L = 64)
//	k_ds = okm[0:32]   AES-256-GCM, device -> server
//	k_sd = okm[32:64]  AES-256-GCM, server -> device
const (
	InfoLabel = "shakedown psk v1"
	KeyLen    = 32 // the PSK and each AES-256 key
	TagLen    = 16 // the AES-GCM tag of every record
	okmLen    = 2 * KeyLen
)

// Info returns the HKDF info of device id: InfoLabel || 0x00 || id.
func Info(id string) string { return InfoLabel + "\x00" + id }

// DeriveKeys returns the record keys of device id: device -> server and
// server -> device. They are the same in every session.
func DeriveKeys(key []byte, id string) (ds, sd []byte, err error) {
	okm, err := hkdf.Key(sha256.New, key, nil, Info(id), okmLen)
	if err != nil {
		return nil, nil, err
	}
	return okm[:KeyLen], okm[KeyLen:], nil
}

// newRecordCipher returns the counter-nonce AES-256-GCM of one direction.
func newRecordCipher(key []byte) (*handshake.CounterAEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &handshake.CounterAEAD{AEAD: aead}, nil
}

// side names which direction a session sends in.
type side bool

const (
	deviceSide side = false
	serverSide side = true
)

// session derives the keys of device id and wraps conn in its records.
func session(conn handshakeConn, key []byte, id string, s side) (*handshake.RecordConn, error) {
	ds, sd, err := DeriveKeys(key, id)
	if err != nil {
		return nil, err
	}
	cds, err := newRecordCipher(ds)
	if err != nil {
		return nil, err
	}
	csd, err := newRecordCipher(sd)
	if err != nil {
		return nil, err
	}
	if s == serverSide {
		return handshake.NewRecordConn(conn, handshake.PSK, csd, cds), nil
	}
	return handshake.NewRecordConn(conn, handshake.PSK, cds, csd), nil
}
