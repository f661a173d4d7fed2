package boardproto

import (
	"encoding/binary"
	"errors"
	"time"

	"shakedown/handshake"
)

// Payload layouts of version 1 (docs/board-protocol.md §5). A response
// payload is a 1-byte Status followed, on success, by the body laid out
// here; a refused command's response is the Status byte alone (PROVISION
// adds the offending tag). Append methods write a body; Parse functions read
// one and refuse bad input with a *handshake.Error.

// AppendResponse appends a response payload: status, then body.
func AppendResponse(dst []byte, st Status, body []byte) []byte {
	return append(append(dst, byte(st)), body...)
}

// SplitResponse returns the status and body of a response payload.
func SplitResponse(p []byte) (Status, []byte, error) {
	if len(p) < 1 {
		return 0, nil, short()
	}
	return Status(p[0]), p[1:], nil
}

// ---------------------------------------------------------------- HELLO

// HelloRequest is the HELLO command payload:
//
//	1B: min_version  lowest version the host speaks
//	1B: max_version  highest version the host speaks
type HelloRequest struct{ MinVersion, MaxVersion byte }

const helloRequestLen = 2

func (h HelloRequest) Append(dst []byte) []byte { return append(dst, h.MinVersion, h.MaxVersion) }

// ParseHelloRequest decodes a HELLO command payload.
func ParseHelloRequest(p []byte) (HelloRequest, error) {
	if err := exactLen(p, helloRequestLen); err != nil {
		return HelloRequest{}, err
	}
	return HelloRequest{MinVersion: p[0], MaxVersion: p[1]}, nil
}

// State is what the board is doing.
type State byte

const (
	StateIdle      State = 0 // no handshake, no session
	StateHandshake State = 1 // a handshake runs
	StateSession   State = 2 // a session is open (SEND and MESSAGE work)
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateHandshake:
		return "handshake"
	case StateSession:
		return "session"
	}
	return "state_" + hexByte(byte(s))
}

// Hello is the HELLO response body:
//
//	1B: version      protocol version the board speaks
//	1B: max_payload  largest payload the board accepts and sends (64-255)
//	1B: state        State
//	4B: boot_count   boots since the board's storage was erased, big-endian
type Hello struct {
	Version    byte
	MaxPayload byte
	State      State
	BootCount  uint32
}

const helloLen = 7

func (h Hello) Append(dst []byte) []byte {
	dst = append(dst, h.Version, h.MaxPayload, byte(h.State))
	return binary.BigEndian.AppendUint32(dst, h.BootCount)
}

// ParseHello decodes a HELLO response body.
func ParseHello(p []byte) (Hello, error) {
	if err := exactLen(p, helloLen); err != nil {
		return Hello{}, err
	}
	h := Hello{Version: p[0], MaxPayload: p[1], State: State(p[2]), BootCount: binary.BigEndian.Uint32(p[3:])}
	if h.MaxPayload < MinPayloadLimit || h.State > StateSession {
		return Hello{}, malformed(errBadCode)
	}
	return h, nil
}

// ---------------------------------------------------------------- INFO

// Caps are the INFO capability bits.
type Caps byte

const (
	CapRelay   Caps = 1 << 0 // relay mode: handshake bytes travel over the link
	CapNetwork Caps = 1 << 1 // network mode: the board has its own network
	CapStorage Caps = 1 << 2 // identity and counter survive power loss
	CapEntropy Caps = 1 << 3 // the chip's hardware entropy source fed the random generator at this boot
	CapSeeded  Caps = 1 << 4 // the random generator holds a seed from provisioning (TagRNGSeed)
)

// Info is the INFO response body (the command payload is empty):
//
//	1B: version
//	1B: max_payload
//	1B: caps         Caps bits
//	4B: clock_hz     core clock, big-endian
//	1B: unit         Unit of BENCH and HANDSHAKE_DONE counts
//	1B: profiles     bitmap, bit n-1 for ProfileCode n
//	1B: curves       bitmap, bit n-1 for Curve n
//	1B: aeads        bitmap, bit n-1 for AEAD n
//	then four strings, each 1B length (0-32) and printable ASCII:
//	board, chip, firmware, serial
type Info struct {
	Version    byte
	MaxPayload byte
	Caps       Caps
	ClockHz    uint32
	Unit       Unit
	Profiles   []handshake.Name
	Curves     []Curve
	AEADs      []AEAD
	Board      string
	Chip       string
	Firmware   string
	Serial     string
}

