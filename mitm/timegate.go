package mitm

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"time"

	"shakedown/handshake/clock"
	"shakedown/handshake/tlsprofile"
	"shakedown/reports"
)

// TimeGate is the attacker on the devices' way to their time servers: the
// addresses that devices of the ca-ntp and ca-roughtime columns are built
// to ask (NTPAddr, RoughtimeAddr), two UDP sockets on loopback. Between
// cells it carries every query to the lab's honest servers and back; a
// scenario may instead answer with a time of its choosing (forge) or
// answer nothing (drop). The attacker holds no key the devices pin: it
// signs a forged Roughtime answer with a key of its own.
type TimeGate struct {
	ntp, rt  *clock.Server
	impostor ed25519.PrivateKey

	mu                     sync.Mutex
	honestNTP, honestRough string    // the lab's servers (SetUpstream)
	forged                 time.Time // the last forged time, zero while passing or dropping
}

// relayTimeout bounds the honest server's answer to one relayed query.
const relayTimeout = 2 * time.Second

// NewTimeGate opens the gate's two sockets, so that devices (a board built
// to ask them) can be given its addresses before the lab's servers run;
// until SetUpstream names those, it answers nothing.
func NewTimeGate() (*TimeGate, error) {
	_, imp, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mitm: making the attacker's Roughtime key: %w", err)
	}
	g := &TimeGate{impostor: imp}
	if g.ntp, err = clock.Listen("127.0.0.1:0", nil); err != nil {
		return nil, err
	}
	if g.rt, err = clock.Listen("127.0.0.1:0", nil); err != nil {
		g.ntp.Close()
		return nil, err
	}
	g.pass()
	return g, nil
}

// SetUpstream names the lab's honest SNTP and Roughtime servers, to which
// the gate carries the queries between cells.
func (g *TimeGate) SetUpstream(ntp, roughtime string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.honestNTP, g.honestRough = ntp, roughtime
}

// upstream returns the honest server of the SNTP (false) or Roughtime
// (true) socket.
func (g *TimeGate) upstream(rough bool) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if rough {
		return g.honestRough
	}
	return g.honestNTP
}

// NTPAddr is the SNTP server address the ca-ntp devices ask.
func (g *TimeGate) NTPAddr() string { return g.ntp.Addr() }

// RoughtimeAddr is the Roughtime server address the ca-roughtime devices ask.
func (g *TimeGate) RoughtimeAddr() string { return g.rt.Addr() }

// Close stops the gate; it is safe to call twice.
func (g *TimeGate) Close() error {
	g.ntp.Close()
	g.rt.Close()
	return nil
}

// pass carries every query to the honest servers.
func (g *TimeGate) pass() {
	g.set(time.Time{})
	g.ntp.SetHandler(g.relay(false))
	g.rt.SetHandler(g.relay(true))
}

// forge answers every query with time t: SNTP as a server would, Roughtime
// signed under the attacker's key.
func (g *TimeGate) forge(t time.Time) error {
	rs, err := clock.NewImpostor(g.impostor, func() time.Time { return t })
	if err != nil {
		return err
	}
	g.set(t)
	g.ntp.SetHandler(clock.NTPResponder(func() time.Time { return t }))
	g.rt.SetHandler(rs.Handler())
	return nil
}

// drop answers nothing.
func (g *TimeGate) drop() {
	g.set(time.Time{})
	g.ntp.SetHandler(nil)
	g.rt.SetHandler(nil)
}

func (g *TimeGate) set(t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.forged = t
}

// queries returns how many queries the gate has read for mode m's server,
// and how many of them it left unanswered.
func (g *TimeGate) queries(m tlsprofile.Mode) (read, dropped int64) {
	s := g.ntp
	if m == tlsprofile.CARoughtime {
		s = g.rt
	}
	return s.Queries(), s.Dropped()
}

// relay returns a handler that carries a query to the honest server and
// its answer back; no answer in relayTimeout is none.
func (g *TimeGate) relay(rough bool) clock.Handler {
	return func(req []byte) []byte {
		addr := g.upstream(rough)
		if addr == "" {
			return nil
		}
		c, err := net.Dial("udp", addr)
		if err != nil {
			return nil
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(relayTimeout))
		if _, err := c.Write(req); err != nil {
			return nil
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		return buf[:n]
	}
}

// timeProtocol names the time protocol of a network-clock column.
func timeProtocol(c Column) string {
	if tlsprofile.Mode(c.Variant) == tlsprofile.CARoughtime {
		return "roughtime"
	}
	return "sntp"
}

// forgeTime makes the gate answer the cell's devices with t and records it.
func (r *cellRun) forgeTime(t time.Time, why string) error {
	if r.m.Time == nil {
		return errNoTimeGate
	}
	if err := r.m.Time.forge(t); err != nil {
		return err
	}
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactTime, Field: timeProtocol(r.col) + ".forged_time",
		Value: t.UTC().Format(time.RFC3339), Note: why})
	return nil
}

var errNoTimeGate = fmt.Errorf("mitm: the lab has no time gate for the network-clock columns")
