package noise

import (
	"github.com/flynn/noise"

	"shakedown/handshake"
)

// TransportCipherForTest exposes the rekeying transport cipher to tests.
func TransportCipherForTest(cs *noise.CipherState) handshake.RecordCipher {
	return transportCipher{cs}
}