const infoFixedLen = 11

func (in Info) Append(dst []byte) []byte {
	var profiles, curves, aeads byte
	for _, n := range in.Profiles {
		profiles |= bit(byte(ProfileCodeOf(n)))
	}
	for _, c := range in.Curves {
		curves |= bit(byte(c))
	}
	for _, a := range in.AEADs {
		aeads |= bit(byte(a))
	}
	dst = append(dst, in.Version, in.MaxPayload, byte(in.Caps))
	dst = binary.BigEndian.AppendUint32(dst, in.ClockHz)
	dst = append(dst, byte(in.Unit), profiles, curves, aeads)
	for _, s := range []string{in.Board, in.Chip, in.Firmware, in.Serial} {
		dst = appendString(dst, s, StringMax)
	}
	return dst
}

// ParseInfo decodes an INFO response body.
func ParseInfo(p []byte) (Info, error) {
	if len(p) < infoFixedLen {
		return Info{}, short()
	}
	in := Info{Version: p[0], MaxPayload: p[1], Caps: Caps(p[2]),
		ClockHz: binary.BigEndian.Uint32(p[3:]), Unit: Unit(p[7])}
	if in.MaxPayload < MinPayloadLimit {
		return Info{}, malformed(errBadCode)
	}
	for c := ProfileCode(1); c <= 8; c++ {
		if p[8]&bit(byte(c)) != 0 && c.Name() != "" {
			in.Profiles = append(in.Profiles, c.Name())
		}
	}
	for c := Curve(1); c <= 8; c++ {
		if p[9]&bit(byte(c)) != 0 {
			in.Curves = append(in.Curves, c)
		}
	}
	for a := AEAD(1); a <= 8; a++ {
		if p[10]&bit(byte(a)) != 0 {
			in.AEADs = append(in.AEADs, a)
		}
	}
	rest := p[infoFixedLen:]
	var err error
	for _, s := range []*string{&in.Board, &in.Chip, &in.Firmware, &in.Serial} {
		if *s, rest, err = parseString(rest, StringMax); err != nil {
			return Info{}, err
		}
	}
	if len(rest) != 0 {
		return Info{}, long()
	}
	return in, nil
}

// ---------------------------------------------------------------- BENCH

// BenchOp is what a BENCH command measures.
type BenchOp byte

const (
	BenchScalarMult BenchOp = 1 // one variable-base scalar multiplication (param: Curve)
	BenchAEADSeal   BenchOp = 2 // seal size bytes (param: AEAD)
	BenchAEADOpen   BenchOp = 3 // open size bytes (param: AEAD)
	BenchSHA256     BenchOp = 4 // hash size bytes (param: 0)
)

func (o BenchOp) String() string {
	switch o {
	case BenchScalarMult:
		return "scalar_mult"
	case BenchAEADSeal:
		return "aead_seal"
	case BenchAEADOpen:
		return "aead_open"
	case BenchSHA256:
		return "sha256"
	}
	return "op_" + hexByte(byte(o))
}

// BenchRequest is the BENCH command payload:
//
//	1B: op          BenchOp
//	1B: param       Curve or AEAD code, 0 for BenchSHA256
//	2B: size        message size in bytes (0 for BenchScalarMult), big-endian
//	1B: iterations  1-255
type BenchRequest struct {
	Op         BenchOp
	Param      byte
	Size       uint16
	Iterations byte
}

const benchRequestLen = 5

func (b BenchRequest) Append(dst []byte) []byte {
	dst = append(dst, byte(b.Op), b.Param)
	dst = binary.BigEndian.AppendUint16(dst, b.Size)
	return append(dst, b.Iterations)
}

// ParseBenchRequest decodes a BENCH command payload.
func ParseBenchRequest(p []byte) (BenchRequest, error) {
	if err := exactLen(p, benchRequestLen); err != nil {
		return BenchRequest{}, err
	}
	b := BenchRequest{Op: BenchOp(p[0]), Param: p[1], Size: binary.BigEndian.Uint16(p[2:]), Iterations: p[4]}
	if b.Op < BenchScalarMult || b.Op > BenchSHA256 || b.Iterations == 0 {
		return BenchRequest{}, malformed(errBadCode)
	}
	return b, nil
}

