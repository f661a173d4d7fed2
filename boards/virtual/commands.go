package virtual

import (
	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// queries are executed again on a retransmission; other commands answer
// with the remembered status (docs/board-protocol.md §4.2).
var queries = map[bp.Type]bool{bp.CmdHello: true, bp.CmdInfo: true, bp.CmdBench: true,
	bp.CmdReadCounters: true, bp.CmdReadLog: true}

// command handles one frame from the host.
func (b *Board) command(f bp.Frame) {
	b.count(bp.CounterFramesRx, 1)
	if !f.Type.IsCommand() {
		return // responses and events have no business here
	}
	if f.Version != bp.Version {
		b.respond(bp.Frame{Type: f.Type, Seq: f.Seq}, bp.StatusUnsupportedVersion, nil)
		return
	}
	b.mu.Lock()
	last := b.last
	b.mu.Unlock()
	if last.valid && last.typ == f.Type && last.seq == f.Seq && !queries[f.Type] {
		var body []byte
		if f.Type == bp.CmdProvision {
			body = []byte{0}
		}
		b.respond(f, last.status, body)
		return
	}
	st := b.execute(f)
	if f.Type == bp.CmdReset {
		return // a rebooted board remembers no command
	}
	b.mu.Lock()
	b.last = lastCmd{valid: true, typ: f.Type, seq: f.Seq, status: st}
	b.mu.Unlock()
}

// execute runs a command and sends its response; it returns the status.
func (b *Board) execute(f bp.Frame) bp.Status {
	p := f.Payload
	switch f.Type {
	case bp.CmdHello:
		return b.hello(f)
	case bp.CmdInfo:
		if len(p) != 0 {
			return b.refuse(f, bp.StatusBadLength)
		}
		b.respond(f, bp.StatusOK, b.info().Append(nil))
		return bp.StatusOK
	case bp.CmdProvision:
		st, tag := b.provision(p)
		b.respond(f, st, []byte{tag})
		return st
	case bp.CmdBench:
		req, err := bp.ParseBenchRequest(p)
		if err != nil {
			return b.refuse(f, statusOf(err))
		}
		if b.state() == bp.StateHandshake {
			return b.refuse(f, bp.StatusBusy)
		}
		res, st := b.bench(req)
		if st != bp.StatusOK {
			return b.refuse(f, st)
		}
		b.respond(f, bp.StatusOK, res.Append(nil))
		return bp.StatusOK
	case bp.CmdHandshake:
		return b.handshake(f)
	case bp.CmdRelayData:
		return b.refuse(f, b.relayData(p))
	case bp.CmdRelayClose:
		r, err := bp.ParseReason(p)
		if err != nil {
			return b.refuse(f, statusOf(err))
		}
		b.relayClose(r)
		return b.refuse(f, bp.StatusOK)
	case bp.CmdSend:
		return b.refuse(f, b.send(p))
	case bp.CmdReadCounters:
		if len(p) != 0 {
			return b.refuse(f, bp.StatusBadLength)
		}
		b.respond(f, bp.StatusOK, b.readCounters().Append(nil))
		return bp.StatusOK
	case bp.CmdReadLog:
		cursor, err := bp.ParseLogRequest(p)
		if err != nil {
			return b.refuse(f, statusOf(err))
		}
		b.mu.Lock()
		l := b.log.read(uint32(cursor), b.cfg.MaxPayload-9)
		b.mu.Unlock()
		b.respond(f, bp.StatusOK, l.Append(nil))
		return bp.StatusOK
	case bp.CmdReset:
		kind, err := bp.ParseResetKind(p)
		if err != nil {
			return b.refuse(f, statusOf(err))
		}
		b.respond(f, bp.StatusOK, nil)
		reason := bp.BootSoft
		if kind == bp.ResetReboot {
			reason = bp.BootWatchdog
		}
		b.reboot(reason)
		return bp.StatusOK
	case bp.CmdClose:
		if len(p) != 0 {
			return b.refuse(f, bp.StatusBadLength)
		}
		return b.closeRun(f)
	}
	return b.refuse(f, bp.StatusUnknownCommand)
}

// refuse answers with a bare status (OK included) and returns it.
func (b *Board) refuse(f bp.Frame, st bp.Status) bp.Status {
	b.respond(f, st, nil)
	return st
}

// statusOf maps a payload decoding error to a status.
func statusOf(err error) bp.Status {
	switch handshake.ReasonOf(err) {
	case handshake.ReasonShortFrame, handshake.ReasonOversizeFrame:
		return bp.StatusBadLength
	}
	return bp.StatusBadValue
}

func (b *Board) state() bp.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.run == nil {
		return bp.StateIdle
	}
	return b.run.state()
}

