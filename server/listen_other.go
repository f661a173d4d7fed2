//go:build !linux

package server

import "net"

// ListenTCP listens on addr; accepted connections get Go's default TCP
// keep-alive (on Linux the listener sets it once for all of them).
func ListenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
