package seed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"

	"shakedown/handshake"
)

// Key schedule (HKDF-SHA256, RFC 5869 §2):
//
//	PRK = HKDF-Extract(salt = "" , IKM = shared)
//	OKM = HKDF-Expand(PRK, info = "shakedown seed v1" || 0x00 || id, L = 32)
//	OKM[0:16]  AES-128-GCM key, device -> server
//	OKM[16:32] AES-128-GCM key, server -> device
//
// Records (handshake.RecordConn and handshake.CounterAEAD), one per frame:
//
//	2B  length, big-endian
//	nB  AES-128-GCM(key of the direction, nonce, plaintext, no AD): ciphertext || 16B tag
//	    nonce = 4B zero || 8B big-endian record counter, from 0 in each direction
const (
	KDFLabel = "shakedown seed v1"
	KeyLen   = 16 // AES-128
	okmLen   = 2 * KeyLen
)

// Side says which end of a session a RecordConn is.
type Side int

const (
	DeviceSide Side = iota // sends with the device -> server key
	ServerSide             // sends with the server -> device key
)

var errSharedLen = errors.New("seed: shared secret of the wrong length")

// DeriveKeys runs the key schedule on the ECDH shared secret (the
// x-coordinate, SharedLen bytes) and the device ID of msg1.
func DeriveKeys(shared []byte, deviceID string) (deviceToServer, serverToDevice []byte, err error) {
	info := make([]byte, 0, len(KDFLabel)+1+len(deviceID))
	info = append(append(append(info, KDFLabel...), 0x00), deviceID...)
	okm, err := hkdf.Key(sha256.New, shared, nil, string(info), okmLen)
	if err != nil {
		return nil, nil, fmt.Errorf("deriving keys: %w", err)
	}
	return okm[:KeyLen], okm[KeyLen:], nil
}

// NewSession returns the record layer of a session whose shared secret is
// known: what the two sides build after a handshake, and what the MITM lab
// builds once it has guessed or computed a shared secret.
func NewSession(conn net.Conn, shared []byte, deviceID string, side Side) (*handshake.RecordConn, error) {
	if len(shared) != P256.SharedLen() && len(shared) != Secp160r1.SharedLen() {
		return nil, errSharedLen
	}
	d2s, s2d, err := DeriveKeys(shared, deviceID)
	if err != nil {
		return nil, err
	}
	send, recv := d2s, s2d
	if side == ServerSide {
		send, recv = s2d, d2s
	}
	sc, err := counterAEAD(send)
	if err != nil {
		return nil, err
	}
	rc, err := counterAEAD(recv)
	if err != nil {
		return nil, err
	}
	return handshake.NewRecordConn(conn, handshake.Seed, sc, rc), nil
}

func counterAEAD(key []byte) (*handshake.CounterAEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	return &handshake.CounterAEAD{AEAD: aead}, nil
}
