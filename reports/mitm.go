package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Outcome is what became of a MITM scenario on one column.
type Outcome string

// Outcomes of a MITM cell.
const (
	// Rejected: the attack failed, and a side was seen refusing it (an
	// error with its reason) or its effect was seen missing (a replayed
	// message that did not arrive).
	Rejected Outcome = "rejected"
	// Succeeded: the attack worked, shown by what the attacker read or made
	// a side accept.
	Succeeded Outcome = "succeeded"
	// Survived: a legitimate change on the server (a certificate renewal or
	// rollover) left the device working.
	Survived Outcome = "survived"
	// LockedOut: a legitimate change on the server locked the device out.
	LockedOut Outcome = "locked_out"
	// FailedClosed: the attacker kept the device from a precondition of its
	// check (its time server's answer), and the device refused to connect
	// rather than connect unchecked: safe, but out of service while the
	// attacker stays.
	FailedClosed Outcome = "failed_closed"
	// Broken: the scenario could not run to a verdict (Verdict.Error says why).
	Broken Outcome = "error"
	// NotApplicable: the cell has no meaning on the board under test
	// (Verdict.NotApplicable says why). It is not run and never a mismatch.
	NotApplicable Outcome = "not_applicable"
)

// Label is the outcome as the matrix prints it: the outcomes that hurt in
// capitals; "?" for an outcome this package does not know (a document is
// never echoed).
func (o Outcome) Label() string {
	switch o {
	case Rejected, Survived:
		return string(o)
	case Succeeded:
		return "SUCCEEDED"
	case LockedOut:
		return "LOCKED OUT"
	case FailedClosed:
		return "failed closed"
	case Broken:
		return "ERROR"
	case NotApplicable:
		return "n/a"
	}
	return "?"
}

// Side is who saw a fact.
type Side string

// Sides of a fact.
const (
	SideDevice   Side = "device"
	SideServer   Side = "server"
	SideAttacker Side = "attacker"
	SideBackend  Side = "backend" // the backend subscriber behind the broker
)

// FactKind says what a fact records.
type FactKind string

// Kinds of facts.
const (
	// FactRefused: Side refused at Stage for Reason.
	FactRefused FactKind = "refused"
	// FactRead: the attacker recovered Field = Value.
	FactRead FactKind = "read"
	// FactAccepted: Side accepted what the attacker sent (Field names it,
	// Value is its content).
	FactAccepted FactKind = "accepted"
	// FactDelivered: the backend received Value on topic Field Count times.
	FactDelivered FactKind = "delivered"
	// FactNotFound: the attacker searched what it recorded for Field and
	// did not find it.
	FactNotFound FactKind = "not_found"
	// FactWorked: the device's session worked (Field: what was checked).
	FactWorked FactKind = "worked"
	// FactNote: a step of the scenario, in the lab's words.
	FactNote FactKind = "note"
	// FactTime: a time the verdict rests on (Field names it: the time the
	// attacker forged, the device's clock, a certificate's notBefore or
	// notAfter; Value is RFC 3339 UTC).
	FactTime FactKind = "time"
	// FactLog: what a board under test wrote about its refusal, in its own
	// words (Field: "log" for its agent log, "console" for its console
	// output; Value: the last lines, printable ASCII only).
	FactLog FactKind = "log"
)

