package credential

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Scheme names how a stored hash was made. Schemes are metric labels.
type Scheme string

// The schemes of stored hashes.
const (
	// SchemeHMAC is a machine password: HMAC-SHA-256 under the server key.
	SchemeHMAC Scheme = "hmac-sha256"
	// SchemeArgon2id is an imported argon2id hash (RFC 9106).
	SchemeArgon2id Scheme = "argon2id"
	// SchemeBcrypt is an imported bcrypt hash.
	SchemeBcrypt Scheme = "bcrypt"
	// SchemePBKDF2 is an imported mosquitto 2.x hash ($7$): PBKDF2 with
	// HMAC-SHA512 (RFC 8018 §5.2).
	SchemePBKDF2 Scheme = "pbkdf2-sha512"
	// SchemeNone is no stored hash: the device is unknown, has no password,
	// or its hash does not parse. Check then runs the dummy hash.
	SchemeNone Scheme = "none"
)

// Slow reports whether a hash of the scheme is verified in a slow-hash
// slot: every scheme for imported human passwords.
func (s Scheme) Slow() bool {
	return s == SchemeArgon2id || s == SchemeBcrypt || s == SchemePBKDF2
}

// Bounds on the parameters of a stored slow hash, so that a corrupted or
// hostile hash cannot make one verification take unbounded memory or time.
// One slot holds at most argonMaxMemory: the slow path's memory is bounded
// by the slot count times that.
const (
	argonMaxMemory  = 64 * 1024 // KiB: RFC 9106 §4's second recommended option
	argonMaxTime    = 16
	argonMaxThreads = 16
	argonMinSaltLen = 8 // RFC 9106 §3.1: S is at least 8 bytes
	argonMaxSaltLen = 64
	argonMinTagLen  = 16
	argonMaxTagLen  = 64
	// bcryptMaxCost bounds the work of one bcrypt check to 2^14 rounds of
	// its key schedule (about a second); the default cost is 10.
	bcryptMaxCost = 14
	// bcryptHashLen is the length of a modular-crypt bcrypt hash:
	// 4b: "$2b$" // 2b: cost // 1b: "$" // 22b: salt // 31b: hash
	bcryptHashLen = 60
	// pbkdf2MaxIterations bounds one mosquitto hash check (mosquitto_passwd
	// writes 101 iterations).
	pbkdf2MaxIterations = 1_000_000
	pbkdf2MinSaltLen    = 8 // RFC 8018 §4.1: at least eight octets
	pbkdf2MaxSaltLen    = 64
	pbkdf2TagLen        = sha512.Size // mosquitto stores the whole SHA-512 block
)

// Text forms of the schemes.
const (
	// phcArgon2id opens the PHC string format of an argon2id hash, as the
	// reference implementation writes it:
	//
	//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt, base64 without padding>$<tag, base64 without padding>
	phcArgon2id = "argon2id"
	// argonVersion is Argon2 version 0x13 (RFC 9106 §3.1), written in decimal.
	argonVersion = argon2.Version
	// mosquittoPBKDF2 opens mosquitto's PBKDF2-SHA512 hash:
	//
	//	$7$<iterations>$<salt, base64 with padding>$<64-byte hash, base64 with padding>
	mosquittoPBKDF2 = "7"
	// mosquittoSHA512 opens mosquitto 1.x's hash, one unkeyed SHA-512 of
	// password and salt: refused (see ErrWeakHash).
	mosquittoSHA512 = "$6$"
)

// Errors of Parse. They never carry the hash.
var (
	// ErrFormat is a stored hash of no known scheme, or out of bounds.
	ErrFormat = errors.New("credential: stored hash: not a known scheme within bounds")
	// ErrWeakHash is a mosquitto 1.x ($6$) hash: one SHA-512 of password
	// and salt, cheap to test guesses against, and nothing to migrate to
	// without the password. Re-hash with mosquitto_passwd of mosquitto 2.x
	// ($7$), or give the device a machine password or a certificate.
	ErrWeakHash = errors.New("$6$ (one unkeyed SHA-512) is refused; re-hash with mosquitto 2.x ($7$)")
)

// Hash is a parsed stored hash.
type Hash struct {
	scheme Scheme
	keyID  string // hmac: which server key
	// argon2id parameters (RFC 9106 §3.1)
	memory  uint32
	time    uint32
	threads uint8
	// pbkdf2 iteration count
	iterations int
	salt, tag  []byte
	bcrypt     []byte // the whole modular-crypt string
}

// Scheme returns the hash's scheme.
func (h Hash) Scheme() Scheme { return h.scheme }

// KeyID returns the ID of the server key of a machine password hash ("" for
// the other schemes).
func (h Hash) KeyID() string { return h.keyID }

// Parse decodes a stored hash of any scheme, within the bounds above.
func Parse(s string) (Hash, error) {
	switch {
	case strings.HasPrefix(s, machinePrefix):
		return parseMachine(s)
	case strings.HasPrefix(s, "$"+phcArgon2id+"$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$2"):
		return parseBcrypt(s)
	case strings.HasPrefix(s, "$"+mosquittoPBKDF2+"$"):
		return parsePBKDF2(s)
	case strings.HasPrefix(s, mosquittoSHA512):
		return Hash{}, ErrWeakHash
	}
	return Hash{}, ErrFormat
}

