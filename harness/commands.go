package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// Hello greets the board and learns its protocol version and payload limit.
func (b *Board) Hello(ctx context.Context) (bp.Hello, error) {
	req := bp.HelloRequest{MinVersion: bp.Version, MaxVersion: bp.Version}
	body, err := b.query(ctx, bp.CmdHello, req.Append(nil), b.opts.ResponseTimeout)
	if err != nil {
		return bp.Hello{}, err
	}
	h, err := bp.ParseHello(body)
	if err != nil {
		return bp.Hello{}, err
	}
	if h.Version != bp.Version {
		return bp.Hello{}, &handshake.Error{Stage: bp.StageCommand, Reason: handshake.ReasonUnsupportedVersion,
			Err: errors.New("harness: the board chose a version outside the range offered")}
	}
	return h, nil
}

// Info asks the board who it is.
func (b *Board) Info(ctx context.Context) (bp.Info, error) {
	body, err := b.query(ctx, bp.CmdInfo, nil, b.opts.ResponseTimeout)
	if err != nil {
		return bp.Info{}, err
	}
	return bp.ParseInfo(body)
}

// Provision stores an identity on the board, in as many PROVISION commands
// as the board's payload limit needs.
func (b *Board) Provision(ctx context.Context, p bp.Provision) error {
	payloads, err := p.Payloads(b.MaxPayload())
	if err != nil {
		return &handshake.Error{Profile: p.Profile, Stage: bp.StageCommand, Reason: handshake.ReasonOversizeFrame, Err: err}
	}
	for _, pl := range payloads {
		st, body, err := b.do(ctx, bp.CmdProvision, pl, b.opts.ProvisionTimeout)
		if err != nil {
			return err
		}
		if err := st.Err(); err != nil {
			var he *handshake.Error
			if errors.As(err, &he) && len(body) == 1 && body[0] != 0 {
				he.Err = &ProvisionError{Status: st, Tag: body[0]}
			}
			return err
		}
	}
	return nil
}

// ProvisionError names the field a board refused.
type ProvisionError struct {
	Status bp.Status
	Tag    byte
}

func (e *ProvisionError) Error() string {
	return "harness: the board refused provisioning field " + tagName(e.Tag) + ": " + e.Status.String()
}

func (e *ProvisionError) Unwrap() error { return e.Status }

func tagName(t byte) string {
	names := map[byte]string{bp.TagProfile: "profile", bp.TagDeviceID: "device_id", bp.TagDeviceKey: "device_key",
		bp.TagServerKey: "server_key", bp.TagServerKeyNext: "server_key_next", bp.TagCounter: "counter",
		bp.TagCurve: "curve", bp.TagTLSVerify: "tls_verify", bp.TagTLSPin: "tls_pin",
		bp.TagServerName: "server_name", bp.TagNoisePattern: "noise_pattern", bp.TagRNGSeed: "rng_seed",
		bp.TagErase: "erase"}
	if n, ok := names[t]; ok {
		return n
	}
	return "unknown"
}

// Bench asks the board to time an operation with its own counter.
func (b *Board) Bench(ctx context.Context, req bp.BenchRequest) (bp.BenchResult, error) {
	// A bench has the board to itself: no retransmission before it can be done.
	body, err := b.query(ctx, bp.CmdBench, req.Append(nil), b.opts.BenchTimeout)
	if err != nil {
		return bp.BenchResult{}, err
	}
	return bp.ParseBenchResult(body)
}

// Counters reads the board's counters.
func (b *Board) Counters(ctx context.Context) (bp.Counters, error) {
	body, err := b.query(ctx, bp.CmdReadCounters, nil, b.opts.ResponseTimeout)
	if err != nil {
		return nil, err
	}
	return bp.ParseCounters(body)
}

// ReadLog reads the board's log from cursor; pass the returned Next to
// continue.
func (b *Board) ReadLog(ctx context.Context, cursor uint32) (bp.Log, error) {
	body, err := b.query(ctx, bp.CmdReadLog, bp.LogRequest(cursor).Append(nil), b.opts.ResponseTimeout)
	if err != nil {
		return bp.Log{}, err
	}
	l, err := bp.ParseLog(body)
	if err != nil {
		return bp.Log{}, err
	}
	l.Text = append([]byte(nil), l.Text...)
	return l, nil
}

// Reset sends RESET and waits for the BOOT that follows, then greets the
// board again.
func (b *Board) Reset(ctx context.Context, kind bp.ResetKind) (bp.Boot, error) {
	_, gen := b.LastBoot()
	if _, err := b.query(ctx, bp.CmdReset, []byte{byte(kind)}, b.opts.ResponseTimeout); err != nil {
		return bp.Boot{}, err
	}
	return b.afterBoot(ctx, gen)
}

