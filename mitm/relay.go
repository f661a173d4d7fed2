package mitm

import (
	"io"
	"sync"

	"shakedown/handshake"
)

// Dir is the way a unit travels.
type Dir int

const (
	Upstream   Dir = iota // device -> server
	Downstream            // server -> device
)

func (d Dir) String() string {
	if d == Upstream {
		return "device->server"
	}
	return "server->device"
}

// Reverse returns the other direction: where a reflected unit goes.
func (d Dir) Reverse() Dir { return 1 - d }

// Emit is a unit the interceptor sends on: its bytes, towards To.
type Emit struct {
	To   Dir
	Wire []byte
}

// Interceptor decides the fate of every unit the relay reads: it returns
// the units to send in its place. Returning the unit towards its direction
// forwards it; nothing drops it; the unit twice replays it; an altered copy
// tampers with it; holding it and returning it later reorders; sending it
// towards from.Reverse() reflects it. i counts the units of direction from,
// from 0. Interceptors of the two directions run concurrently.
type Interceptor func(from Dir, i int, u Unit) []Emit

// Forward is the interceptor of an honest relay.
func Forward(from Dir, _ int, u Unit) []Emit { return []Emit{{To: from, Wire: u.Wire}} }

// Capture is one unit the relay read, as it arrived.
type Capture struct {
	Dir    Dir
	Index  int   // the unit's number in its direction, from 0
	Offset int64 // the offset of its first byte in its direction's stream
	Unit
}

// End is the offset just past the unit.
func (c Capture) End() int64 { return c.Offset + int64(len(c.Wire)) }

// Recording holds the units a relay read, in arrival order. It is safe for
// concurrent use.
type Recording struct {
	mu    sync.Mutex
	units []Capture
	next  [2]int
	off   [2]int64
}

func (r *Recording) add(d Dir, u Unit) Capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := Capture{Dir: d, Index: r.next[d], Offset: r.off[d], Unit: u}
	r.next[d]++
	r.off[d] += int64(len(u.Wire))
	r.units = append(r.units, c)
	return c
}

// Units returns the units of direction d in order.
func (r *Recording) Units(d Dir) []Capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Capture
	for _, c := range r.units {
		if c.Dir == d {
			out = append(out, c)
		}
	}
	return out
}

// All returns every unit in arrival order.
func (r *Recording) All() []Capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Capture(nil), r.units...)
}

// Relay carries units between the device's and the server's ends of a
// Path, through an Interceptor, recording everything it reads. It owns both
// ends: when a direction ends it half-closes (or closes) the end that
// direction wrote to, and Close closes both.
type Relay struct {
	ends    [2]io.ReadWriteCloser // indexed by the Dir written to: Upstream writes to the server
	framing Framing
	profile handshake.Name
	ic      Interceptor
	rec     *Recording

	wmu  [2]sync.Mutex
	wg   sync.WaitGroup
	once sync.Once
	mu   sync.Mutex
	errs [2]error
	done chan struct{}
}

// NewRelay starts carrying units between device and server. A nil
// interceptor forwards everything.
func NewRelay(device, server io.ReadWriteCloser, f Framing, p handshake.Name, ic Interceptor) *Relay {
	if ic == nil {
		ic = Forward
	}
	r := &Relay{framing: f, profile: p, ic: ic, rec: &Recording{}, done: make(chan struct{})}
	r.ends[Upstream], r.ends[Downstream] = server, device
	r.wg.Add(2)
	go r.pump(Upstream, device)
	go r.pump(Downstream, server)
	go func() { r.wg.Wait(); close(r.done) }()
	return r
}

// Recording returns what the relay has read so far.
func (r *Relay) Recording() *Recording { return r.rec }

// Done is closed when both directions have ended.
func (r *Relay) Done() <-chan struct{} { return r.done }

// Err returns why direction d ended: nil for a clean end of stream.
func (r *Relay) Err(d Dir) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs[d]
}

// Close closes both ends and waits for the relay to stop. Safe to call twice.
func (r *Relay) Close() error {
	r.once.Do(func() {
		r.ends[Upstream].Close()
		r.ends[Downstream].Close()
	})
	<-r.done
	return nil
}

// pump reads the units travelling in direction d from src.
func (r *Relay) pump(d Dir, src io.Reader) {
	defer r.wg.Done()
	err := r.carry(d, src)
	if err != nil && isEOF(err) {
		err = nil
	}
	r.mu.Lock()
	r.errs[d] = err
	r.mu.Unlock()
	// The end this direction wrote to hears the end of the stream; the
	// other direction goes on until its own source ends.
	halfClose(r.ends[d])
	if err != nil {
		r.ends[d.Reverse()].Close()
	}
}

func (r *Relay) carry(d Dir, src io.Reader) error {
	for {
		u, err := ReadUnit(src, r.framing, r.profile)
		if err != nil {
			return err
		}
		c := r.rec.add(d, u)
		for _, e := range r.ic(d, c.Index, u) {
			if err := r.write(e); err != nil {
				return err
			}
		}
	}
}

// Write sends bytes towards to, between the units the relay forwards:
// the attacker's own injections.
func (r *Relay) Write(to Dir, wire []byte) error { return r.write(Emit{To: to, Wire: wire}) }

func (r *Relay) write(e Emit) error {
	r.wmu[e.To].Lock()
	defer r.wmu[e.To].Unlock()
	if _, err := r.ends[e.To].Write(e.Wire); err != nil {
		return handshake.Fail(r.profile, StageRelay, "", err)
	}
	return nil
}

// halfClose ends the writing half of c when it has one, or closes it.
func halfClose(c io.Closer) {
	if hc, ok := c.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
		return
	}
	c.Close()
}
