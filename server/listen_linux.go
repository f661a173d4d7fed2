//go:build linux

package server

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Keep-alive of accepted connections: Go's own defaults (net.KeepAliveConfig
// with zero fields; 15 s idle, 15 s between probes, 9 probes), so that a
// session whose peer vanished without a FIN ends even when its MQTT
// keep-alive is 0 (off).
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// ListenTCP listens on addr with TCP keep-alive set once, on the listening
// socket, for every connection it accepts to inherit (Linux copies a
// listener's socket options to the connections it accepts, tcp(7)). Go's
// net.Listen sets them again on every accepted connection instead: four
// setsockopt calls per connection, about 2 % of the server's CPU per
// handshake (docs/benchmarks.md).
func ListenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = setKeepAlive(int(fd)) })
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}

// setKeepAlive turns TCP keep-alive on for socket fd.
func setKeepAlive(fd int) error {
	opts := []struct{ level, opt, val int }{
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, int(keepAliveIdle / time.Second)},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, int(keepAliveInterval / time.Second)},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAliveCount},
	}
	for _, o := range opts {
		if err := syscall.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			return fmt.Errorf("server: setting TCP keep-alive: %w", err)
		}
	}
	return nil
}