// ErrNoModemLines is wrapped by HardReset's error when the port cannot set
// DTR or RTS (a pseudo-terminal, some USB CDC stacks).
var ErrNoModemLines = errors.New("harness: the port has no modem lines")

// HardReset resets the board through the modem lines as the profile says
// and waits for its BOOT. It returns false, without error, when the method
// is none or the port has no modem lines and the profile does not require a
// hardware reset.
func (b *Board) HardReset(ctx context.Context) (bool, error) {
	if b.opts.Reset == ResetNone {
		if b.opts.ResetRequired {
			return false, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonResetUnavailable, Err: ErrNoModemLines}
		}
		return false, nil
	}
	_, gen := b.LastBoot()
	if err := pulse(ctx, linkLines{b, ctx}, b.opts.Reset, b.opts.ResetPulse); err != nil {
		var linkErr *handshake.Error
		switch {
		case errors.Is(err, ErrNoModemLines) && !b.opts.ResetRequired:
			return false, nil
		case errors.As(err, &linkErr): // the link, not the lines, failed
			return false, linkErr
		}
		return false, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonResetUnavailable, Err: err}
	}
	_, err := b.afterBoot(ctx, gen)
	return err == nil, err
}

// idlePoll spaces the HELLOs of WaitIdle (tuning).
const idlePoll = 5 * time.Millisecond

// WaitIdle returns once the board says it is idle. A board reports the end
// of a failed relay handshake (HANDSHAKE_DONE) before it closes the relay
// (CLOSED) and forgets the run; its HELLO answer, read after every event it
// sent before, says when all of that is over, and only then does the next
// HANDSHAKE or PROVISION find it free instead of busy.
func (b *Board) WaitIdle(ctx context.Context) error {
	for {
		h, err := b.Hello(ctx)
		if err != nil {
			return err
		}
		if h.State == bp.StateIdle {
			return nil
		}
		t := time.NewTimer(idlePoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &handshake.Error{Stage: bp.StageCommand, Reason: handshake.ReasonTimeout,
				Err: fmt.Errorf("harness: the board stayed %s: %w", h.State, ctx.Err())}
		}
	}
}

// WaitBoot waits for the next BOOT event (after a reset the caller caused
// some other way).
func (b *Board) WaitBoot(ctx context.Context) (bp.Boot, error) {
	_, gen := b.LastBoot()
	return b.afterBoot(ctx, gen)
}

// afterBoot waits until a BOOT newer than gen arrived, then sends HELLO.
func (b *Board) afterBoot(ctx context.Context, gen uint64) (bp.Boot, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.BootTimeout)
	defer cancel()
	boot, err := b.bootAfter(ctx, gen)
	if err != nil {
		return bp.Boot{}, err
	}
	if _, err := b.Hello(ctx); err != nil {
		return bp.Boot{}, err
	}
	return boot, nil
}

// awaitBoot waits up to d for a first BOOT event; a board that sends none
// (it did not reset) costs d.
func (b *Board) awaitBoot(ctx context.Context, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	b.bootAfter(ctx, 0)
}

// bootAfter waits until the link has seen a BOOT newer than gen.
func (b *Board) bootAfter(ctx context.Context, gen uint64) (bp.Boot, error) {
	for {
		v := b.view.Load()
		if v.bootGen > gen {
			return v.lastBoot, nil
		}
		select {
		case <-v.booted:
		case <-ctx.Done():
			return bp.Boot{}, &handshake.Error{Stage: bp.StageLink, Reason: handshake.ReasonTimeout,
				Err: errors.New("harness: no BOOT from the board after the reset")}
		case <-b.stopped:
			return bp.Boot{}, closedErr()
		}
	}
}

// ModemLines is the part of serial.Port a reset needs.
type ModemLines interface {
	SetDTR(bool) error
	SetRTS(bool) error
}

// pulse drives the modem lines for method. Errors of a port without modem
// lines (ENOTTY, EINVAL on a pseudo-terminal) wrap ErrNoModemLines.
func pulse(ctx context.Context, port ModemLines, method ResetMethod, width time.Duration) error {
	set := func(dtr, rts *bool) error {
		if dtr != nil {
			if err := port.SetDTR(*dtr); err != nil {
				return modemErr(err)
			}
		}
		if rts != nil {
			if err := port.SetRTS(*rts); err != nil {
				return modemErr(err)
			}
		}
		return nil
	}
	on, off := true, false
	var start, end func() error
	switch method {
	case ResetDTR:
		start, end = func() error { return set(&off, nil) }, func() error { return set(&on, nil) }
	case ResetRTS:
		start, end = func() error { return set(nil, &on) }, func() error { return set(nil, &off) }
	case ResetESP:
		start, end = func() error { return set(&off, &on) }, func() error { return set(&off, &off) }
	default:
		return ErrNoModemLines
	}
	if err := start(); err != nil {
		return err
	}
	t := time.NewTimer(width)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		end()
		return ctx.Err()
	}
	return end()
}
