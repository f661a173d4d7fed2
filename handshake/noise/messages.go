package noise

//go:generate go run ./vectorgen -o testdata/vectors.json

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/flynn/noise"

	"shakedown/handshake"
)

// Spec constants: the Noise framework's sizes for 25519, ChaChaPoly, SHA256.
const (
	KeyLen = 32 // DHLEN: X25519 public and private keys (Noise §12.1)
	TagLen = 16 // ChaChaPoly authentication tag (Noise §12.3)
)

// Profile constants: fixed by docs/protocol.md; changing one is a new protocol version.
const (
	// CounterLen is the size of message 1's payload: the device's counter,
	// 8 bytes big-endian.
	CounterLen = 8

	// MaxCounter is the greatest message-1 counter. A device's counters run
	// from 1 (the registry holds 0 for a device that never connected) to
	// MaxCounter.
	MaxCounter uint64 = CounterReserved - 1

	// CounterReserved is the one counter value no device sends and no
	// server accepts: 2^64-1, what a counter read from erased flash (all
	// bits one) gives. Accepted, it would leave no greater counter and lock
	// the device out for good.
	CounterReserved uint64 = math.MaxUint64

	// AnnouncementVersion is the first byte of message 2's payload.
	AnnouncementVersion = 0x01

	// AnnouncementLen is the size of message 2's payload:
	//
	//	1B:  version (AnnouncementVersion)
	//	32B: current server static public key
	//	32B: next server static public key, all zero when none is announced
	AnnouncementLen = 1 + KeyLen + KeyLen

	// HelloVersion is the first byte of the KK hello frame.
	HelloVersion = 0x01

	// MaxDeviceIDLen bounds the device ID of the KK hello frame.
	MaxDeviceIDLen = 64

	// RekeyInterval is the number of transport messages after which each
	// direction's CipherState rekeys (Noise §11.3).
	RekeyInterval = 1 << 16
)

// Message sizes on the wire (without the 2-byte frame header).
const (
	// IK   -> e, es, s, ss   : 32 e | 32+16 s | 8+16 counter
	MsgLenIK1 = KeyLen + KeyLen + TagLen + CounterLen + TagLen
	// IK   <- e, ee, se      : 32 e | 65+16 announcement
	MsgLenIK2 = KeyLen + AnnouncementLen + TagLen
	// XK   -> e, es          : 32 e | 0+16 empty payload
	MsgLenXK1 = KeyLen + TagLen
	// XK   <- e, ee          : 32 e | 65+16 announcement
	MsgLenXK2 = KeyLen + AnnouncementLen + TagLen
	// XK   -> s, se          : 32+16 s | 8+16 counter
	MsgLenXK3 = KeyLen + TagLen + CounterLen + TagLen
	// KK   -> e, es, ss      : 32 e | 8+16 counter
	MsgLenKK1 = KeyLen + CounterLen + TagLen
	// KK   <- e, ee, se      : 32 e | 65+16 announcement
	MsgLenKK2 = KeyLen + AnnouncementLen + TagLen
)

// Prologue is mixed into every handshake (Noise §6): it names this protocol
// so a handshake cannot be mistaken for another protocol's. KK appends the
// device ID of the hello frame.
var Prologue = []byte("shakedown/1")

// Pattern selects the Noise handshake pattern.
type Pattern string

const (
	IK Pattern = "IK" // recommended and default
	XK Pattern = "XK" // for comparison: device identity hidden until message 3
	KK Pattern = "KK" // for comparison: both statics known beforehand
)

// CipherSuite is the fixed suite of the profile: 25519 (one scalar
// multiplication per DH, see dh.go), ChaChaPoly, SHA256.
var CipherSuite = noise.NewCipherSuite(dh25519{}, noise.CipherChaChaPoly, noise.HashSHA256)

// ProtocolName returns the full Noise protocol name of a pattern, such as
// Noise_IK_25519_ChaChaPoly_SHA256.
func (p Pattern) ProtocolName() string {
	return "Noise_" + string(p) + "_" + string(CipherSuite.Name())
}

func (p Pattern) handshakePattern() (noise.HandshakePattern, error) {
	switch p {
	case IK, "":
		return noise.HandshakeIK, nil
	case XK:
		return noise.HandshakeXK, nil
	case KK:
		return noise.HandshakeKK, nil
	}
	return noise.HandshakePattern{}, fmt.Errorf("noise: unknown pattern %q (want IK, XK or KK)", string(p))
}

// ParsePattern returns the pattern named s.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern(s)
	if _, err := p.handshakePattern(); err != nil {
		return "", err
	}
	return p, nil
}

// Announcement is message 2's payload: the server keys a device should pin.
type Announcement struct {
	Current []byte
	Next    []byte // nil when no next key is announced
}

// AppendAnnouncement appends the wire form of a to dst.
func AppendAnnouncement(dst []byte, a Announcement) []byte {
	dst = append(dst, AnnouncementVersion)
	dst = append(dst, a.Current...)
	if a.Next == nil {
		var zero [KeyLen]byte
		return append(dst, zero[:]...)
	}
	return append(dst, a.Next...)
}

var errAnnouncement = errors.New("malformed key announcement")

// ParseAnnouncement decodes message 2's payload.
func ParseAnnouncement(b []byte) (Announcement, error) {
	if len(b) != AnnouncementLen || b[0] != AnnouncementVersion {
		return Announcement{}, errAnnouncement
	}
	a := Announcement{Current: append([]byte(nil), b[1:1+KeyLen]...)}
	next := b[1+KeyLen:]
	if !allZero(next) {
		a.Next = append([]byte(nil), next...)
	}
	if allZero(a.Current) {
		return Announcement{}, errAnnouncement
	}
	return a, nil
}

// AppendCounter appends message 1's payload (the counter, big-endian) to dst.
func AppendCounter(dst []byte, c uint64) []byte { return binary.BigEndian.AppendUint64(dst, c) }

// AppendHello appends the KK hello frame's body to dst:
//
//	1B: version (HelloVersion)
//	1B: ID length L, 1..MaxDeviceIDLen
//	LB: device ID
func AppendHello(dst []byte, id string) []byte {
	dst = append(dst, HelloVersion, byte(len(id)))
	return append(dst, id...)
}

var errHello = errors.New("malformed hello")

func parseHello(b []byte) (string, error) {
	if len(b) < 3 || b[0] != HelloVersion || int(b[1]) != len(b)-2 || int(b[1]) > MaxDeviceIDLen {
		return "", errHello
	}
	id := string(b[2:])
	if !handshake.ValidDeviceID(id) {
		return "", errHello
	}
	return id, nil
}

func allZero(b []byte) bool {
	var acc byte
	for _, x := range b {
		acc |= x
	}
	return acc == 0
}

func kkPrologue(id string) []byte {
	return append(append([]byte(nil), Prologue...), id...)
}