func (b *Board) hello(f bp.Frame) bp.Status {
	req, err := bp.ParseHelloRequest(f.Payload)
	if err != nil {
		return b.refuse(f, statusOf(err))
	}
	if req.MinVersion > bp.Version || req.MaxVersion < bp.Version {
		return b.refuse(f, bp.StatusUnsupportedVersion)
	}
	b.mu.Lock()
	h := bp.Hello{Version: bp.Version, MaxPayload: byte(b.cfg.MaxPayload), BootCount: b.bootCount}
	b.mu.Unlock()
	h.State = b.state()
	b.respond(f, bp.StatusOK, h.Append(nil))
	return bp.StatusOK
}

func (b *Board) info() bp.Info {
	// Its ephemerals come from crypto/rand: the host's entropy.
	caps := bp.CapRelay | bp.CapStorage | bp.CapEntropy
	if !b.cfg.NoNetwork {
		caps |= bp.CapNetwork
	}
	in := bp.Info{Version: bp.Version, MaxPayload: byte(b.cfg.MaxPayload), Caps: caps,
		ClockHz: b.cfg.ClockHz, Unit: bp.UnitNanoseconds,
		Curves: []bp.Curve{bp.CurveX25519, bp.CurveP256, bp.CurveSecp160r1},
		AEADs:  []bp.AEAD{bp.AEADChaCha20Poly1305, bp.AEADAES128GCM, bp.AEADAES256GCM},
		Board:  clip(b.cfg.Board), Chip: clip(b.cfg.Chip), Firmware: clip(b.cfg.Firmware), Serial: clip(b.cfg.Serial)}
	for _, n := range handshake.Profiles {
		if b.cfg.Devices[n] != nil {
			in.Profiles = append(in.Profiles, n)
		}
	}
	return in
}

func clip(s string) string {
	if len(s) > bp.StringMax {
		return s[:bp.StringMax]
	}
	return s
}

// provision applies one PROVISION payload to the identity store.
func (b *Board) provision(p []byte) (bp.Status, byte) {
	got, tag, err := bp.ParseProvision(p, bp.Provision{})
	if err != nil {
		if tag == 0 {
			return bp.StatusBadLength, 0
		}
		return bp.StatusBadValue, tag
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.run != nil {
		return bp.StatusBusy, 0
	}
	if got.Erase {
		b.store = map[handshake.Name]*slot{}
		b.provFor = ""
	}
	prof := got.Profile
	if prof == "" {
		prof = b.provFor
	}
	if prof == "" {
		if got.Erase && len(p) == 2 {
			return bp.StatusOK, 0 // erase alone
		}
		return bp.StatusBadValue, bp.TagProfile
	}
	if b.cfg.Devices[prof] == nil {
		return bp.StatusUnsupported, bp.TagProfile
	}
	b.provFor = prof
	s := b.store[prof]
	if s == nil {
		s = &slot{prov: bp.Provision{Profile: prof}}
		b.store[prof] = s
	}
	merge(&s.prov, got)
	if got.Counter != nil {
		s.counter = *got.Counter
	}
	return bp.StatusOK, 0
}

// merge copies the fields present in src onto dst.
func merge(dst *bp.Provision, src bp.Provision) {
	if src.DeviceID != "" {
		dst.DeviceID = src.DeviceID
	}
	if src.DeviceKey != nil {
		dst.DeviceKey = src.DeviceKey
	}
	if src.ServerKey != nil {
		dst.ServerKey = src.ServerKey
	}
	if src.ServerKeyNext != nil {
		dst.ServerKeyNext = src.ServerKeyNext
	}
	if src.Curve != 0 {
		dst.Curve = src.Curve
	}
	if src.TLSVerify != 0 {
		dst.TLSVerify = src.TLSVerify
	}
	if src.TLSPin != nil {
		dst.TLSPin = src.TLSPin
	}
	if src.ServerName != "" {
		dst.ServerName = src.ServerName
	}
	if src.NoisePattern != 0 {
		dst.NoisePattern = src.NoisePattern
	}
}

func (b *Board) readCounters() bp.Counters {
	b.mu.Lock()
	defer b.mu.Unlock()
	cs := bp.Counters{{ID: bp.CounterBoots, Value: uint64(b.bootCount)}}
	for id := bp.CounterFramesRx; id <= bp.CounterRelayBytesTx; id++ {
		if id == bp.CounterMessageCounter {
			var v uint64
			if s := b.store[handshake.Noise]; s != nil {
				v = s.counter
			}
			cs = append(cs, bp.Counter{ID: id, Value: v})
			continue
		}
		cs = append(cs, bp.Counter{ID: id, Value: b.counters[id]})
	}
	cs = append(cs, bp.Counter{ID: bp.CounterLastFailureReason, Value: b.counters[bp.CounterLastFailureReason]},
		bp.Counter{ID: bp.CounterUptimeMillis, Value: uint64(timeSince(b.bootStart).Milliseconds())})
	return cs
}
