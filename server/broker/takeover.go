package broker

import (
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TakeoverWait bounds how long a new session of a client ID waits for the
// session it takes over to end (sessions.establish).
const TakeoverWait = 5 * time.Second

// sessions makes a takeover sequential: a new session of a client ID
// disconnects the live one and waits until mochi has finished with it
// before mochi looks for it.
//
// Without the wait, mochi v2 loses the new session when the old one ends
// at the same moment (a device that reconnects at once after its
// connection dropped). The old session checks that it was not taken over,
// the new one takes it over and registers, and the old one, clean-session,
// then deletes its client ID from the client table: the new session's
// entry. The new session stays connected and subscribed, and receives
// nothing, since a message for a subscriber is sent to the client the
// table names. The MITM lab's cells, which connect one device ID again and
// again, lost a command to it this way (mitm run, a device's "receiving
// the command: i/o timeout").
type sessions struct {
	mu     sync.Mutex
	live   map[string]*session   // by client ID, the newest session
	byConn map[net.Conn]*session // by the conn mochi was given
}

// session is one established MQTT session.
type session struct {
	id    string
	cl    *mqtt.Client
	ended chan struct{} // closed when mochi is done with the session
}

func newSessions() *sessions {
	return &sessions{live: map[string]*session{}, byConn: map[net.Conn]*session{}}
}

// establish registers cl's session (mochi's OnSessionEstablish, after the
// CONNECT was authenticated, before mochi looks for a session to take
// over) and, if the client ID has a live session, disconnects it as MQTT
// asks (3.1.1 §3.1.4, [MQTT-3.1.4-2]) and waits, at most TakeoverWait,
// until mochi has finished with it. It reports whether the wait ran out.
func (s *sessions) establish(srv *mqtt.Server, cl *mqtt.Client) (late bool) {
	me := &session{id: cl.ID, cl: cl, ended: make(chan struct{})}
	s.mu.Lock()
	prev := s.live[cl.ID]
	s.live[cl.ID] = me
	s.byConn[cl.Net.Conn] = me
	s.mu.Unlock()
	if prev == nil {
		return false
	}
	_ = srv.DisconnectClient(prev.cl, packets.ErrSessionTakenOver)
	t := time.NewTimer(TakeoverWait)
	defer t.Stop()
	select {
	case <-prev.ended:
		return false
	case <-t.C:
		return true
	}
}

// ended is called when mochi returns from the conn: the session on it, if
// one was established, is over, and a session waiting to take it over
// goes on.
func (s *sessions) ended(c net.Conn) {
	s.mu.Lock()
	me := s.byConn[c]
	delete(s.byConn, c)
	if me != nil && s.live[me.id] == me {
		delete(s.live, me.id)
	}
	s.mu.Unlock()
	if me != nil {
		close(me.ended)
	}
}

// establish serves c as mochi's listener l does, and marks its session
// ended when mochi returns.
func (e *Embedded) establish(l string, c net.Conn) error {
	defer e.sessions.ended(c)
	return e.srv.EstablishConnection(l, c)
}
