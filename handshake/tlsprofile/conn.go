package tlsprofile

import (
	"net"
	"sync/atomic"
)

// alertRecordLen is the size of a TLS alert record: 5-byte record header,
// level, description (RFC 8446 §5.1, §6). A server that wrote no more has
// not sent its flight.
const alertRecordLen = 5 + 2

// flightConn counts the bytes written to conn, which tells the flight a
// failed handshake stopped in. tls.Conn keeps it for the session.
type flightConn struct {
	net.Conn
	written atomic.Int64
}

func (c *flightConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}