// BenchResult is the BENCH response body:
//
//	1B: unit        Unit of the counts
//	1B: iterations  iterations run
//	8B: total       sum over the iterations, big-endian
//	4B: min         cheapest iteration, big-endian
//	4B: max         dearest iteration, big-endian
type BenchResult struct {
	Unit       Unit
	Iterations byte
	Total      uint64
	Min, Max   uint32
}

const benchResultLen = 18

func (b BenchResult) Append(dst []byte) []byte {
	dst = append(dst, byte(b.Unit), b.Iterations)
	dst = binary.BigEndian.AppendUint64(dst, b.Total)
	dst = binary.BigEndian.AppendUint32(dst, b.Min)
	return binary.BigEndian.AppendUint32(dst, b.Max)
}

// ParseBenchResult decodes a BENCH response body.
func ParseBenchResult(p []byte) (BenchResult, error) {
	if err := exactLen(p, benchResultLen); err != nil {
		return BenchResult{}, err
	}
	b := BenchResult{Unit: Unit(p[0]), Iterations: p[1], Total: binary.BigEndian.Uint64(p[2:]),
		Min: binary.BigEndian.Uint32(p[10:]), Max: binary.BigEndian.Uint32(p[14:])}
	if b.Iterations == 0 || b.Min > b.Max {
		return BenchResult{}, malformed(errBadCode)
	}
	return b, nil
}

// Mean returns the mean count per iteration.
func (b BenchResult) Mean() float64 { return float64(b.Total) / float64(b.Iterations) }

// ---------------------------------------------------------------- HANDSHAKE

// Mode is how a handshake reaches the server.
type Mode byte

const (
	ModeRelay   Mode = 1 // bytes travel in RELAY_DATA frames; the host carries them
	ModeNetwork Mode = 2 // the board connects by itself; the host only observes
)

func (m Mode) String() string {
	switch m {
	case ModeRelay:
		return "relay"
	case ModeNetwork:
		return "network"
	}
	return "mode_" + hexByte(byte(m))
}

// HandshakeRequest is the HANDSHAKE command payload:
//
//	1B: mode        Mode
//	1B: profile     ProfileCode
//	2B: timeout_ms  handshake deadline in ms, 0 for the board's default, big-endian
//	network mode only:
//	2B: port        server TCP port, big-endian
//	1B: host_len    1-64
//	NB: host        host name or dotted IPv4 address, printable ASCII
type HandshakeRequest struct {
	Mode    Mode
	Profile handshake.Name
	Timeout time.Duration // whole milliseconds, at most 65535 ms
	Host    string        // network mode
	Port    uint16        // network mode
}

const handshakeRequestLen = 4

