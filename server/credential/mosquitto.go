package credential

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PasswordFileEntry is one account of a mosquitto password file.
type PasswordFileEntry struct {
	User string
	Hash string // a stored hash of a slow scheme
}

// maxPasswordFileLine bounds one line of a password file: a user name of
// at most 65535 bytes (MQTT 3.1.1 §1.5.3) and a hash.
const maxPasswordFileLine = 1 << 17

// ParsePasswordFile reads a mosquitto password file (mosquitto_passwd(1)):
// one "user:hash" per line, split at the first colon as mosquitto does;
// blank lines and lines starting with '#' are skipped. Every hash must
// parse (mosquitto 2.x writes $7$, PBKDF2-SHA512) and be of a slow scheme:
// a file of clear-text passwords is refused, hash it first with
// `mosquitto_passwd -U`. Errors name the line, never its content.
func ParsePasswordFile(r io.Reader) ([]PasswordFileEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxPasswordFileLine)
	var out []PasswordFileEntry
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("credential: password file line %d: want user:hash", n)
		}
		h, err := Parse(hash)
		switch {
		case errors.Is(err, ErrWeakHash):
			return nil, fmt.Errorf("credential: password file line %d: a mosquitto 1.x hash: %w", n, err)
		case err != nil || !h.scheme.Slow():
			return nil, fmt.Errorf("credential: password file line %d: not a hash of mosquitto 2.x, argon2id or bcrypt (a clear-text file needs `mosquitto_passwd -U` first)", n)
		}
		out = append(out, PasswordFileEntry{User: user, Hash: hash})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("credential: reading the password file: %w", err)
	}
	return out, nil
}
