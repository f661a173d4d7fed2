package boards

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.bug.st/serial"
	"go.yaml.in/yaml/v3"

	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

//go:embed profiles/*.yaml
var embedded embed.FS

// Profile describes one board.
type Profile struct {
	Name       string   `yaml:"name"`  // unique, the file's stem: [a-z0-9-]
	Board      string   `yaml:"board"` // e.g. "Arduino Uno R3"
	Chip       string   `yaml:"chip"`  // e.g. "ATmega328P"
	Arch       string   `yaml:"arch"`  // e.g. "avr", "armv7e-m", "riscv32"
	ClockHz    uint32   `yaml:"clock_hz"`
	RAMBytes   int      `yaml:"ram_bytes"`
	FlashBytes int      `yaml:"flash_bytes"`
	Transport  string   `yaml:"transport"` // usb, emulator or pty
	Notes      string   `yaml:"notes,omitempty"`
	Emulator   Emulator `yaml:"emulator,omitempty"`
	Serial     Serial   `yaml:"serial"`
	Reset      Reset    `yaml:"reset"`
	USB        []USB    `yaml:"usb,omitempty"`
	Agent      Agent    `yaml:"agent"`
	// Costs are the expected costs of operations on this chip (published
	// figures, rounded): the virtual board's slow-chip mode waits this long,
	// and the harness sizes its bench timeouts from them. Keys: x25519,
	// p256, secp160r1, aead_per_kib, sha256_per_kib.
	Costs map[string]Duration `yaml:"costs,omitempty"`
	// Limits a run on this board is held to. Keys: <profile>_handshake
	// (noise_handshake, seed_handshake, psk_handshake, tls_handshake).
	Limits map[string]Duration `yaml:"limits,omitempty"`

	Source string `yaml:"-"` // where the profile came from
}

// Emulator says how an emulated target is started.
type Emulator struct {
	Runner  string `yaml:"runner,omitempty"`  // simavr or qemu
	Machine string `yaml:"machine,omitempty"` // e.g. atmega328p, mps2-an385, sifive_e
	CPU     string `yaml:"cpu,omitempty"`
}

// Serial holds the serial settings and the protocol timeouts.
type Serial struct {
	Baud             int      `yaml:"baud"`
	DataBits         int      `yaml:"data_bits"`
	Parity           string   `yaml:"parity"`    // none, odd, even, mark, space
	StopBits         int      `yaml:"stop_bits"` // 1 or 2
	ReadTimeout      Duration `yaml:"read_timeout,omitempty"`
	ResponseTimeout  Duration `yaml:"response_timeout"`
	ProvisionTimeout Duration `yaml:"provision_timeout,omitempty"`
	BenchTimeout     Duration `yaml:"bench_timeout,omitempty"`
	BootTimeout      Duration `yaml:"boot_timeout"`
}

// Reset says how the harness resets the board.
type Reset struct {
	Method   string   `yaml:"method"` // none, dtr, rts, esp
	Required bool     `yaml:"required,omitempty"`
	Pulse    Duration `yaml:"pulse,omitempty"`
	// Reenumerates is true when a reset makes the USB device vanish and
	// come back (native USB), so the port may change its name.
	Reenumerates bool `yaml:"reenumerates,omitempty"`
}

// USB is one VID/PID pair the board shows up with.
type USB struct {
	VID  string `yaml:"vid"`
	PID  string `yaml:"pid"`
	Note string `yaml:"note,omitempty"`
}

// Agent describes the agent firmware's capabilities on this board.
type Agent struct {
	MaxPayload int      `yaml:"max_payload"`
	Relay      bool     `yaml:"relay"`
	Network    bool     `yaml:"network"`
	Unit       string   `yaml:"unit"` // cycles, instructions, ns, us
	Profiles   []string `yaml:"profiles"`
	Curves     []string `yaml:"curves"`
}

