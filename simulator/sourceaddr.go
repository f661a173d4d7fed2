package simulator

import (
	"errors"
	"net"
	"net/netip"
	"strings"
)

// MaxSourceAddrs bounds the addresses of a source list.
const MaxSourceAddrs = 1 << 16

// Errors of ParseSourceAddrs.
var (
	ErrSourceAddr      = errors.New("want IP addresses or ranges first-last, comma separated")
	ErrSourceAddrRange = errors.New("a range runs from a lower to a higher address of one family")
	ErrSourceAddrMany  = errors.New("more than 65536 addresses")
)

// ParseSourceAddrs reads a list of local addresses to spread connections
// over: "127.0.0.2-127.0.0.20,10.0.0.5". Each address gives the simulator
// its own ephemeral-port range toward one server address, past the ~28,000
// ports of one address pair. On Linux the whole 127.0.0.0/8 answers on the
// loopback interface, so loopback ranges need no setup.
func ParseSourceAddrs(v string) ([]netip.Addr, error) {
	var out []netip.Addr
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil || first.Zone() != "" {
			return nil, ErrSourceAddr
		}
		first = first.Unmap()
		last := first
		if isRange {
			if last, err = netip.ParseAddr(strings.TrimSpace(hi)); err != nil || last.Zone() != "" {
				return nil, ErrSourceAddr
			}
			last = last.Unmap()
			if first.Is4() != last.Is4() || last.Less(first) {
				return nil, ErrSourceAddrRange
			}
		}
		for a := first; ; a = a.Next() {
			if len(out) == MaxSourceAddrs {
				return nil, ErrSourceAddrMany
			}
			out = append(out, a)
			if a == last {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, ErrSourceAddr
	}
	return out, nil
}

// localAddr returns the TCP source address of slot n, or nil for the
// system's choice.
func localAddr(addrs []netip.Addr, n int) *net.TCPAddr {
	if len(addrs) == 0 {
		return nil
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(addrs[n%len(addrs)], 0))
}