func (h HandshakeRequest) Append(dst []byte) []byte {
	ms := h.Timeout.Milliseconds()
	if ms > 0xFFFF {
		ms = 0xFFFF
	}
	dst = append(dst, byte(h.Mode), byte(ProfileCodeOf(h.Profile)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(ms))
	if h.Mode == ModeNetwork {
		dst = binary.BigEndian.AppendUint16(dst, h.Port)
		dst = appendString(dst, h.Host, HostMax)
	}
	return dst
}

// ParseHandshakeRequest decodes a HANDSHAKE command payload.
func ParseHandshakeRequest(p []byte) (HandshakeRequest, error) {
	if len(p) < handshakeRequestLen {
		return HandshakeRequest{}, short()
	}
	h := HandshakeRequest{Mode: Mode(p[0]), Profile: ProfileCode(p[1]).Name(),
		Timeout: time.Duration(binary.BigEndian.Uint16(p[2:])) * time.Millisecond}
	if h.Profile == "" {
		return HandshakeRequest{}, malformed(errBadCode)
	}
	rest := p[handshakeRequestLen:]
	switch h.Mode {
	case ModeRelay:
		if len(rest) != 0 {
			return HandshakeRequest{}, long()
		}
	case ModeNetwork:
		if len(rest) < 3 {
			return HandshakeRequest{}, short()
		}
		h.Port = binary.BigEndian.Uint16(rest)
		var err error
		if h.Host, rest, err = parseString(rest[2:], HostMax); err != nil {
			return HandshakeRequest{}, err
		}
		if h.Host == "" || h.Port == 0 {
			return HandshakeRequest{}, malformed(errBadCode)
		}
		if len(rest) != 0 {
			return HandshakeRequest{}, long()
		}
	default:
		return HandshakeRequest{}, malformed(errBadCode)
	}
	return h, nil
}

// HandshakeDone is the HANDSHAKE_DONE event payload:
//
//	1B: result     0 on success, else a reason code (ReasonCode)
//	1B: stage      stage code of the failure (StageCode), 0 on success
//	1B: profile    ProfileCode
//	1B: unit       Unit of the two costs
//	8B: counter    message-1 counter sent (noise), else 0, big-endian
//	8B: total      cost of the whole handshake, big-endian
//	8B: crypto     of which public-key operations, big-endian
//	2B: sent       handshake bytes the board sent, big-endian
//	2B: received   handshake bytes the board received, big-endian
type HandshakeDone struct {
	Reason   handshake.Reason // "" on success
	Stage    handshake.Stage
	Profile  handshake.Name
	Unit     Unit
	Counter  uint64
	Total    uint64
	Crypto   uint64
	Sent     uint16
	Received uint16
}

const handshakeDoneLen = 32

func (h HandshakeDone) Append(dst []byte) []byte {
	result := byte(0)
	if h.Reason != "" {
		result = ReasonCode(h.Reason)
	}
	dst = append(dst, result, StageCode(h.Stage), byte(ProfileCodeOf(h.Profile)), byte(h.Unit))
	dst = binary.BigEndian.AppendUint64(dst, h.Counter)
	dst = binary.BigEndian.AppendUint64(dst, h.Total)
	dst = binary.BigEndian.AppendUint64(dst, h.Crypto)
	dst = binary.BigEndian.AppendUint16(dst, h.Sent)
	return binary.BigEndian.AppendUint16(dst, h.Received)
}

// ParseHandshakeDone decodes a HANDSHAKE_DONE event payload.
func ParseHandshakeDone(p []byte) (HandshakeDone, error) {
	if err := exactLen(p, handshakeDoneLen); err != nil {
		return HandshakeDone{}, err
	}
	reason, ok1 := ReasonOfCode(p[0])
	stage, ok2 := StageOfCode(p[1])
	profile := ProfileCode(p[2]).Name()
	if !ok1 || !ok2 || profile == "" {
		return HandshakeDone{}, malformed(errBadCode)
	}
	return HandshakeDone{Reason: reason, Stage: stage, Profile: profile, Unit: Unit(p[3]),
		Counter: binary.BigEndian.Uint64(p[4:]), Total: binary.BigEndian.Uint64(p[12:]),
		Crypto: binary.BigEndian.Uint64(p[20:]), Sent: binary.BigEndian.Uint16(p[28:]),
		Received: binary.BigEndian.Uint16(p[30:])}, nil
}

// Err returns the handshake failure as a *handshake.Error, nil on success.
func (h HandshakeDone) Err() error {
	if h.Reason == "" {
		return nil
	}
	return &handshake.Error{Profile: h.Profile, Stage: h.Stage, Reason: h.Reason,
		Err: errors.New("boardproto: the board reported a failed handshake")}
}

// ---------------------------------------------------------------- small payloads

// Credit is the RELAY_CREDIT event payload: 2B, the number of further relay
// bytes the board can take, big-endian.
type Credit uint16

const creditLen = 2

func (c Credit) Append(dst []byte) []byte { return binary.BigEndian.AppendUint16(dst, uint16(c)) }

// ParseCredit decodes a RELAY_CREDIT event payload.
func ParseCredit(p []byte) (Credit, error) {
	if err := exactLen(p, creditLen); err != nil {
		return 0, err
	}
	return Credit(binary.BigEndian.Uint16(p)), nil
}

// AppendReason appends the 1-byte payload of CLOSED and RELAY_CLOSE.
func AppendReason(dst []byte, r handshake.Reason) []byte {
	if r == "" {
		return append(dst, 0)
	}
	return append(dst, ReasonCode(r))
}

// ParseReason decodes the 1-byte payload of CLOSED and RELAY_CLOSE.
func ParseReason(p []byte) (handshake.Reason, error) {
	if err := exactLen(p, 1); err != nil {
		return "", err
	}
	r, ok := ReasonOfCode(p[0])
	if !ok {
		return "", malformed(errBadCode)
	}
	return r, nil
}

// ResetKind is the RESET command payload (1B).
type ResetKind byte

const (
	ResetSoft   ResetKind = 0 // restart the agent: drop the session, keep the identity
	ResetReboot ResetKind = 1 // reboot the chip (watchdog or system reset)
)

// ParseResetKind decodes a RESET command payload.
func ParseResetKind(p []byte) (ResetKind, error) {
	if err := exactLen(p, 1); err != nil {
		return 0, err
	}
	if p[0] > byte(ResetReboot) {
		return 0, malformed(errBadCode)
	}
	return ResetKind(p[0]), nil
}

// BootReason says why a board booted.
type BootReason byte

const (
	BootUnknown  BootReason = 0
	BootPowerOn  BootReason = 1
	BootExternal BootReason = 2 // reset pin, DTR/RTS
	BootWatchdog BootReason = 3
	BootSoft     BootReason = 4 // RESET command
	BootBrownOut BootReason = 5
	BootPanic    BootReason = 6 // the firmware's fault handler
)

func (r BootReason) String() string {
	names := [...]string{"unknown", "power_on", "external", "watchdog", "soft", "brown_out", "panic"}
	if int(r) < len(names) {
		return names[r]
	}
	return "boot_" + hexByte(byte(r))
}

// Boot is the BOOT event payload, always with event seq 0:
//
//	1B: reason       BootReason
//	1B: version      protocol version
//	1B: max_payload
//	4B: boot_count   big-endian
type Boot struct {
	Reason     BootReason
	Version    byte
	MaxPayload byte
	BootCount  uint32
}

const bootLen = 7

func (b Boot) Append(dst []byte) []byte {
	dst = append(dst, byte(b.Reason), b.Version, b.MaxPayload)
	return binary.BigEndian.AppendUint32(dst, b.BootCount)
}

// ParseBoot decodes a BOOT event payload.
func ParseBoot(p []byte) (Boot, error) {
	if err := exactLen(p, bootLen); err != nil {
		return Boot{}, err
	}
	b := Boot{Reason: BootReason(p[0]), Version: p[1], MaxPayload: p[2], BootCount: binary.BigEndian.Uint32(p[3:])}
	if b.MaxPayload < MinPayloadLimit {
		return Boot{}, malformed(errBadCode)
	}
	return b, nil
}

// ---------------------------------------------------------------- counters and log

// CounterID names a board counter.
type CounterID byte

const (
	CounterBoots             CounterID = 1
	CounterFramesRx          CounterID = 2
	CounterFramesTx          CounterID = 3
	CounterBadFrames         CounterID = 4  // checksum or COBS failures seen by the board
	CounterHandshakes        CounterID = 5  // handshakes started
	CounterHandshakesOK      CounterID = 6  // handshakes that succeeded
	CounterHandshakesFailed  CounterID = 7  // handshakes that failed
	CounterMessageCounter    CounterID = 8  // last message-1 counter used (noise)
	CounterMessagesSent      CounterID = 9  // SEND commands carried out
	CounterMessagesReceived  CounterID = 10 // MESSAGE events sent
	CounterRelayBytesRx      CounterID = 11
	CounterRelayBytesTx      CounterID = 12
	CounterLastFailureReason CounterID = 13 // reason code of the last failed handshake
	CounterStackFree         CounterID = 14 // least free stack seen, in bytes
	CounterUptimeMillis      CounterID = 15
)

var counterNames = map[CounterID]string{
	CounterBoots: "boots", CounterFramesRx: "frames_rx", CounterFramesTx: "frames_tx",
	CounterBadFrames: "bad_frames", CounterHandshakes: "handshakes",
	CounterHandshakesOK: "handshakes_ok", CounterHandshakesFailed: "handshakes_failed",
	CounterMessageCounter: "message_counter", CounterMessagesSent: "messages_sent",
	CounterMessagesReceived: "messages_received", CounterRelayBytesRx: "relay_bytes_rx",
	CounterRelayBytesTx: "relay_bytes_tx", CounterLastFailureReason: "last_failure_reason",
	CounterStackFree: "stack_free", CounterUptimeMillis: "uptime_ms",
}

func (c CounterID) String() string {
	if n, ok := counterNames[c]; ok {
		return n
	}
	return "counter_" + hexByte(byte(c))
}

// Counter is one entry of a READ_COUNTERS response.
type Counter struct {
	ID    CounterID
	Value uint64
}

// Counters is the READ_COUNTERS response body (the command payload is
// empty): any number of entries of
//
//	1B: id     CounterID (unknown ids are skipped by the host)
//	8B: value  big-endian
type Counters []Counter

const counterEntryLen = 9

func (cs Counters) Append(dst []byte) []byte {
	for _, c := range cs {
		dst = append(dst, byte(c.ID))
		dst = binary.BigEndian.AppendUint64(dst, c.Value)
	}
	return dst
}

// Get returns the value of counter id and whether the board reported it.
func (cs Counters) Get(id CounterID) (uint64, bool) {
	for _, c := range cs {
		if c.ID == id {
			return c.Value, true
		}
	}
	return 0, false
}

// ParseCounters decodes a READ_COUNTERS response body.
func ParseCounters(p []byte) (Counters, error) {
	if len(p)%counterEntryLen != 0 {
		return nil, malformed(errLenFieldPayload)
	}
	cs := make(Counters, 0, len(p)/counterEntryLen)
	for ; len(p) > 0; p = p[counterEntryLen:] {
		cs = append(cs, Counter{ID: CounterID(p[0]), Value: binary.BigEndian.Uint64(p[1:])})
	}
	return cs, nil
}

var errLenFieldPayload = errors.New("boardproto: payload is not a whole number of entries")

// LogRequest is the READ_LOG command payload: 4B cursor, the position in the
// board's log stream to read from, big-endian.
type LogRequest uint32

func (l LogRequest) Append(dst []byte) []byte { return binary.BigEndian.AppendUint32(dst, uint32(l)) }

// ParseLogRequest decodes a READ_LOG command payload.
func ParseLogRequest(p []byte) (LogRequest, error) {
	if err := exactLen(p, 4); err != nil {
		return 0, err
	}
	return LogRequest(binary.BigEndian.Uint32(p)), nil
}

// Log is the READ_LOG response body:
//
//	4B: first  position of the first byte returned (greater than the cursor asked
//	           for when the ring buffer overwrote older bytes), big-endian
//	4B: next   position to ask for next, big-endian
//	NB: text   log bytes (next-first of them)
type Log struct {
	First, Next uint32
	Text        []byte
}

const logFixedLen = 8

func (l Log) Append(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, l.First)
	dst = binary.BigEndian.AppendUint32(dst, l.Next)
	return append(dst, l.Text...)
}

