package boardproto

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"shakedown/handshake"
)

// PROVISION carries a list of TLV fields, each
//
//	1B: tag
//	1B: length N
//	NB: value
//
// The board checks every field, then applies them all and writes them to
// non-volatile storage, or applies none. Fields absent from the command keep
// their stored value. The response body is 1B: the tag of the first refused
// field, 0 when all were taken (it follows the Status byte also when the
// status is not StatusOK).
const (
	TagProfile       = 0x01 // 1B ProfileCode the identity below belongs to
	TagDeviceID      = 0x02 // 1-64B device ID, [A-Za-z0-9._-]
	TagDeviceKey     = 0x03 // device private key: 32B (X25519, P-256, psk key, tls client key's Ed25519 seed) or 21B (secp160r1)
	TagServerKey     = 0x04 // 32B pinned server static public key (noise: current)
	TagServerKeyNext = 0x05 // 32B pinned next server key (noise rollover)
	TagCounter       = 0x06 // 8B big-endian: last message-1 counter used; the next handshake sends more
	TagCurve         = 0x07 // 1B Curve (seed)
	TagTLSVerify     = 0x08 // 1B TLSVerify (tls)
	TagTLSPin        = 0x09 // 20B SHA-1 or 32B SHA-256 of the server certificate, or 32B SHA-256 of its SPKI (tls)
	TagServerName    = 0x0A // 1-64B server name for TLS SNI and certificate checks (tls)
	TagNoisePattern  = 0x0B // 1B NoisePattern
	TagRNGSeed       = 0x0C // 32B random bytes the board mixes into its random generator and the seed it stores; no identity's
	TagErase         = 0x7F // 0B: wipe the stored identity before applying the rest
)

const tlvHeaderLen = 2

// RNGSeedLen is the length of TagRNGSeed's value.
const RNGSeedLen = 32

// TLSVerify is the device's check of the server certificate (tls profile).
type TLSVerify byte

const (
	TLSVerifyNone        TLSVerify = 1
	TLSVerifyFingerprint TLSVerify = 2
	TLSVerifySPKI        TLSVerify = 3
	TLSVerifyCA          TLSVerify = 4
	TLSVerifyCANoClock   TLSVerify = 5
	TLSVerifyCANTP       TLSVerify = 6 // the chain at the time an SNTP server named
	TLSVerifyCARoughtime TLSVerify = 7 // the chain at the time a pinned Roughtime server signed
)

// NoisePattern selects the Noise pattern of the noise profile.
type NoisePattern byte

const (
	NoiseIK NoisePattern = 1
	NoiseXK NoisePattern = 2
	NoiseKK NoisePattern = 3
)

// The names of the TLSVerify and NoisePattern codes, indexed by code: the
// words of package tlsprofile's modes and of the Noise patterns.
var (
	tlsVerifyNames = codeNames{TLSVerifyNone: "none", TLSVerifyFingerprint: "fingerprint",
		TLSVerifySPKI: "spki", TLSVerifyCA: "ca", TLSVerifyCANoClock: "ca-noclock",
		TLSVerifyCANTP: "ca-ntp", TLSVerifyCARoughtime: "ca-roughtime"}
	noisePatternNames = codeNames{NoiseIK: "IK", NoiseXK: "XK", NoiseKK: "KK"}
)

func (v TLSVerify) String() string { return tlsVerifyNames.name(byte(v), "tlsverify_") }

// ParseTLSVerify returns the mode named s: none, fingerprint, spki, ca,
// ca-noclock, ca-ntp or ca-roughtime.
func ParseTLSVerify(s string) (TLSVerify, bool) {
	c, ok := tlsVerifyNames.code(s)
	return TLSVerify(c), ok
}

func (p NoisePattern) String() string { return noisePatternNames.name(byte(p), "pattern_") }

// ParseNoisePattern returns the pattern named s: IK, XK or KK.
func ParseNoisePattern(s string) (NoisePattern, bool) {
	c, ok := noisePatternNames.code(s)
	return NoisePattern(c), ok
}

// codeNames names the codes of a one-byte field by index; code 0 has no
// name.
type codeNames []string

func (n codeNames) name(c byte, prefix string) string {
	if int(c) < len(n) && n[c] != "" {
		return n[c]
	}
	return prefix + hexByte(c)
}

func (n codeNames) code(s string) (byte, bool) {
	for c, name := range n {
		if name != "" && name == s {
			return byte(c), true
		}
	}
	return 0, false
}

// Provision is the content of one or more PROVISION commands.
type Provision struct {
	Erase         bool
	Profile       handshake.Name
	DeviceID      string
	DeviceKey     []byte
	ServerKey     []byte
	ServerKeyNext []byte
	Counter       *uint64
	Curve         Curve
	TLSVerify     TLSVerify
	TLSPin        []byte
	ServerName    string
	NoisePattern  NoisePattern
	// RNGSeed, when set, is RNGSeedLen fresh random bytes (NewRNGSeed):
	// the board mixes them into its generator at once and into the seed
	// it keeps, so two boards flashed with the same image no longer draw
	// the same ephemeral keys. It belongs to no identity; erase keeps it.
	RNGSeed []byte
}

// NewRNGSeed returns RNGSeedLen bytes from crypto/rand for Provision.RNGSeed.
func NewRNGSeed() ([]byte, error) {
	s := make([]byte, RNGSeedLen)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("boardproto: reading a random seed: %w", err)
	}
	return s, nil
}

