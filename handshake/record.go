package handshake

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
)

// minRecordRead is the smallest read a RecordConn asks of its conn. Reading
// ahead into a buffer takes a small record (an MQTT PUBLISH, its ack) in one
// read instead of one for the header and one for the body; the buffer grows
// to the longest frame the session has seen.
const minRecordRead = 256

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
	rbuf    []byte // bytes read from the conn; rbuf[roff:] are not yet framed
	roff    int
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
	frame, err := c.nextFrame()
	if err != nil {
		return Fail(c.profile, StageTransport, FrameReason(err), err)
	}
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

// nextFrame returns the next frame's message, which stays valid until the
// next call. Its errors are ReadFrame's: the conn's, io.ErrUnexpectedEOF for
// a frame cut short, ErrEmptyFrame.
func (c *RecordConn) nextFrame() ([]byte, error) {
	if err := c.fill(FrameHeaderLen); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(c.rbuf[c.roff:]))
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if err := c.fill(FrameHeaderLen + n); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	start := c.roff + FrameHeaderLen
	c.roff = start + n
	return c.rbuf[start:c.roff], nil
}

// fill reads until want unframed bytes are buffered, taking whatever else the
// conn has ready up to the buffer's capacity. io.EOF means the conn ended on
// a frame boundary, io.ErrUnexpectedEOF inside a frame.
func (c *RecordConn) fill(want int) error {
	empty := 0
	for len(c.rbuf)-c.roff < want {
		if c.roff > 0 { // the frames before roff are spent
			c.rbuf = c.rbuf[:copy(c.rbuf, c.rbuf[c.roff:])]
			c.roff = 0
		}
		if cap(c.rbuf) < want {
			grown := make([]byte, len(c.rbuf), max(want, minRecordRead))
			c.rbuf = grown[:copy(grown, c.rbuf)]
		}
		n, err := c.Conn.Read(c.rbuf[len(c.rbuf):cap(c.rbuf)])
		c.rbuf = c.rbuf[:len(c.rbuf)+n]
		switch {
		case len(c.rbuf)-c.roff >= want:
			return nil
		case err == io.EOF && len(c.rbuf) > c.roff:
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		case n == 0:
			if empty++; empty == 100 { // as bufio: a reader that never yields
				return io.ErrNoProgress
			}
		}
	}
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