// Duration is a time.Duration written as "250ms", "3s" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a duration such as 250ms or 3s")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("want a duration such as 250ms or 3s, not %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ProfileError lists every problem of a profile.
type ProfileError struct {
	Source   string
	Problems []Problem
}

// Problem is one problem of a profile: the field (a YAML path) and what is wrong.
type Problem struct {
	Field string
	Msg   string
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "boards: %s: ", e.Source)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Field != "" {
			b.WriteString(p.Field + ": ")
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

// All returns the embedded profiles, sorted by name.
func All() ([]Profile, error) {
	entries, err := embedded.ReadDir("profiles")
	if err != nil {
		return nil, err
	}
	var out []Profile
	var errs []error
	for _, e := range entries {
		name := path.Join("profiles", e.Name())
		data, err := embedded.ReadFile(name)
		if err != nil {
			return nil, err
		}
		p, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// Names returns the names of the embedded profiles.
func Names() []string {
	ps, _ := All()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// Lookup returns the embedded profile called name.
func Lookup(name string) (Profile, error) {
	ps, err := All()
	if err != nil {
		return Profile{}, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("boards: no profile %q (have %s)", name, strings.Join(Names(), ", "))
}

// Load reads and validates a profile file.
func Load(file string) (Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Profile{}, fmt.Errorf("boards: reading a profile: %w", err)
	}
	return Parse(file, data)
}

// Parse decodes and validates the profile in data; source names it in
// errors, and its file stem must equal the profile's name.
func Parse(source string, data []byte) (Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return Profile{}, &ProfileError{Source: source, Problems: []Problem{{Msg: yamlMsg(err)}}}
	}
	p.Source = source
	p.defaults()
	if probs := p.validate(strings.TrimSuffix(filepath.Base(source), filepath.Ext(source))); len(probs) > 0 {
		return Profile{}, &ProfileError{Source: source, Problems: probs}
	}
	return p, nil
}

func yamlMsg(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func (p *Profile) defaults() {
	if p.Serial.DataBits == 0 {
		p.Serial.DataBits = 8
	}
	if p.Serial.Parity == "" {
		p.Serial.Parity = "none"
	}
	if p.Serial.StopBits == 0 {
		p.Serial.StopBits = 1
	}
	if p.Reset.Method == "" {
		p.Reset.Method = string(harness.ResetNone)
	}
	for i := range p.USB {
		p.USB[i].VID = strings.ToLower(p.USB[i].VID)
		p.USB[i].PID = strings.ToLower(p.USB[i].PID)
	}
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	usbIDRE  = regexp.MustCompile(`^[0-9a-f]{4}$`)
	costKeys = []string{"x25519", "p256", "secp160r1", "aead_per_kib", "sha256_per_kib"}
	units    = map[string]bp.Unit{"cycles": bp.UnitCycles, "instructions": bp.UnitInstructions, "ns": bp.UnitNanoseconds, "us": bp.UnitMicroseconds}
)

// problems collects what validate finds, field by field.
type problems []Problem

func (ps *problems) bad(field, format string, a ...any) {
	*ps = append(*ps, Problem{Field: field, Msg: fmt.Sprintf(format, a...)})
}

func (p *Profile) validate(stem string) []Problem {
	var probs problems
	p.validateIdentity(&probs, stem)
	p.validateTransport(&probs)
	p.validateSerial(&probs)
	p.validateReset(&probs)
	p.validateAgent(&probs)
	p.validateTables(&probs)
	sort.Slice(probs, func(i, j int) bool { return probs[i].Field < probs[j].Field })
	return probs
}

func (p *Profile) validateIdentity(probs *problems, stem string) {
	switch {
	case p.Name == "":
		probs.bad("name", "missing")
	case !nameRE.MatchString(p.Name):
		probs.bad("name", "%q: use lower-case letters, digits and '-'", p.Name)
	case stem != "" && stem != p.Name:
		probs.bad("name", "%q differs from the file name %q", p.Name, stem)
	}
	if p.Board == "" {
		probs.bad("board", "missing")
	}
	if p.Chip == "" {
		probs.bad("chip", "missing")
	}
	if p.ClockHz == 0 {
		probs.bad("clock_hz", "missing or zero")
	}
	if p.RAMBytes <= 0 {
		probs.bad("ram_bytes", "missing or not positive")
	}
}

func (p *Profile) validateTransport(probs *problems) {
	switch p.Transport {
	case "usb":
		if len(p.USB) == 0 {
			probs.bad("usb", "a usb board needs at least one vid/pid pair to be recognised")
		}
	case "emulator":
		if p.Emulator.Runner != "simavr" && p.Emulator.Runner != "qemu" {
			probs.bad("emulator.runner", "%q: want simavr or qemu", p.Emulator.Runner)
		}
		if p.Emulator.Machine == "" {
			probs.bad("emulator.machine", "missing")
		}
	case "pty":
	default:
		probs.bad("transport", "%q: want usb, emulator or pty", p.Transport)
	}
	for i, u := range p.USB {
		if !usbIDRE.MatchString(u.VID) {
			probs.bad(fmt.Sprintf("usb[%d].vid", i), "%q: want 4 hex digits", u.VID)
		}
		if !usbIDRE.MatchString(u.PID) {
			probs.bad(fmt.Sprintf("usb[%d].pid", i), "%q: want 4 hex digits", u.PID)
		}
	}
}

func (p *Profile) validateSerial(probs *problems) {
	s := p.Serial
	if s.Baud <= 0 || s.Baud > 4_000_000 {
		probs.bad("serial.baud", "%d: want 1 to 4000000", s.Baud)
	}
	if s.DataBits < 5 || s.DataBits > 8 {
		probs.bad("serial.data_bits", "%d: want 5 to 8", s.DataBits)
	}
	if _, ok := parities[s.Parity]; !ok {
		probs.bad("serial.parity", "%q: want none, odd, even, mark or space", s.Parity)
	}
	if s.StopBits != 1 && s.StopBits != 2 {
		probs.bad("serial.stop_bits", "%d: want 1 or 2", s.StopBits)
	}
	if s.ResponseTimeout <= 0 {
		probs.bad("serial.response_timeout", "missing or not positive")
	}
	if s.BootTimeout <= 0 {
		probs.bad("serial.boot_timeout", "missing or not positive")
	}
	for f, d := range map[string]Duration{"serial.read_timeout": s.ReadTimeout,
		"serial.provision_timeout": s.ProvisionTimeout, "serial.bench_timeout": s.BenchTimeout, "reset.pulse": p.Reset.Pulse} {
		if d < 0 {
			probs.bad(f, "negative")
		}
	}
}

func (p *Profile) validateReset(probs *problems) {
	method, ok := harness.ParseResetMethod(p.Reset.Method)
	if !ok {
		probs.bad("reset.method", "%q: want none, dtr, rts or esp", p.Reset.Method)
	}
	if p.Reset.Required && method == harness.ResetNone {
		probs.bad("reset.required", "a required reset needs a method other than none")
	}
}

func (p *Profile) validateAgent(probs *problems) {
	a := p.Agent
	if a.MaxPayload < bp.MinPayloadLimit || a.MaxPayload > bp.MaxPayload {
		probs.bad("agent.max_payload", "%d: want %d to %d", a.MaxPayload, bp.MinPayloadLimit, bp.MaxPayload)
	}
	if !a.Relay && !a.Network {
		probs.bad("agent", "neither relay nor network: the board could run no handshake")
	}
	if _, ok := units[a.Unit]; !ok {
		probs.bad("agent.unit", "%q: want cycles, instructions, ns or us", a.Unit)
	}
	if len(a.Profiles) == 0 {
		probs.bad("agent.profiles", "missing")
	}
	for i, n := range a.Profiles {
		if _, err := handshake.ParseName(n); err != nil {
			probs.bad(fmt.Sprintf("agent.profiles[%d]", i), "%q: want noise, seed, psk or tls", n)
		}
	}
	for i, c := range a.Curves {
		if _, ok := bp.ParseCurve(c); !ok {
			probs.bad(fmt.Sprintf("agent.curves[%d]", i), "%q: want x25519, p256 or secp160r1", c)
		}
	}
}

// validateTables checks the costs and limits maps.
func (p *Profile) validateTables(probs *problems) {
	for k, d := range p.Costs {
		if !slices.Contains(costKeys, k) {
			probs.bad("costs."+k, "unknown operation: want one of %s", strings.Join(costKeys, ", "))
		} else if d <= 0 {
			probs.bad("costs."+k, "not positive")
		}
	}
	for k, d := range p.Limits {
		prof, ok := strings.CutSuffix(k, "_handshake")
		if _, err := handshake.ParseName(prof); !ok || err != nil {
			probs.bad("limits."+k, "unknown limit: want <profile>_handshake, e.g. noise_handshake")
		} else if d <= 0 {
			probs.bad("limits."+k, "not positive")
		}
	}
}

var parities = map[string]serial.Parity{
	"none": serial.NoParity, "odd": serial.OddParity, "even": serial.EvenParity,
	"mark": serial.MarkParity, "space": serial.SpaceParity,
}

// Options returns the harness options of this profile: serial settings,
// timeouts and reset method. The caller adds an Enumerator, a serial number
// and a console writer as needed.
func (p Profile) Options() harness.Options {
	stop := serial.OneStopBit
	if p.Serial.StopBits == 2 {
		stop = serial.TwoStopBits
	}
	method, _ := harness.ParseResetMethod(p.Reset.Method)
	o := harness.Options{
		Baud: p.Serial.Baud, DataBits: p.Serial.DataBits, Parity: parities[p.Serial.Parity], StopBits: stop,
		ReadTimeout:      p.Serial.ReadTimeout.D(),
		ResponseTimeout:  p.Serial.ResponseTimeout.D(),
		ProvisionTimeout: p.Serial.ProvisionTimeout.D(),
		BenchTimeout:     p.Serial.BenchTimeout.D(),
		BootTimeout:      p.Serial.BootTimeout.D(),
		Reset:            method, ResetRequired: p.Reset.Required, ResetPulse: p.Reset.Pulse.D(),
	}
	// The board's own handshake deadline: twice the noise limit, so a run
	// over the limit is measured and reported rather than cut off.
	if d := p.Limit(handshake.Noise); d > 0 {
		o.HandshakeTimeout = 2 * d
	}
	return o
}

// Limit returns the handshake limit of profile n, or 0.
func (p Profile) Limit(n handshake.Name) time.Duration {
	return p.Limits[string(n)+"_handshake"].D()
}

// LongestLimit returns the longest handshake limit of any profile, or 0:
// what a slow board may add to every step that waits for a handshake.
func (p Profile) LongestLimit() time.Duration {
	var d time.Duration
	for _, n := range []handshake.Name{handshake.Noise, handshake.Seed, handshake.PSK, handshake.TLS} {
		d = max(d, p.Limit(n))
	}
	return d
}

// Cost returns the expected cost of operation op (a Costs key), or 0.
func (p Profile) Cost(op string) time.Duration { return p.Costs[op].D() }

// Unit returns the agent's cost unit.
func (p Profile) Unit() bp.Unit { return units[p.Agent.Unit] }

// USBIDs returns the profile's USB ids.
func (p Profile) USBIDs() []harness.USBID {
	ids := make([]harness.USBID, len(p.USB))
	for i, u := range p.USB {
		ids[i] = harness.USBID{VID: u.VID, PID: u.PID}
	}
	return ids
}

// Recognise returns the profiles whose USB ids match the port. Boards that
// share a USB-UART bridge (CP2102 on ESP8266 and ESP32 boards) all match;
// INFO tells them apart.
func Recognise(port harness.PortInfo, profiles []Profile) []Profile {
	var out []Profile
	for _, p := range profiles {
		for _, id := range p.USBIDs() {
			if id.Matches(port) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
