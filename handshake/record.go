package handshake

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"net"
	"sync"
)

// RecordCipher seals and opens the records of one direction of a session.
// Implementations keep their own nonce state and are used by one goroutine
// at a time (RecordConn serialises each direction).
type RecordCipher interface {
	// Seal appends the sealed record of plaintext to dst.
	Seal(dst, plaintext []byte) ([]byte, error)
	// Open appends the plaintext of record to dst, or fails without output.
	Open(dst, record []byte) ([]byte, error)
	// Overhead is the number of bytes Seal adds.
	Overhead() int
}

// RecordConn is the session after a handshake: every Write is cut into
// records of at most MaxFrameLen bytes, one record per frame.
type RecordConn struct {
	net.Conn
	profile Name

	rmu     sync.Mutex
	recv    RecordCipher
	rbuf    []byte // frame buffer
	pending []byte // opened plaintext not yet returned by Read
	plain   []byte // backing array of pending
	rerr    error  // sticky: a session that failed once stays failed

	wmu  sync.Mutex
	send RecordCipher
	wbuf []byte
	werr error
}

// NewRecordConn wraps conn with send and recv ciphers for profile p.
func NewRecordConn(conn net.Conn, p Name, send, recv RecordCipher) *RecordConn {
	return &RecordConn{Conn: conn, profile: p, send: send, recv: recv}
}

// Read returns application bytes from the next records.
func (c *RecordConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.pending) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if err := c.readRecord(); err != nil {
			c.rerr = err
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *RecordConn) readRecord() error {
	frame, err := ReadFrame(c.Conn, c.rbuf, MaxFrameLen)
	if err != nil {
		return Fail(c.profile, StageTransport, FrameReason(err), err)
	}
	c.rbuf = frame[:0]
	if len(frame) < c.recv.Overhead() {
		return Fail(c.profile, StageTransport, ReasonShortFrame, errors.New("record shorter than its tag"))
	}
	plain, err := c.recv.Open(c.plain[:0], frame)
	if err != nil {
		return Fail(c.profile, StageTransport, ReasonDecrypt, errors.New("record authentication failed"))
	}
	c.plain = plain
	c.pending = plain
	return nil
}

// Write seals p into one or more records.
func (c *RecordConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	max := MaxFrameLen - c.send.Overhead()
	written := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > max {
			chunk = chunk[:max]
		}
		buf := append(c.wbuf[:0], 0, 0)
		buf, err := c.send.Seal(buf, chunk)
		if err != nil {
			c.werr = Fail(c.profile, StageTransport, ReasonInternal, err)
			return written, c.werr
		}
		binary.BigEndian.PutUint16(buf, uint16(len(buf)-FrameHeaderLen))
		c.wbuf = buf
		if _, err := c.Conn.Write(buf); err != nil {
			// A partial frame cannot be resumed: the session is over.
			c.werr = Fail(c.profile, StageTransport, "", err)
			return written, c.werr
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// CounterAEAD is a RecordCipher over an AEAD whose 96-bit nonce is a 64-bit
// big-endian record counter, starting at 0 (the seed and psk profiles):
//
//	nonce = 4B zero || 8B counter
type CounterAEAD struct {
	AEAD  cipher.AEAD
	Next  uint64 // the counter of the next record
	nonce [12]byte
}

// ErrNonceExhausted is returned when a counter nonce would wrap.
var ErrNonceExhausted = errors.New("record counter exhausted")

func (a *CounterAEAD) next() ([]byte, error) {
	if a.Next == ^uint64(0) {
		return nil, ErrNonceExhausted
	}
	binary.BigEndian.PutUint64(a.nonce[4:], a.Next)
	a.Next++
	return a.nonce[:], nil
}

func (a *CounterAEAD) Seal(dst, plaintext []byte) ([]byte, error) {
	n, err := a.next()
	if err != nil {
		return nil, err
	}
	return a.AEAD.Seal(dst, n, plaintext, nil), nil
}

func (a *CounterAEAD) Open(dst, record []byte) ([]byte, error) {
	n, err := a.next()
	if err != nil {
		return nil, err
	}
	return a.AEAD.Open(dst, n, record, nil)
}

func (a *CounterAEAD) Overhead() int { return a.AEAD.Overhead() }