// String writes h in its scheme's text form.
func (h Hash) String() string {
	switch h.scheme {
	case SchemeHMAC:
		return machinePrefix + "k=" + h.keyID + "$" + base64.RawStdEncoding.EncodeToString(h.tag)
	case SchemeArgon2id:
		b64 := base64.RawStdEncoding
		return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", phcArgon2id, argonVersion,
			h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.tag))
	case SchemeBcrypt:
		return string(h.bcrypt)
	case SchemePBKDF2:
		b64 := base64.StdEncoding
		return fmt.Sprintf("$%s$%d$%s$%s", mosquittoPBKDF2, h.iterations, b64.EncodeToString(h.salt), b64.EncodeToString(h.tag))
	}
	return ""
}

// verify compares password with h; key and id serve machine hashes.
func (h Hash) verify(key []byte, id string, password []byte) bool {
	switch h.scheme {
	case SchemeHMAC:
		return subtle.ConstantTimeCompare(machineTag(key, id, password), h.tag) == 1
	case SchemeArgon2id:
		tag := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.tag)))
		return subtle.ConstantTimeCompare(tag, h.tag) == 1
	case SchemeBcrypt:
		// bcrypt compares in constant time and reads at most 72 bytes of
		// the password, as every bcrypt does.
		return bcrypt.CompareHashAndPassword(h.bcrypt, password) == nil
	case SchemePBKDF2:
		tag, err := pbkdf2.Key(sha512.New, string(password), h.salt, h.iterations, len(h.tag))
		return err == nil && subtle.ConstantTimeCompare(tag, h.tag) == 1
	}
	return false
}

func parseArgon2id(s string) (Hash, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, tag
	f := strings.Split(s, "$")
	if len(f) != 6 || f[2] != "v="+strconv.Itoa(argonVersion) {
		return Hash{}, ErrFormat
	}
	h := Hash{scheme: SchemeArgon2id}
	if !h.parseArgonParams(f[3]) {
		return Hash{}, ErrFormat
	}
	var err error
	b64 := base64.RawStdEncoding.Strict()
	if h.salt, err = b64.DecodeString(f[4]); err != nil || len(h.salt) < argonMinSaltLen || len(h.salt) > argonMaxSaltLen {
		return Hash{}, ErrFormat
	}
	if h.tag, err = b64.DecodeString(f[5]); err != nil || len(h.tag) < argonMinTagLen || len(h.tag) > argonMaxTagLen {
		return Hash{}, ErrFormat
	}
	return h, nil
}

// parseArgonParams reads "m=<KiB>,t=<passes>,p=<lanes>" in that order.
func (h *Hash) parseArgonParams(s string) bool {
	kv := strings.Split(s, ",")
	if len(kv) != 3 {
		return false
	}
	m, okM := decimalParam(kv[0], "m=", argonMaxMemory)
	t, okT := decimalParam(kv[1], "t=", argonMaxTime)
	p, okP := decimalParam(kv[2], "p=", argonMaxThreads)
	// RFC 9106 §3.1: m is at least 8*p KiB; t and p at least 1.
	if !okM || !okT || !okP || t < 1 || p < 1 || m < 8*p {
		return false
	}
	h.memory, h.time, h.threads = m, t, uint8(p)
	return true
}

// decimalParam parses name followed by a canonical decimal no greater than limit.
func decimalParam(s, name string, limit uint32) (uint32, bool) {
	d, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, false
	}
	v, ok := canonicalDecimal(d, uint64(limit))
	return uint32(v), ok
}

// canonicalDecimal parses a decimal without sign or leading zero, no
// greater than limit.
func canonicalDecimal(d string, limit uint64) (uint64, bool) {
	if d == "" || len(d) > 10 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(d, 10, 32)
	if err != nil || v > limit {
		return 0, false
	}
	return v, true
}

func parseBcrypt(s string) (Hash, error) {
	if len(s) != bcryptHashLen {
		return Hash{}, ErrFormat
	}
	switch s[:4] {
	case "$2a$", "$2b$", "$2y$":
	default:
		return Hash{}, ErrFormat
	}
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil || cost > bcryptMaxCost {
		return Hash{}, ErrFormat
	}
	return Hash{scheme: SchemeBcrypt, bcrypt: []byte(s)}, nil
}

func parsePBKDF2(s string) (Hash, error) {
	// "", "7", iterations, salt, hash
	f := strings.Split(s, "$")
	if len(f) != 5 {
		return Hash{}, ErrFormat
	}
	it, ok := canonicalDecimal(f[2], pbkdf2MaxIterations)
	if !ok || it < 1 {
		return Hash{}, ErrFormat
	}
	h := Hash{scheme: SchemePBKDF2, iterations: int(it)}
	var err error
	b64 := base64.StdEncoding.Strict()
	if h.salt, err = b64.DecodeString(f[3]); err != nil || len(h.salt) < pbkdf2MinSaltLen || len(h.salt) > pbkdf2MaxSaltLen {
		return Hash{}, ErrFormat
	}
	if h.tag, err = b64.DecodeString(f[4]); err != nil || len(h.tag) != pbkdf2TagLen {
		return Hash{}, ErrFormat
	}
	return h, nil
}
