package noise

import (
	"github.com/flynn/noise"

	"shakedown/handshake"
)

// transportCipher is one direction of a session: a Noise CipherState that
// rekeys after every RekeyInterval messages (Noise §11.3, REKEY()).
type transportCipher struct{ cs *noise.CipherState }

func (t transportCipher) Seal(dst, plaintext []byte) ([]byte, error) {
	out, err := t.cs.Encrypt(dst, nil, plaintext)
	if err != nil {
		return nil, err
	}
	t.maybeRekey()
	return out, nil
}

func (t transportCipher) Open(dst, record []byte) ([]byte, error) {
	out, err := t.cs.Decrypt(dst, nil, record)
	if err != nil {
		return nil, err
	}
	t.maybeRekey()
	return out, nil
}

func (t transportCipher) maybeRekey() {
	if t.cs.Nonce()%RekeyInterval == 0 {
		t.cs.Rekey()
	}
}

func (transportCipher) Overhead() int { return TagLen }

// newSession wraps conn in the transport of a finished handshake.
func newSession(conn handshakeConn, send, recv *noise.CipherState) *handshake.RecordConn {
	return handshake.NewRecordConn(conn, handshake.Noise, transportCipher{send}, transportCipher{recv})
}
