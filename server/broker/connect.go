package broker

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
)

// DefaultConnectTimeout is the default of Options.ConnectTimeout: HiveMQ's
// default for the same bound (its no-connect-idle-timeout, 10 s). A device
// sends its CONNECT right after its handshake, in the same flight; ten
// seconds is plenty on any link that can carry MQTT.
const DefaultConnectTimeout = 10 * time.Second

// Listener labels of Observer.Refused for the broker's own listeners, where
// no handshake names a profile.
const (
	LabelPlain   handshake.Name = "plain"
	LabelBackend handshake.Name = BackendListenerID
)

// PlainProfile is the profile label of the plain MQTT baseline listener,
// which has no handshake.
const PlainProfile = LabelPlain

// Observer is told about the connections the broker ends on its own
// initiative, and about its listeners' failed accepts; metrics implement it.
type Observer interface {
	// Refused counts a connection ended for reason; p is the device's
	// profile, or LabelPlain or LabelBackend.
	Refused(p handshake.Name, reason handshake.Reason)
	// AcceptFailed counts a failed accept (EMFILE and the like) of a
	// listener, which is retried after a wait.
	AcceptFailed(listener string)
}

type nopObserver struct{}

func (nopObserver) Refused(handshake.Name, handshake.Reason) {}
func (nopObserver) AcceptFailed(string)                      {}

// connectWait bounds the wait for one client's CONNECT: startConnectWait
// sets the conn's read deadline, mochi's reading of the CONNECT is marked by
// the OnConnect hook (after which mochi sets the keep-alive deadline in its
// place), and a read that times out before that is counted once.
type connectWait struct {
	obs   Observer
	label handshake.Name
	seen  atomic.Bool // the CONNECT was read
	late  atomic.Bool // counted
}

// startConnectWait gives c's client timeout to send its CONNECT.
func startConnectWait(c net.Conn, timeout time.Duration) {
	c.SetReadDeadline(time.Now().Add(timeout))
}

// failed looks at a failed read of the conn.
func (w *connectWait) failed(err error) {
	if w.seen.Load() || !errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	if w.late.CompareAndSwap(false, true) {
		w.obs.Refused(w.label, handshake.ReasonConnectTimeout)
	}
}

// waiter is a conn the broker bounds the CONNECT wait of.
type waiter interface{ connectWait() *connectWait }

// markConnect is the OnConnect hook's part: the CONNECT was read.
func markConnect(cl *mqtt.Client, _ packets.Packet) {
	if w, ok := cl.Net.Conn.(waiter); ok {
		w.connectWait().seen.Store(true)
	}
}

// backendConn is a conn of the backend listener.
type backendConn struct {
	net.Conn
	wait connectWait
}

func (c *backendConn) connectWait() *connectWait { return &c.wait }

func (c *backendConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.wait.failed(err)
	}
	return n, err
}

// backendListener starts the CONNECT wait of every conn it accepts.
type backendListener struct {
	net.Listener
	e *Embedded
}

func (l backendListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	bc := &backendConn{Conn: c, wait: connectWait{obs: l.e.opts.Observer, label: LabelBackend}}
	startConnectWait(c, l.e.opts.ConnectTimeout)
	return bc, nil
}
