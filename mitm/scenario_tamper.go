package mitm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/reports"
)

// tlsSamplesPerUnit bounds the altered positions of one TLS record: every
// byte of short records, evenly spaced bytes of long ones (a ClientHello
// with a hybrid key share runs to kilobytes). A tuning constant.
const tlsSamplesPerUnit = 48

// tamperBit is the bit flipped in an altered byte.
const tamperBit = 0x01

type position struct {
	dir  Dir
	unit int // unit number in dir
	at   int // body offset
}

func (p position) String() string {
	return fmt.Sprintf("%s unit %d byte %d", p.dir, p.unit, p.at)
}

// tamperPositions lists the bytes to alter: every body byte of every
// handshake unit (sampled for TLS).
func tamperPositions(sh shape, f Framing) []position {
	var out []position
	for _, d := range []Dir{Upstream, Downstream} {
		for k, n := range sh.units(d) {
			stride := 1
			if f == FramingTLS && n > tlsSamplesPerUnit {
				stride = (n + tlsSamplesPerUnit - 1) / tlsSamplesPerUnit
			}
			for at := 0; at < n; at += stride {
				out = append(out, position{d, k, at})
			}
		}
	}
	return out
}

// alterAt returns the interceptor that flips one bit at pos and forwards
// everything else.
func alterAt(pos position) Interceptor {
	return func(from Dir, i int, u Unit) []Emit {
		if from == pos.dir && i == pos.unit && pos.at < len(u.Body()) {
			w := clone(u.Wire)
			w[len(u.Header())+pos.at] ^= tamperBit
			return []Emit{{To: from, Wire: w}}
		}
		return Forward(from, i, u)
	}
}

// runTamperHandshake alters each handshake byte in turn on a new session
// and requires every session to fail.
func runTamperHandshake(r *cellRun) (reports.Outcome, error) {
	sh, err := r.shape()
	if err != nil {
		return reports.Broken, err
	}
	positions := tamperPositions(sh, FramingOf(r.col.Profile))
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	tally := map[string]int{}
	var survived []position
	for _, pos := range positions {
		if err := r.ctx.Err(); err != nil {
			return reports.Broken, err
		}
		who, ok, err := r.tamperOnce(dev, pos)
		if err != nil {
			return reports.Broken, fmt.Errorf("%s: %w", pos, err)
		}
		if ok {
			survived = append(survived, pos)
			continue
		}
		tally[who]++
	}
	sampled := ""
	if FramingOf(r.col.Profile) == FramingTLS {
		sampled = fmt.Sprintf(" (at most %d evenly spaced bytes per TLS record)", tlsSamplesPerUnit)
	}
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactNote, Field: "altered sessions", Count: len(positions),
		Note: fmt.Sprintf("altered %d positions: every byte of the %d+%d handshake units%s", len(positions), len(sh.up), len(sh.down), sampled)})
	for _, k := range slices.Sorted(maps.Keys(tally)) {
		side, reason, _ := strings.Cut(k, ":")
		r.add(reports.Fact{Side: reports.Side(side), Kind: reports.FactRefused, Reason: reason, Count: tally[k],
			Note: fmt.Sprintf("%d of %d altered sessions", tally[k], len(positions))})
	}
	for i, pos := range survived {
		if i == 5 {
			break
		}
		r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactAccepted, Field: "altered handshake", Value: pos.String()})
	}
	return outcome(len(survived) > 0), nil
}

// tamperOnce runs one session with the byte at pos altered. It returns
// who refused it, as "side:reason", or ok when the session worked.
func (r *cellRun) tamperOnce(dev Device, pos position) (who string, ok bool, err error) {
	mark := r.m.Target.Mark()
	dc, relay, err := r.relayed(dev, ListenerOf(r.col.Profile), alterAt(pos), r.failTimeout())
	defer closeAll(dc, relay)
	var devErr error
	switch {
	case err != nil && relay == nil:
		return "", false, err
	case err != nil:
		devErr = err
	default:
		_, code, cerr := r.connect(dev, dc, r.failTimeout())
		switch {
		case cerr != nil:
			devErr = cerr
		case code != 0:
			return "server:" + string(handshake.ReasonConnackRefused), false, nil
		default:
			return "", true, nil
		}
	}
	he := sessionError(r.col.Profile, devErr)
	if he.Reason != handshake.ReasonIO && he.Reason != handshake.ReasonTimeout {
		return "device:" + string(he.Reason), false, nil
	}
	// The device only saw the connection end: the server refused.
	if ev, found := r.awaitEvent(mark, r.failTimeout(), refusalOn(ListenerOf(r.col.Profile))); found {
		return "server:" + string(ev.Reason), false, nil
	}
	return "device:" + string(he.Reason), false, nil
}

