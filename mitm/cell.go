package mitm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
	"shakedown/reports"
)

// cellRun is one cell in progress: its byway, the victim its devices are
// and the facts seen so far.
type cellRun struct {
	ctx    context.Context
	m      *Matrix
	sc     *Scenario
	cell   Cell
	col    Column
	victim Victim
	way    Byway
	dial   Dialer
	facts  []reports.Fact
	seq    atomic.Int64
	mu     sync.Mutex
}

func (m *Matrix) newCellRun(ctx context.Context, s *Scenario, c Cell) (*cellRun, error) {
	v, err := m.Devices.Victim(c.Column)
	if err != nil {
		return nil, err
	}
	dial := AddrDialer(m.Target.Addr)
	way, err := m.Devices.Byway(ListenerOf(c.Column.Profile), dial)
	if err != nil {
		return nil, err
	}
	return &cellRun{ctx: ctx, m: m, sc: s, cell: c, col: c.Column, victim: v, way: way, dial: dial}, nil
}

// newDevice returns a fresh device of the cell: a simulated one, or the
// board provisioned anew.
func (r *cellRun) newDevice() (Device, error) {
	ctx, cancel := r.stepCtx(r.stepTimeout())
	defer cancel()
	return r.m.Devices.NewDevice(ctx, r.col, r.victim, r.way)
}

// opened is the result of a device's handshake run in the background.
type opened struct {
	conn *DeviceConn
	err  error
}

// open starts dev's handshake; the attacker meanwhile takes the path.
func (r *cellRun) open(dev Device, timeout time.Duration) <-chan opened {
	ch := make(chan opened, 1)
	go func() {
		ctx, cancel := context.WithTimeout(r.ctx, timeout)
		defer cancel()
		c, err := dev.Handshake(ctx)
		ch <- opened{c, err}
	}()
	return ch
}

// wait returns the handshake's result.
func (r *cellRun) wait(ch <-chan opened) (*DeviceConn, error) {
	select {
	case o := <-ch:
		return o.conn, o.err
	case <-r.ctx.Done():
		return nil, r.ctx.Err()
	}
}

// next returns the path of the device's next connection.
func (r *cellRun) next() (Path, error) { return r.way.Next(r.ctx) }

// add records a fact.
func (r *cellRun) add(f reports.Fact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.facts = append(r.facts, f)
}

func (r *cellRun) note(format string, args ...any) {
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactNote, Note: fmt.Sprintf(format, args...)})
}

// refused records that side refused with err and returns the reason.
// On a board, the board's own words about it follow (DeviceSource.Words).
func (r *cellRun) refused(side reports.Side, err error, note string) handshake.Reason {
	he := sessionError(r.col.Profile, err)
	r.add(reports.Fact{Side: side, Kind: reports.FactRefused, Stage: string(he.Stage), Reason: string(he.Reason), Note: note})
	if side == reports.SideDevice {
		ctx, cancel := r.stepCtx(FailTimeout)
		defer cancel()
		for _, f := range r.m.Devices.Words(ctx) {
			r.add(f)
		}
	}
	return he.Reason
}

// deviceRefused records the device's refusal, the observation a rejection
// rests on; a device that only saw its connection end or time out refused
// nothing, and the cell cannot conclude.
func (r *cellRun) deviceRefused(err error, note string) error {
	switch reason := r.refused(reports.SideDevice, err, note); reason {
	case handshake.ReasonIO, handshake.ReasonTimeout:
		return fmt.Errorf("the device saw no refusal, only %s: %w", reason, err)
	}
	return nil
}

func (r *cellRun) read(field, value, note string) {
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactRead, Field: field, Value: value, Note: note})
}

// payload returns a payload unique to this cell: what a check looks for.
func (r *cellRun) payload(what string) []byte {
	return fmt.Appendf(nil, "%s %s/%s #%d", what, r.sc.Name, r.col.Name(), r.seq.Add(1))
}

func (r *cellRun) topic(leaf string) string { return "devices/" + r.victim.ID + "/" + leaf }

// sessionError classifies err as the *handshake.Error a side saw.
func sessionError(p handshake.Name, err error) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return handshake.Fail(p, handshake.StageTransport, handshake.ReasonTimeout, err)
	}
	if p == handshake.TLS {
		return tlsprofile.SessionError(err)
	}
	return handshake.Fail(p, handshake.StageTransport, "", err)
}

// serverRefusal waits up to failTimeout for a refusal the server logged
// after mark on listener l (see refusalOn), records it and returns its reason
// ("" when none came).
func (r *cellRun) serverRefusal(mark int, l Listener, note string) handshake.Reason {
	ev, ok := r.awaitEvent(mark, r.failTimeout(), refusalOn(l))
	if !ok {
		return ""
	}
	r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactRefused, Stage: string(ev.Stage), Reason: string(ev.Reason), Note: note})
	return ev.Reason
}

// refusalOn matches the events of listener l whose reason is a refusal, not
// io or timeout (those only say that the attacker hung up).
func refusalOn(l Listener) func(ServerEvent) bool {
	return func(e ServerEvent) bool {
		return e.Listener == l && e.Reason != handshake.ReasonIO && e.Reason != handshake.ReasonTimeout
	}
}

func (r *cellRun) awaitEvent(mark int, timeout time.Duration, match func(ServerEvent) bool) (ServerEvent, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		for _, e := range r.m.Target.Events(mark) {
			if match(e) {
				return e, true
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return ServerEvent{}, false
		case <-r.ctx.Done():
			return ServerEvent{}, false
		}
	}
}

// count returns how often the backend received payload on topic.
func (r *cellRun) count(topic string, payload []byte) int {
	n := 0
	for _, p := range r.m.Target.Delivered(topic) {
		if string(p) == string(payload) {
			n++
		}
	}
	return n
}

// awaitDelivery waits until the backend received payload on topic n times.
func (r *cellRun) awaitDelivery(topic string, payload []byte, n int) bool {
	return r.poll(deliveryTimeout, func() bool { return r.count(topic, payload) >= n })
}

// settle waits a quiet time in which late deliveries would show.
func (r *cellRun) settle() { r.poll(settle, func() bool { return false }) }

// delivered records how often the backend received payload (call settle
// first when a delivery may still be on its way).
func (r *cellRun) delivered(topic string, payload []byte, note string) int {
	n := r.count(topic, payload)
	r.add(reports.Fact{Side: reports.SideBackend, Kind: reports.FactDelivered, Field: topic, Value: string(payload), Count: n, Note: note})
	return n
}

// poll checks cond until it holds or timeout passes.
func (r *cellRun) poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		case <-r.ctx.Done():
			return false
		}
	}
}

// stepTimeout bounds one handshake or MQTT exchange expected to work.
func (r *cellRun) stepTimeout() time.Duration { return StepTimeout + r.m.Devices.Slack() }

// failTimeout bounds one exchange expected to fail.
func (r *cellRun) failTimeout() time.Duration { return FailTimeout + r.m.Devices.Slack() }

// stepCtx bounds one step of a cell.
func (r *cellRun) stepCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, d)
}

// closeAll closes what it is given, ignoring nils.
func closeAll(cs ...io.Closer) {
	for _, c := range cs {
		if c != nil && !isNilCloser(c) {
			c.Close()
		}
	}
}

func isNilCloser(c io.Closer) bool {
	switch v := c.(type) {
	case *DeviceConn:
		return v == nil
	case *Relay:
		return v == nil
	}
	return false
}
