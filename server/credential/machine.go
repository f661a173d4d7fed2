package credential

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// A machine password hash:
//
//	$hmac-sha256$k=<key id>$<tag>
//
//	tag    = HMAC-SHA-256(K, "shakedown mqtt password v1" || 0x00 || device ID || 0x00 || password)   (RFC 2104)
//	key id = the first 8 bytes of HMAC-SHA-256(K, "shakedown password key id v1"), 16 lower-case hex digits
//
// K is the server key (KeyLen bytes), kept in the registry. The tag is
// written in base64 without padding (RFC 4648 §4, 43 characters). A device
// ID holds no NUL byte, so the input names the device and the password
// unambiguously; binding the ID means a hash copied to another device's
// record does not verify there. The key id lets a registry refuse a hash
// made under another registry's key instead of storing a password that can
// never match.
const (
	machinePrefix  = "$" + string(SchemeHMAC) + "$"
	machineLabel   = "shakedown mqtt password v1"
	keyIDLabel     = "shakedown password key id v1"
	keyIDLen       = 8 // bytes of the key id
	machineTagLen  = sha256.Size
	machineTextLen = len(machinePrefix) + len("k=") + 2*keyIDLen + len("$") + 43
)

// Sizes of keys and machine passwords.
const (
	// KeyLen is the size of the server key: 256 bits. RFC 2104 §3
	// discourages keys shorter than L, the hash's output (32 bytes for
	// SHA-256).
	KeyLen = 32
	// MinMachinePasswordLen bounds a machine password from below: 16 bytes
	// can carry 128 bits. The fixtures and `shakedown devices add` make 43
	// characters: 32 random bytes, base64url.
	MinMachinePasswordLen = 16
	// MaxPasswordLen is the longest MQTT password (MQTT 3.1.1 §1.5.3: two
	// length bytes).
	MaxPasswordLen = 65535
)

// Errors of HashMachine and NewKey.
var (
	ErrKeyLen      = errors.New("credential: the server key is not 32 bytes")
	ErrShortSecret = errors.New("credential: a machine password is at least 16 bytes (use 32 random bytes)")
	ErrLongSecret  = errors.New("credential: a password is at most 65535 bytes (MQTT 3.1.1 §1.5.3)")
)

// NewKey returns a fresh server key from crypto/rand.
func NewKey() ([]byte, error) {
	k := make([]byte, KeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("credential: reading a server key: %w", err)
	}
	return k, nil
}

// KeyID returns the ID of server key k, as machine hashes name it.
func KeyID(k []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(keyIDLabel))
	return hex.EncodeToString(m.Sum(nil)[:keyIDLen])
}

// HashMachine returns the stored hash of a machine-generated password of
// device id under server key k.
func HashMachine(k []byte, id string, password []byte) (string, error) {
	switch {
	case len(k) != KeyLen:
		return "", ErrKeyLen
	case len(password) < MinMachinePasswordLen:
		return "", ErrShortSecret
	case len(password) > MaxPasswordLen:
		return "", ErrLongSecret
	}
	h := Hash{scheme: SchemeHMAC, keyID: KeyID(k), tag: machineTag(k, id, password)}
	return h.String(), nil
}

// machineTag is the HMAC of a machine password.
func machineTag(k []byte, id string, password []byte) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(machineLabel))
	m.Write([]byte{0})
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write(password)
	return m.Sum(nil)
}

func parseMachine(s string) (Hash, error) {
	if len(s) != machineTextLen {
		return Hash{}, ErrFormat
	}
	// "", "hmac-sha256", "k=<key id>", tag
	f := strings.Split(s, "$")
	if len(f) != 4 {
		return Hash{}, ErrFormat
	}
	kid, ok := strings.CutPrefix(f[2], "k=")
	if !ok || len(kid) != 2*keyIDLen || strings.ToLower(kid) != kid {
		return Hash{}, ErrFormat
	}
	if _, err := hex.DecodeString(kid); err != nil {
		return Hash{}, ErrFormat
	}
	tag, err := base64.RawStdEncoding.Strict().DecodeString(f[3])
	if err != nil || len(tag) != machineTagLen {
		return Hash{}, ErrFormat
	}
	return Hash{scheme: SchemeHMAC, keyID: kid, tag: tag}, nil
}

// Argon2id parameters of HashArgon2id (RFC 9106 §3.1 names them): 19 MiB,
// two passes, one lane, the parameters the registry used to write.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonSaltLen = 16 // S: RFC 9106 §3.1 recommends 16 bytes
	argonTagLen  = 32
)

// HashArgon2id hashes a human-chosen password with argon2id and a random
// salt, for an operator who migrates passwords held in clear, and for
// tests. shakedown never makes one for a device it provisions: those get a
// certificate or a machine password.
func HashArgon2id(password []byte) (string, error) {
	if len(password) == 0 || len(password) > MaxPasswordLen {
		return "", errors.New("credential: hashing a password: want 1 to 65535 bytes")
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("credential: hashing a password: reading salt: %w", err)
	}
	h := Hash{scheme: SchemeArgon2id, memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	h.tag = argon2.IDKey(password, salt, h.time, h.memory, h.threads, argonTagLen)
	return h.String(), nil
}