// Fact is one observation behind a verdict. Stage and Reason are a
// handshake stage and reason code (docs/protocol.md).
type Fact struct {
	Side   Side     `json:"side"`
	Kind   FactKind `json:"kind"`
	Stage  string   `json:"stage,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Field  string   `json:"field,omitempty"`
	Value  string   `json:"value,omitempty"`
	Count  int      `json:"count,omitempty"`
	Note   string   `json:"note,omitempty"`
}

// String renders the fact on one line.
func (f Fact) String() string {
	s := string(f.Side) + " "
	switch f.Kind {
	case FactRefused:
		s += "refused"
		if f.Stage != "" {
			s += " at " + f.Stage
		}
		s += ": " + f.Reason
		if f.Field != "" {
			s += ", " + f.Field + " " + f.Value
		}
	case FactRead:
		s += fmt.Sprintf("read %s = %q", f.Field, f.Value)
	case FactAccepted:
		s += fmt.Sprintf("accepted %s %q", f.Field, f.Value)
	case FactDelivered:
		s += fmt.Sprintf("received %q on %s %d time(s)", f.Value, f.Field, f.Count)
	case FactNotFound:
		s += "did not find " + f.Field
	case FactWorked:
		s += "session worked: " + f.Field
	case FactLog:
		s += fmt.Sprintf("%s: %q", f.Field, f.Value)
	case FactTime:
		s += "time " + f.Field + " = " + f.Value
	default:
		s += string(f.Kind)
		if f.Field != "" {
			s += " " + f.Field
		}
		if f.Count != 0 {
			s += fmt.Sprintf(": %d", f.Count)
		}
	}
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	return s
}

// Verdict is one cell of the matrix: a scenario on one column.
type Verdict struct {
	Scenario string  `json:"scenario"`
	Column   string  `json:"column"` // profile, or profile-variant
	Profile  string  `json:"profile"`
	Variant  string  `json:"variant,omitempty"` // tls mode, seed curve
	Device   string  `json:"device"`            // the fixture device under test
	Expected Outcome `json:"expected"`
	Outcome  Outcome `json:"outcome"`
	// AsExpected is Outcome == Expected.
	AsExpected bool   `json:"as_expected"`
	Evidence   []Fact `json:"evidence"`
	// Source is where the expectation comes from.
	Source string `json:"source"`
	Error  string `json:"error,omitempty"`
	// NotApplicable is why the cell has no meaning on the board under test
	// (outcome not_applicable).
	NotApplicable string `json:"not_applicable,omitempty"`
	DurationMS    int64  `json:"duration_ms"`
}

// MITM is the matrix of a MITM run, as package mitm makes it and
// `shakedown mitm run --out` writes it:
//
//	{
//	  "format": "shakedown-mitm/1",
//	  "started": "2026-03-14T10:00:00Z",
//	  "duration_ms": 41000,
//	  "fixtures_seed": "shakedown",
//	  "target": "in-process",
//	  "columns": ["noise", "seed-p256", …],
//	  "scenarios": ["pass-through", …],
//	  "verdicts": [{"scenario": "impersonate-server", "column": "tls-none",
//	                "profile": "tls", "variant": "none", "device": "tls-0001",
//	                "expected": "succeeded", "outcome": "succeeded", "as_expected": true,
//	                "evidence": [{"side": "attacker", "kind": "read",
//	                              "field": "connect.password", "value": "…"}, …],
//	                "source": "…", "duration_ms": 12}, …],
//	  "mismatches": 0
//	}
//
// A run on a board adds the board and the cells it does not apply to, each
// a verdict with outcome not_applicable and the reason:
//
//	"board": {"board": "shakedown virtual board", "chip": "host",
//	          "firmware": "shakedown virtual 1", "serial": "VIRTUAL-0001",
//	          "profiles": ["noise", "seed", "psk", "tls"],
//	          "curves": ["x25519", "p256", "secp160r1"]},
//	"not_applicable": [{"scenario": "invalid-point", "column": "seed-p256-nocheck",
//	                    "expected": "succeeded", "outcome": "not_applicable",
//	                    "not_applicable": "…", …}]
//
// Columns and scenarios keep the catalogue's order; verdicts are listed
// scenario by scenario, column by column, and only for the cells the
// catalogue defines and that ran; not_applicable lists the others, so
// verdicts and not_applicable together cover the selection. Outcomes are
// rejected, succeeded, failed_closed, survived, locked_out and error (not_applicable in
// its own list); fact kinds are refused, read, accepted, delivered,
// not_found, worked, note, time and log.
type MITM struct {
	Format       string    `json:"format"`
	Started      time.Time `json:"started"`
	DurationMS   int64     `json:"duration_ms"`
	FixturesSeed string    `json:"fixtures_seed"`
	Target       string    `json:"target"`
	Columns      []string  `json:"columns"`
	Scenarios    []string  `json:"scenarios"`
	Verdicts     []Verdict `json:"verdicts"`
	// Mismatches counts the verdicts whose outcome is not the expected one.
	Mismatches int `json:"mismatches"`
	// Board is the board under test; nil for simulated devices.
	Board *MITMBoard `json:"board,omitempty"`
	// NotApplicable are the cells that have no meaning on the board.
	NotApplicable []Verdict `json:"not_applicable,omitempty"`
	// Interrupted is true when the run stopped before its last cell (a
	// signal, a deadline): the verdicts are those of the cells that ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// ShakedownVersion is the build that ran the matrix.
	ShakedownVersion string `json:"shakedown_version,omitempty"`
}

// MITMBoard is the board under test of a MITM run, as its INFO describes it.
type MITMBoard struct {
	Board    string   `json:"board"`
	Chip     string   `json:"chip"`
	Firmware string   `json:"firmware"`
	Serial   string   `json:"serial,omitempty"`
	Profiles []string `json:"profiles"`
	Curves   []string `json:"curves"`
}

// Verdict returns the verdict of a cell, run or not applicable.
func (m *MITM) Verdict(scenario, column string) (Verdict, bool) {
	for _, list := range [][]Verdict{m.Verdicts, m.NotApplicable} {
		for _, v := range list {
			if v.Scenario == scenario && v.Column == column {
				return v, true
			}
		}
	}
	return Verdict{}, false
}

// Add adds a cell's verdict: to NotApplicable when the cell was not
// applicable, else to Verdicts, counting a mismatch.
func (m *MITM) Add(v Verdict) {
	if v.Outcome == NotApplicable {
		m.NotApplicable = append(m.NotApplicable, v)
		return
	}
	if !v.AsExpected {
		m.Mismatches++
	}
	m.Verdicts = append(m.Verdicts, v)
}

// WriteJSON writes m as indented JSON (the document ReadMITM reads).
func (m *MITM) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// WriteFile writes m to path (mode 0644), replacing the file.
func (m *MITM) WriteFile(path string) error {
	var b bytes.Buffer
	err := m.WriteJSON(&b)
	if err == nil {
		err = os.WriteFile(path, b.Bytes(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("reports: writing the mitm results: %w", err)
	}
	return nil
}
