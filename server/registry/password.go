package registry

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2id parameters of HashPassword (RFC 9106 §3.1 names them). RFC 9106
// §4 recommends 64 MiB and t=3 when memory is short; a broker verifies one
// hash per MQTT CONNECT, many at once, so HashPassword spends less memory
// per verification (19 MiB) and one more pass than the memory bound alone
// would need. Verification takes tens of milliseconds: the broker should
// bound concurrent verifications.
const (
	argonTime    = 2         // t: passes over memory
	argonMemory  = 19 * 1024 // m: KiB
	argonThreads = 1         // p: lanes
	argonSaltLen = 16        // S: 128-bit salt (RFC 9106 §3.1 recommends 16 bytes)
	argonTagLen  = 32        // T: 256-bit tag
)

// Bounds on the parameters of a stored hash, so that a corrupted or hostile
// hash cannot make a verification allocate without limit.
const (
	argonMaxMemory  = 256 * 1024 // KiB
	argonMaxTime    = 16
	argonMaxThreads = 16
	argonMinSaltLen = 8 // RFC 9106 §3.1: S is at least 8 bytes
	argonMaxSaltLen = 64
	argonMinTagLen  = 16
	argonMaxTagLen  = 64
	// bcryptHashLen is the length of a modular-crypt bcrypt hash:
	// 4b: "$2b$" // 2b: cost // 1b: "$" // 22b: salt // 31b: hash
	bcryptHashLen = 60
)

// The PHC string format of an argon2id hash, as the reference implementation writes it:
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt, base64 without padding>$<tag, base64 without padding>
const (
	phcArgon2id = "argon2id"
	// argonVersion is Argon2 version 0x13 (RFC 9106 §3.1), written in decimal.
	argonVersion = argon2.Version
)

// errHash reports a stored password hash that does not parse. Like every
// error here it never carries the hash or the password.
var errHash = errors.New("registry: password hash: not an argon2id or bcrypt hash")

// passwordHash is a parsed stored hash.
type passwordHash struct {
	bcrypt  []byte // the whole modular-crypt string when the hash is bcrypt
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	tag     []byte
}

// HashPassword hashes an MQTT CONNECT password for Device.PasswordHash
// with argon2id and a random salt.
func HashPassword(password []byte) (string, error) {
	if len(password) == 0 {
		return "", fmt.Errorf("registry: hashing password: empty: %w", ErrInvalid)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("registry: hashing password: reading salt: %w", err)
	}
	h := passwordHash{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	h.tag = argon2.IDKey(password, salt, h.time, h.memory, h.threads, argonTagLen)
	return h.String(), nil
}

// VerifyPassword reports whether password matches a hash made by
// HashPassword or by bcrypt. The error is for a hash that does not parse.
func VerifyPassword(hash string, password []byte) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if h.bcrypt != nil {
		err := bcrypt.CompareHashAndPassword(h.bcrypt, password)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		}
		return false, errHash
	}
	tag := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.tag)))
	return subtle.ConstantTimeCompare(tag, h.tag) == 1, nil
}

// String writes h in the PHC string format (argon2id) or as it was (bcrypt).
func (h passwordHash) String() string {
	if h.bcrypt != nil {
		return string(h.bcrypt)
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", phcArgon2id, argonVersion,
		h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.tag))
}

// parseHash decodes a stored hash: argon2id in the PHC string format, or
// bcrypt in modular-crypt form ($2a$, $2b$, $2y$).
func parseHash(s string) (passwordHash, error) {
	if strings.HasPrefix(s, "$2") {
		return parseBcrypt(s)
	}
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, tag
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != phcArgon2id || f[2] != "v="+strconv.Itoa(argonVersion) {
		return passwordHash{}, errHash
	}
	var h passwordHash
	if !h.parseParams(f[3]) {
		return passwordHash{}, errHash
	}
	var err error
	b64 := base64.RawStdEncoding.Strict()
	if h.salt, err = b64.DecodeString(f[4]); err != nil || len(h.salt) < argonMinSaltLen || len(h.salt) > argonMaxSaltLen {
		return passwordHash{}, errHash
	}
	if h.tag, err = b64.DecodeString(f[5]); err != nil || len(h.tag) < argonMinTagLen || len(h.tag) > argonMaxTagLen {
		return passwordHash{}, errHash
	}
	return h, nil
}

// parseParams reads "m=<KiB>,t=<passes>,p=<lanes>" in that order.
func (h *passwordHash) parseParams(s string) bool {
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
	if !ok || d == "" || len(d) > 10 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(d, 10, 32)
	if err != nil || v > uint64(limit) {
		return 0, false
	}
	return uint32(v), true
}

func parseBcrypt(s string) (passwordHash, error) {
	if len(s) != bcryptHashLen {
		return passwordHash{}, errHash
	}
	switch s[:4] {
	case "$2a$", "$2b$", "$2y$":
	default:
		return passwordHash{}, errHash
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return passwordHash{}, errHash
	}
	return passwordHash{bcrypt: []byte(s)}, nil
}
