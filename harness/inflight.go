package harness

import (
	"fmt"
	"time"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// command is one command and its turn on the link (docs/board-protocol.md
// §4.2: stop and wait). The link goroutine numbers it when its turn comes,
// writes it again with the same seq when no response arrives in time (at
// most Options.Retries times), holds it while the port is down, and calls
// done exactly once with the outcome.
type command struct {
	frame   bp.Frame
	timeout time.Duration
	attempt int
	done    func(cmdResult)
}

type cmdResult struct {
	status bp.Status
	body   []byte
	err    error
}

// submit queues c; it goes out when the commands before it are done.
func (l *link) submit(c *command) {
	if l.err != nil {
		c.done(cmdResult{err: l.err})
		return
	}
	l.queue = append(l.queue, c)
	l.next()
}

// next sends the first queued command when none is in flight.
func (l *link) next() {
	if l.cur != nil || len(l.queue) == 0 {
		return
	}
	c := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	c.frame.Seq = l.seq
	l.seq++
	l.cur = c
	l.transmit()
}

// transmit writes the command in flight when the port is up (up calls it
// again when it comes back) and starts its timer.
func (l *link) transmit() {
	if l.io == nil {
		return
	}
	wire, err := bp.AppendFrame(nil, l.cur.frame)
	if err != nil {
		l.finish(cmdResult{err: err})
		return
	}
	select {
	case l.io.writes <- wire:
	default:
	}
	l.retx.Reset(l.cur.timeout)
}

// retransmit runs when the command in flight got no response in time.
// The host sends the same command again with the same seq, at most 3 times
// (docs/board-protocol.md §4.2).
func (l *link) retransmit() {
	c := l.cur
	if c == nil {
		return
	}
	if c.attempt >= l.b.opts.Retries {
		l.finish(cmdResult{err: &handshake.Error{Stage: bp.StageCommand, Reason: handshake.ReasonNoResponse,
			Err: fmt.Errorf("harness: %s: %w", c.frame.Type, errNoResponse)}})
		return
	}
	c.attempt++
	l.stats.Retransmits++
	l.transmit()
}

// response matches a response frame to the command in flight. The host
// ignores a response whose seq or type does not match the outstanding
// command (a late answer to an earlier attempt).
func (l *link) response(f bp.Frame) {
	c := l.cur
	if c == nil || f.Type != c.frame.Type.Response() || f.Seq != c.frame.Seq {
		l.stats.StrayResponses++
		return
	}
	st, body, err := bp.SplitResponse(f.Payload)
	r := cmdResult{status: st, body: body, err: err}
	switch {
	case err != nil:
	case st == bp.StatusUnsupportedVersion:
		r.err = &handshake.Error{Stage: bp.StageCommand, Reason: handshake.ReasonUnsupportedVersion, Err: st}
	case st == bp.StatusOK && c.frame.Type == bp.CmdHello:
		if h, err := bp.ParseHello(body); err == nil && h.Version == bp.Version {
			l.maxPayload = int(h.MaxPayload)
		}
	}
	l.finish(r)
}

// finish ends the command in flight with r and sends the next.
func (l *link) finish(r cmdResult) {
	c := l.cur
	l.cur = nil
	l.retx.Stop()
	c.done(r)
	l.next()
}

// cancel ends c early with err, in flight or queued; a command already
// done is left alone.
func (l *link) cancel(c *command, err error) {
	if l.cur == c {
		l.finish(cmdResult{err: err})
		return
	}
	for i, q := range l.queue {
		if q == c {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			c.done(cmdResult{err: err})
			return
		}
	}
}

// failCommands ends every command with err.
func (l *link) failCommands(err error) {
	if l.cur != nil {
		c := l.cur
		l.cur = nil
		l.retx.Stop()
		c.done(cmdResult{err: err})
	}
	q := l.queue
	l.queue = nil
	for _, c := range q {
		c.done(cmdResult{err: err})
	}
}
