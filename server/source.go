package server

import (
	"net"
	"net/netip"
)

// ipv6SourceBits is how much of an IPv6 address names one source. A host
// chooses the low 64 bits of its addresses itself (the interface
// identifier, RFC 4291 §2.5.1) and may change them at will (temporary
// addresses, RFC 8981), so one machine holds a whole /64: limits keyed on
// the full address would give it 2^64 fresh budgets.
const ipv6SourceBits = 64

// sourceOf returns the source a connection's limits are charged to: its
// IPv4 address, or the /64 of its IPv6 address. Addresses that are not
// TCP or UDP (a Unix socket, an in-memory pipe) share one source, the zero
// netip.Addr.
func sourceOf(a net.Addr) netip.Addr {
	var ap netip.AddrPort
	switch t := a.(type) {
	case *net.TCPAddr:
		ap = t.AddrPort()
	case *net.UDPAddr:
		ap = t.AddrPort()
	default:
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, err := ip.WithZone("").Prefix(ipv6SourceBits)
		if err != nil {
			return netip.Addr{}
		}
		return p.Addr()
	}
	return ip
}
