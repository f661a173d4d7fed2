package reports

// Anchor is a published figure for an operation on a chip: another
// implementation on another part, shown beside our counts, never the same
// measurement.
type Anchor struct {
	Op      string  `json:"op"`   // the bench operation it stands beside
	Chip    string  `json:"chip"` // the part it was measured on
	Cycles  float64 `json:"cycles,omitempty"`
	MS      float64 `json:"ms,omitempty"` // milliseconds, where the source gives time
	ClockHz uint32  `json:"clock_hz,omitempty"`
	Source  string  `json:"source"`
}

// CyclesAt is the anchor in cycles: given, or its time at its clock.
func (a Anchor) CyclesAt() float64 {
	if a.Cycles > 0 {
		return a.Cycles
	}
	return a.MS / 1e3 * float64(a.ClockHz)
}

// Anchors are the published figures the report sets beside the chips'
// counts (docs/benchmarks.md lists them with the same sources).
var Anchors = []Anchor{
	{Op: "x25519", Chip: "AVR ATmega2560", Cycles: 13_900_397,
		Source: "Düll, Haase, Hinterwälder, Hutter, Paar, Sánchez, Schwabe: High-speed Curve25519 on 8-bit, 16-bit and 32-bit microcontrollers (2015)"},
	{Op: "x25519", Chip: "Cortex-M0", Cycles: 3_589_850,
		Source: "Düll et al. (2015)"},
	{Op: "x25519", Chip: "ATmega328P (Uno)", MS: 2_716, ClockHz: 16_000_000,
		Source: "rweather Arduino Cryptography Library, Curve25519 on an Arduino Uno"},
	{Op: "ecdh_p256", Chip: "ATmega256RFR2", MS: 2_220, ClockHz: 16_000_000,
		Source: "micro-ecc, secp256r1 shared secret at 16 MHz"},
	{Op: "ecdh_secp160r1", Chip: "ATmega256RFR2", MS: 470, ClockHz: 16_000_000,
		Source: "micro-ecc, secp160r1 shared secret at 16 MHz"},
}

// AnchorOps are the operations with anchors, in report order.
var AnchorOps = []string{"x25519", "ecdh_p256", "ecdh_secp160r1"}
