package clock

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// maxDatagram bounds what a server reads of one request (tuning): a
// Roughtime request is 1,036 bytes, an SNTP one 48.
const maxDatagram = 1500

// Handler answers one request datagram; nil drops it.
type Handler func(req []byte) []byte

// Server is a UDP time server on one socket: the goroutine that reads it is
// the server's, and Close stops it.
type Server struct {
	conn    *net.UDPConn
	handle  atomic.Pointer[Handler]
	wg      sync.WaitGroup
	once    sync.Once
	queries atomic.Int64
	bad     atomic.Int64
}

// Listen serves h on addr ("127.0.0.1:0" for a free loopback port).
func Listen(addr string, h Handler) (*Server, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("clock: resolving %s: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("clock: listening: %w", err)
	}
	s := &Server{conn: c}
	s.SetHandler(h)
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns the server's address.
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// SetHandler replaces the handler for the next requests.
func (s *Server) SetHandler(h Handler) { s.handle.Store(&h) }

// Queries returns how many datagrams the server has read.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Dropped returns how many datagrams got no answer.
func (s *Server) Dropped() int64 { return s.bad.Load() }

func (s *Server) serve() {
	defer s.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.queries.Add(1)
		h := *s.handle.Load()
		var resp []byte
		if h != nil {
			resp = h(append([]byte(nil), buf[:n]...))
		}
		if resp == nil {
			s.bad.Add(1)
			continue
		}
		s.conn.WriteToUDP(resp, from)
	}
}

// Close stops the server; it is safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() { s.conn.Close() })
	s.wg.Wait()
	return nil
}