// ParseLog decodes a READ_LOG response body.
func ParseLog(p []byte) (Log, error) {
	if len(p) < logFixedLen {
		return Log{}, short()
	}
	l := Log{First: binary.BigEndian.Uint32(p), Next: binary.BigEndian.Uint32(p[4:]), Text: p[logFixedLen:]}
	if l.Next-l.First != uint32(len(l.Text)) {
		return Log{}, malformed(errLenFieldPayload)
	}
	return l, nil
}

// ---------------------------------------------------------------- helpers

func bit(n byte) byte {
	if n == 0 || n > 8 {
		return 0
	}
	return 1 << (n - 1)
}

func exactLen(p []byte, n int) error {
	switch {
	case len(p) < n:
		return short()
	case len(p) > n:
		return long()
	}
	return nil
}

func appendString(dst []byte, s string, max int) []byte {
	if len(s) > max {
		s = s[:max]
	}
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

func parseString(p []byte, max int) (string, []byte, error) {
	if len(p) < 1 {
		return "", nil, short()
	}
	n := int(p[0])
	if n > max {
		return "", nil, malformed(errBadString)
	}
	if len(p) < 1+n {
		return "", nil, short()
	}
	s := p[1 : 1+n]
	if !printable(s) {
		return "", nil, malformed(errBadString)
	}
	return string(s), p[1+n:], nil
}

func printable(s []byte) bool {
	for _, b := range s {
		if b < 0x20 || b > 0x7E {
			return false
		}
	}
	return true
}
