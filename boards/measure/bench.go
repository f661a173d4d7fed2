package measure

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	bp "shakedown/harness/boardproto"
	"shakedown/reports"
)

// BenchSpec chooses benchmarks; empty lists take everything the board
// lists in INFO.
type BenchSpec struct {
	Curves     []string // x25519, p256, secp160r1
	AEADs      []string // chacha20poly1305, aes128gcm, aes256gcm
	Sizes      []int    // message sizes for AEADs and SHA-256, bytes
	Iterations byte     // per operation, 1-255
}

// BenchItem is one planned benchmark.
type BenchItem struct {
	Request bp.BenchRequest
	Label   string // e.g. "scalar mult p256", "seal chacha20poly1305"
}

// Op names the benchmark as reports and the firmware's benchmark program
// do: x25519, ecdh_p256, ecdh_secp160r1, sha256, seal_chacha20poly1305...
func (it BenchItem) Op() string {
	switch it.Request.Op {
	case bp.BenchScalarMult:
		if bp.Curve(it.Request.Param) == bp.CurveX25519 {
			return "x25519"
		}
		return "ecdh_" + bp.Curve(it.Request.Param).String()
	case bp.BenchSHA256:
		return "sha256"
	}
	return strings.ReplaceAll(it.Label, " ", "_")
}

// Report converts the board's result into the reports model.
func (it BenchItem) Report(res bp.BenchResult) reports.Bench {
	return reports.Bench{Op: it.Op(), Size: int(it.Request.Size), Iterations: int(res.Iterations), Mean: res.Mean(),
		Min: uint64(res.Min), Max: uint64(res.Max), Unit: res.Unit.String()}
}

// BenchPlan lists the benchmarks of spec that board in can run: a scalar
// multiplication per curve, then per size a seal and an open per AEAD and
// a SHA-256.
func BenchPlan(in bp.Info, spec BenchSpec) ([]BenchItem, error) {
	if spec.Iterations == 0 {
		return nil, fmt.Errorf("measure: iterations must be 1-255")
	}
	cs, err := chosen(in.Curves, spec.Curves, bp.ParseCurve, "curve", "x25519, p256, secp160r1")
	if err != nil {
		return nil, err
	}
	var plan []BenchItem
	for _, c := range cs {
		plan = append(plan, BenchItem{bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(c), Iterations: spec.Iterations}, "scalar mult " + c.String()})
	}
	as, err := chosen(in.AEADs, spec.AEADs, bp.ParseAEAD, "AEAD", "chacha20poly1305, aes128gcm, aes256gcm")
	if err != nil {
		return nil, err
	}
	for _, size := range spec.Sizes {
		if size < 0 || size > 0xFFFF {
			return nil, fmt.Errorf("measure: size %d is outside 0-65535", size)
		}
		for _, a := range as {
			plan = append(plan,
				BenchItem{bp.BenchRequest{Op: bp.BenchAEADSeal, Param: byte(a), Size: uint16(size), Iterations: spec.Iterations}, "seal " + a.String()},
				BenchItem{bp.BenchRequest{Op: bp.BenchAEADOpen, Param: byte(a), Size: uint16(size), Iterations: spec.Iterations}, "open " + a.String()})
		}
		plan = append(plan, BenchItem{bp.BenchRequest{Op: bp.BenchSHA256, Size: uint16(size), Iterations: spec.Iterations}, "sha256"})
	}
	return plan, nil
}

// chosen is what the names ask for (parsed by parse), or all the board
// has when there are no names. what and want name the kind and its values
// in the error of an unknown name.
func chosen[T any](has []T, names []string, parse func(string) (T, bool), what, want string) ([]T, error) {
	if len(names) == 0 {
		return has, nil
	}
	out := make([]T, 0, len(names))
	for _, name := range names {
		v, ok := parse(name)
		if !ok {
			return nil, fmt.Errorf("measure: unknown %s %q (want %s)", what, name, want)
		}
		out = append(out, v)
	}
	return out, nil
}

// MHz is a board's clock as people say it: "16 MHz", "80 MHz".
func MHz(hz uint32) string { return strconv.FormatFloat(float64(hz)/1e6, 'f', -1, 64) + " MHz" }

// AsDuration converts a count into time where the unit allows: cycles
// through the board's clock; instructions not at all.
func AsDuration(v float64, u bp.Unit, clockHz uint32) (time.Duration, bool) {
	switch {
	case u == bp.UnitNanoseconds:
		return time.Duration(v), true
	case u == bp.UnitMicroseconds:
		return time.Duration(v * 1e3), true
	case u == bp.UnitCycles && clockHz > 0:
		return time.Duration(v / float64(clockHz) * 1e9).Round(time.Microsecond), true
	}
	return 0, false
}

// AsTime is AsDuration as text, "-" when the unit does not convert.
func AsTime(v float64, u bp.Unit, clockHz uint32) string {
	if d, ok := AsDuration(v, u, clockHz); ok {
		return d.String()
	}
	return "-"
}
