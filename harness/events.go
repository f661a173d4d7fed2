package harness

import (
	"errors"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// frame takes a frame the decoder found on the line.
func (l *link) frame(f bp.Frame) {
	l.stats.FramesRx++
	if f.Version != bp.Version {
		// A host receiving a frame of an unknown version ignores it and
		// counts it (docs/board-protocol.md §4.4).
		l.stats.OtherVersion++
		return
	}
	switch {
	case f.Type.IsResponse():
		l.response(f)
	case f.Type.IsEvent():
		l.event(f)
	}
}

// event takes an event: the board's account of what runs on it, which
// moves the attached session and its relay along (the package doc's table).
func (l *link) event(f bp.Frame) {
	if f.Type == bp.EvtBoot {
		l.boot(f.Payload)
		return
	}
	// The host detects a lost event by a gap. A gap during a relayed
	// handshake or session ends it (docs/board-protocol.md §4.3).
	if l.evNext >= 0 && int(f.Seq) != l.evNext {
		l.stats.LostEvents += uint64(byte(int(f.Seq) - l.evNext))
		if st := l.sess; st != nil {
			l.endRelay(st, &handshake.Error{Stage: bp.StageRelay, Reason: handshake.ReasonLinkLost,
				Err: errors.New("harness: board events were lost")})
		}
	}
	l.evNext = int(f.Seq+1) & 0xFF
	st := l.sess
	if st == nil {
		return // nothing the harness waits for runs on the board
	}
	switch f.Type {
	case bp.EvtRelayData:
		if st.conn != nil {
			st.conn.Deliver(f.Payload)
		}
	case bp.EvtRelayCredit:
		if c, err := bp.ParseCredit(f.Payload); err == nil {
			l.grant(st, int(c))
		}
	case bp.EvtClosed:
		r, err := bp.ParseReason(f.Payload)
		if err != nil {
			r = handshake.ReasonMalformed
		}
		var cause error
		if r != "" {
			cause = &handshake.Error{Stage: bp.StageRelay, Reason: r, Err: errors.New("harness: the board closed the relay")}
		}
		l.boardEnded(st, r, cause)
	case bp.EvtHandshakeDone:
		l.handshakeDone(st, f.Payload)
	case bp.EvtMessage:
		st.s.deliver(f.Payload)
	}
}

// boot takes a BOOT event: whatever ran on the board is gone
// (docs/board-protocol.md §5.9): a handshake in progress has failed with
// board_reset, and a relay is over.
func (l *link) boot(payload []byte) {
	l.evNext = 1
	l.stats.Boots++
	if boot, err := bp.ParseBoot(payload); err == nil {
		l.lastBoot = boot
		l.maxPayload = int(boot.MaxPayload)
	}
	l.bootGen++
	close(l.booted)
	l.booted = make(chan struct{})
	if st := l.sess; st != nil {
		l.boardEnded(st, handshake.ReasonBoardReset, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonBoardReset,
			Err: errors.New("harness: the board rebooted")})
	}
}

// handshakeDone takes HANDSHAKE_DONE. On success the session is open. On
// failure in relay mode the board's CLOSED follows (docs/board-protocol.md
// §5.5): the session waits for it, up to the link's allowance, before the
// handshake learns the outcome, so that a late CLOSED cannot end the next
// handshake's relay.
func (l *link) handshakeDone(st *sessionState, payload []byte) {
	if st.phase != phaseHandshake {
		return
	}
	var out hsOutcome
	out.done, out.err = bp.ParseHandshakeDone(payload)
	if out.err == nil {
		out.err = out.done.Err()
	}
	switch {
	case out.err == nil:
		st.phase = phaseOpen
	case st.conn != nil && !st.boardDone:
		st.phase, st.held = phaseFailing, out
		l.overdue.Reset(l.b.allowance())
		return
	default:
		st.phase = phaseOver
	}
	st.report(out)
}

// closedOverdue runs when a failed relay handshake's CLOSED did not come.
func (l *link) closedOverdue() {
	if st := l.sess; st != nil && st.phase == phaseFailing {
		l.settle(st, nil)
	}
}

// boardEnded runs when the board ended what ran on it (CLOSED with reason
// r, or BOOT): the relay is over without a RELAY_CLOSE, a waiting handshake
// learns why, the session ends with r, and the link is idle.
func (l *link) boardEnded(st *sessionState, r handshake.Reason, cause error) {
	st.boardDone = true
	l.endRelay(st, cause)
	if cause == nil {
		cause = &handshake.Error{Stage: bp.StageRelay, Reason: handshake.ReasonIO,
			Err: errors.New("harness: the board ended the handshake")}
	}
	l.settle(st, cause)
	st.s.finish(r)
	l.sess = nil
}

// settle gives a waiting handshake its outcome: the failure held back
// while the session waited for CLOSED, else err.
func (l *link) settle(st *sessionState, err error) {
	switch st.phase {
	case phaseHandshake:
		st.report(hsOutcome{err: err})
	case phaseFailing:
		l.overdue.Stop()
		st.report(st.held)
	}
	if st.phase != phaseOpen {
		st.phase = phaseOver
	}
}
