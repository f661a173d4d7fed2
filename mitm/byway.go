package mitm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
)

// Byway is the way a cell's devices reach the server: the attacker's
// paths, and how a device opens a connection on them.
type Byway interface {
	PathSource
	DialDevice(ctx context.Context) (net.Conn, error)
	Close() error
}

// TCPByway is the default byway: a Proxy on 127.0.0.1 that devices dial.
func TCPByway(to Listener, dial Dialer) (Byway, error) {
	return NewProxy("127.0.0.1:0", to, dial)
}

// DialDevice connects to the proxy, as a device configured with the
// proxy's address instead of the server's does.
func (p *Proxy) DialDevice(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", p.Addr())
}

// RelayByway is the byway of a device whose connections are relays that
// another carries: a board harness in relay mode. The device dials
// nothing; each of its handshakes takes a RelayTap (Tap), whose Carry
// hands the relay's path to the scenario waiting in Next. A handshake that
// fails before its relay reaches the tap says so (RelayTap.Failed), and a
// scenario waiting for the path hears of it.
type RelayByway struct {
	*TapSource
	refusals chan error
}

// NewRelayByway returns a RelayByway towards listener to.
func NewRelayByway(to Listener, dial Dialer) *RelayByway {
	return &RelayByway{TapSource: NewTapSource(to, dial), refusals: make(chan error, 1)}
}

// Next returns the path of the device's next relay.
func (w *RelayByway) Next(ctx context.Context) (Path, error) {
	select {
	case p := <-w.paths:
		return p, nil
	case err := <-w.refusals:
		return nil, fmt.Errorf("mitm: the device's handshake never reached the relay: %w", err)
	case <-w.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errRelayDials: the device's connections are another's relays.
var errRelayDials = errors.New("mitm: the device connects through a relay, not by dialling the lab")

// DialDevice fails: the device's connections are relays.
func (w *RelayByway) DialDevice(context.Context) (net.Conn, error) { return nil, errRelayDials }

// Tap returns the tap of one handshake of the device.
func (w *RelayByway) Tap() *RelayTap { return &RelayTap{w: w} }

// RelayTap is the tap of one relayed handshake: its Carry is the one a
// board harness's relay calls (harness.Tap).
type RelayTap struct {
	w     *RelayByway
	taken atomic.Bool // a scenario took the relay's path
}

// Carry hands the relay's two conns to the scenario waiting in Next (see
// TapSource.Carry).
func (t *RelayTap) Carry(ctx context.Context, device, server net.Conn) error {
	taken, err := t.w.carry(ctx, device, server)
	t.taken.Store(taken)
	return err
}

// Failed says that the handshake of this tap failed with err: when no
// scenario took its path, a scenario waiting in Next hears of it (the
// relay is over, and its path never will be taken).
func (t *RelayTap) Failed(err error) {
	if t.taken.Load() {
		return
	}
	select {
	case t.w.refusals <- err:
	default:
	}
}