// transportAttack is what the relay does to the device's first PUBLISH
// record (A) and the one after it (B).
type transportAttack int

const (
	transportReplay   transportAttack = iota // A sent twice
	transportReorder                         // B before A
	transportDrop                            // A dropped
	transportTruncate                        // A's last byte cut
	transportReflect                         // A also sent back to the device
)

// interceptor returns the attack's interceptor, with a the unit number of
// record A upstream.
func (t transportAttack) interceptor(a int) Interceptor {
	var held []byte
	return func(from Dir, i int, u Unit) []Emit {
		if from != Upstream || (i != a && i != a+1) {
			return Forward(from, i, u)
		}
		switch {
		case t == transportReplay && i == a:
			return []Emit{{Upstream, u.Wire}, {Upstream, u.Wire}}
		case t == transportReorder && i == a:
			held = u.Wire
			return nil
		case t == transportReorder:
			return []Emit{{Upstream, u.Wire}, {Upstream, held}}
		case t == transportDrop && i == a:
			return nil
		case t == transportTruncate && i == a:
			b := u.Body()
			return []Emit{{Upstream, NewUnit(u, b[:len(b)-1]).Wire}}
		case t == transportReflect && i == a:
			return []Emit{{Downstream, u.Wire}, {Upstream, u.Wire}}
		}
		return Forward(from, i, u)
	}
}

// runTransport returns the scenario of a record-layer attack: after
// CONNECT the device publishes A and B at QoS 0, then pings.
func runTransport(t transportAttack) func(r *cellRun) (reports.Outcome, error) {
	return func(r *cellRun) (reports.Outcome, error) {
		sh, err := r.shape()
		if err != nil {
			return reports.Broken, err
		}
		// Upstream application units: CONNECT, A, B, PINGREQ.
		a := len(sh.up) + 1
		dev, err := r.newDevice()
		if err != nil {
			return reports.Broken, err
		}
		mark := r.m.Target.Mark()
		dc, relay, err := r.relayed(dev, ListenerOf(r.col.Profile), t.interceptor(a), r.stepTimeout())
		defer closeAll(dc, relay)
		if err != nil {
			return reports.Broken, fmt.Errorf("handshake: %w", err)
		}
		cl, code, err := r.connect(dev, dc, r.stepTimeout())
		if err != nil || code != 0 {
			return reports.Broken, fmt.Errorf("connect (code %d): %w", code, err)
		}
		topic := r.topic("telemetry")
		pa, pb := r.payload("record A"), r.payload("record B")
		if err := cl.PublishNow(topic, pa); err != nil {
			return reports.Broken, err
		}
		if err := cl.PublishNow(topic, pb); err != nil {
			return reports.Broken, err
		}
		ctx, cancel := r.stepCtx(r.failTimeout())
		defer cancel()
		pingErr := cl.Ping(ctx)
		if t == transportReflect {
			return r.reflectVerdict(cl, pingErr, pa)
		}
		refused := r.serverRefusal(mark, ListenerOf(r.col.Profile), "the device's records after the attack") != ""
		if pingErr != nil {
			if he := sessionError(r.col.Profile, pingErr); he.Reason != handshake.ReasonIO && he.Reason != handshake.ReasonTimeout {
				r.refused(reports.SideDevice, pingErr, "")
			}
		}
		r.settle()
		na := r.delivered(topic, pa, "record A")
		nb := r.delivered(topic, pb, "record B")
		var hit bool
		switch t {
		case transportReplay:
			hit = na >= 2
		case transportReorder, transportDrop:
			hit = nb >= 1
		case transportTruncate:
			hit = na >= 1
		}
		switch {
		case hit:
			return reports.Succeeded, nil
		case refused:
			return reports.Rejected, nil
		}
		return reports.Broken, errors.New("the attack showed no effect and no side refused")
	}
}

// reflectVerdict: the device must refuse its own record coming back.
func (r *cellRun) reflectVerdict(cl *client, pingErr error, pa []byte) (reports.Outcome, error) {
	for _, pk := range cl.queued {
		if pk.FixedHeader.Type == packets.Publish && string(pk.Payload) == string(pa) {
			r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "reflected record", Value: string(pa)})
			return reports.Succeeded, nil
		}
	}
	if pingErr == nil {
		return reports.Broken, errors.New("the device neither refused nor received the reflected record")
	}
	if err := r.deviceRefused(pingErr, "its own record, reflected"); err != nil {
		return reports.Broken, err
	}
	return reports.Rejected, nil
}
