package servertest

import (
	"errors"
	"io"
	"net"
	"sync"

	"shakedown/handshake"
)

// echoRead is the most Echo reads of a session at once: a longer message
// is answered in pieces.
const echoRead = 1024

// Echo is a server.Sink for tests of a device's secure channel below
// MQTT: it answers every read of a session with Reply of what it read,
// and keeps the identity of every session it served. Its zero value
// answers with Pong.
type Echo struct {
	// Reply returns the answer to msg; nil: Pong.
	Reply func(msg []byte) []byte

	mu  sync.Mutex
	ids []handshake.Identity
}

// Pong is Echo's default answer: "pong:", then msg.
func Pong(msg []byte) []byte { return append([]byte("pong:"), msg...) }

// AttachDevice implements server.Sink: it serves conn until the device
// closes it (nil) or it fails.
func (e *Echo) AttachDevice(conn net.Conn, id handshake.Identity) error {
	e.mu.Lock()
	e.ids = append(e.ids, id)
	e.mu.Unlock()
	reply := e.Reply
	if reply == nil {
		reply = Pong
	}
	buf := make([]byte, echoRead)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if _, werr := conn.Write(reply(buf[:n])); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Identities returns the identity of every session Echo served, in order.
func (e *Echo) Identities() []handshake.Identity {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]handshake.Identity(nil), e.ids...)
}