// Payloads returns the fields of p as PROVISION payloads of at most max
// bytes each, erase first, in tag order.
func (p Provision) Payloads(max int) ([][]byte, error) {
	var fields [][]byte
	add := func(tag byte, v []byte) { fields = append(fields, append([]byte{tag, byte(len(v))}, v...)) }
	if p.Erase {
		add(TagErase, nil)
	}
	if p.Profile != "" {
		add(TagProfile, []byte{byte(ProfileCodeOf(p.Profile))})
	}
	if p.DeviceID != "" {
		add(TagDeviceID, []byte(p.DeviceID))
	}
	if p.DeviceKey != nil {
		add(TagDeviceKey, p.DeviceKey)
	}
	if p.ServerKey != nil {
		add(TagServerKey, p.ServerKey)
	}
	if p.ServerKeyNext != nil {
		add(TagServerKeyNext, p.ServerKeyNext)
	}
	if p.Counter != nil {
		add(TagCounter, binary.BigEndian.AppendUint64(nil, *p.Counter))
	}
	if p.Curve != 0 {
		add(TagCurve, []byte{byte(p.Curve)})
	}
	if p.TLSVerify != 0 {
		add(TagTLSVerify, []byte{byte(p.TLSVerify)})
	}
	if p.TLSPin != nil {
		add(TagTLSPin, p.TLSPin)
	}
	if p.ServerName != "" {
		add(TagServerName, []byte(p.ServerName))
	}
	if p.NoisePattern != 0 {
		add(TagNoisePattern, []byte{byte(p.NoisePattern)})
	}
	if p.RNGSeed != nil {
		add(TagRNGSeed, p.RNGSeed)
	}
	var out [][]byte
	var cur []byte
	for _, f := range fields {
		if len(f) > max || len(f) > tlvHeaderLen+0xFF {
			return nil, errTLVTooLong
		}
		if len(cur)+len(f) > max {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, f...)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out, nil
}

var (
	errTLVTooLong = errors.New("boardproto: provisioning field longer than a payload")
	errTLV        = errors.New("boardproto: provisioning field refused")
)

// ParseProvision decodes one PROVISION payload into p, which holds the
// fields of earlier payloads. On failure it returns the offending tag (0 when
// the TLV structure itself is broken) and p unchanged.
func ParseProvision(payload []byte, p Provision) (Provision, byte, error) {
	next := p
	for len(payload) > 0 {
		if len(payload) < tlvHeaderLen {
			return p, 0, short()
		}
		tag, n := payload[0], int(payload[1])
		if len(payload) < tlvHeaderLen+n {
			return p, 0, short()
		}
		v := payload[tlvHeaderLen : tlvHeaderLen+n]
		payload = payload[tlvHeaderLen+n:]
		if !applyTLV(&next, tag, v) {
			return p, tag, malformed(errTLV)
		}
	}
	return next, 0, nil
}

func applyTLV(p *Provision, tag byte, v []byte) bool {
	switch tag {
	case TagErase:
		if len(v) != 0 {
			return false
		}
		*p = Provision{Erase: true}
	case TagProfile:
		if len(v) != 1 || ProfileCode(v[0]).Name() == "" {
			return false
		}
		p.Profile = ProfileCode(v[0]).Name()
	case TagDeviceID:
		if !validDeviceID(v) {
			return false
		}
		p.DeviceID = string(v)
	case TagDeviceKey:
		if len(v) != 32 && len(v) != 21 {
			return false
		}
		p.DeviceKey = append([]byte(nil), v...)
	case TagServerKey, TagServerKeyNext, TagTLSPin:
		if len(v) != 32 && !(tag == TagTLSPin && len(v) == 20) {
			return false
		}
		k := append([]byte(nil), v...)
		switch tag {
		case TagServerKey:
			p.ServerKey = k
		case TagServerKeyNext:
			p.ServerKeyNext = k
		default:
			p.TLSPin = k
		}
	case TagCounter:
		if len(v) != 8 {
			return false
		}
		c := binary.BigEndian.Uint64(v)
		p.Counter = &c
	case TagCurve:
		if len(v) != 1 || curveNames[Curve(v[0])] == "" {
			return false
		}
		p.Curve = Curve(v[0])
	case TagTLSVerify:
		if len(v) != 1 || v[0] < byte(TLSVerifyNone) || v[0] > byte(TLSVerifyCARoughtime) {
			return false
		}
		p.TLSVerify = TLSVerify(v[0])
	case TagServerName:
		if len(v) == 0 || len(v) > HostMax || !printable(v) {
			return false
		}
		p.ServerName = string(v)
	case TagNoisePattern:
		if len(v) != 1 || v[0] < byte(NoiseIK) || v[0] > byte(NoiseKK) {
			return false
		}
		p.NoisePattern = NoisePattern(v[0])
	case TagRNGSeed:
		if len(v) != RNGSeedLen {
			return false
		}
		p.RNGSeed = append([]byte(nil), v...)
	default:
		return false
	}
	return true
}

func validDeviceID(v []byte) bool {
	if len(v) == 0 || len(v) > DeviceIDMax {
		return false
	}
	for _, b := range v {
		ok := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-'
		if !ok {
			return false
		}
	}
	return true
}
