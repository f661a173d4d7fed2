package mitm

import (
	"fmt"
	"io"
	"strings"

	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
	"shakedown/reports"
)

// Column is one column of the matrix: a profile and the device's variant of
// it (the tls verification mode; the seed curve, and whether the device
// skips point validation).
type Column struct {
	Profile handshake.Name
	Variant string
}

// Name is "profile" or "profile-variant": noise, seed-p256, tls-ca-noclock.
func (c Column) Name() string {
	if c.Variant == "" {
		return string(c.Profile)
	}
	return string(c.Profile) + "-" + c.Variant
}

// The seed variants: the curve, and "-nocheck" for the vulnerable device that
// skips point validation.
const nocheckSuffix = "-nocheck"

// Columns of the matrix, in order.
var (
	ColNoise                = Column{handshake.Noise, ""}
	ColSeedP256             = Column{handshake.Seed, "p256"}
	ColSeedSecp160r1        = Column{handshake.Seed, "secp160r1"}
	ColSeedP256NoCheck      = Column{handshake.Seed, "p256" + nocheckSuffix}
	ColSeedSecp160r1NoCheck = Column{handshake.Seed, "secp160r1" + nocheckSuffix}
	ColPSK                  = Column{handshake.PSK, ""}
	ColTLSNone              = Column{handshake.TLS, "none"}
	ColTLSFingerprint       = Column{handshake.TLS, "fingerprint"}
	ColTLSSPKI              = Column{handshake.TLS, "spki"}
	ColTLSCA                = Column{handshake.TLS, "ca"}
	ColTLSCANoClock         = Column{handshake.TLS, "ca-noclock"}
	ColTLSCANTP             = Column{handshake.TLS, "ca-ntp"}
	ColTLSCARoughtime       = Column{handshake.TLS, "ca-roughtime"}
	Columns                 = []Column{ColNoise, ColSeedP256, ColSeedSecp160r1, ColSeedP256NoCheck, ColSeedSecp160r1NoCheck, ColPSK, ColTLSNone, ColTLSFingerprint, ColTLSSPKI, ColTLSCA, ColTLSCANoClock, ColTLSCANTP, ColTLSCARoughtime}
)

// NetworkClock reports whether the devices of column c set their clock
// from a time server before each handshake (the ca-ntp and ca-roughtime
// columns): the cell's attacker also stands on that way (TimeGate).
func (c Column) NetworkClock() bool {
	return c.Profile == handshake.TLS && tlsprofile.Mode(c.Variant).NetworkClock()
}

// Curve returns a seed column's curve name.
func (c Column) Curve() string { return strings.TrimSuffix(c.Variant, nocheckSuffix) }

// NoCheck reports whether a seed column's device skips point validation.
func (c Column) NoCheck() bool { return strings.HasSuffix(c.Variant, nocheckSuffix) }

// ParseColumn returns the column named s.
func ParseColumn(s string) (Column, error) {
	for _, c := range Columns {
		if c.Name() == s {
			return c, nil
		}
	}
	return Column{}, fmt.Errorf("mitm: unknown column %q", s)
}

// Kind says what a scenario does to a device.
type Kind string

const (
	KindAttack Kind = "attack" // outcomes: rejected, succeeded, or failed_closed (the device refused to go on without a precondition the attacker withheld)
	KindChange Kind = "change" // a legitimate change; outcomes: survived or locked_out
)

// Cell is a scenario's expectation on one column and where it comes from.
type Cell struct {
	Column   Column
	Expected reports.Outcome
	Source   string
}

// Scenario is one entry of the catalogue.
type Scenario struct {
	Name  string
	Title string
	Kind  Kind
	Cells []Cell
	run   func(r *cellRun) (reports.Outcome, error)
}

// Cell returns the scenario's cell of column c.
func (s *Scenario) Cell(c Column) (Cell, bool) {
	for _, cell := range s.Cells {
		if cell.Column == c {
			return cell, true
		}
	}
	return Cell{}, false
}

// Catalogue returns every scenario in the matrix's order.
func Catalogue() []*Scenario { return catalogue }

// Lookup returns the scenario named name.
func Lookup(name string) (*Scenario, error) {
	for _, s := range catalogue {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(catalogue))
	for i, s := range catalogue {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("mitm: unknown scenario %q (want one of %s)", name, strings.Join(names, ", "))
}

// LookupCell returns the scenario named name and its cell of column col.
func LookupCell(name string, col Column) (*Scenario, Cell, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, Cell{}, err
	}
	c, ok := s.Cell(col)
	if !ok {
		return nil, Cell{}, fmt.Errorf("mitm: scenario %s has no %s column", name, col.Name())
	}
	return s, c, nil
}

// Selection picks cells of the matrix: scenarios by name and columns by
// name or profile (tls picks every tls column). Empty lists pick all.
type Selection struct {
	Scenarios []string
	Columns   []string
}

// Check reports names that match nothing.
func (s Selection) Check() error {
	for _, n := range s.Scenarios {
		if _, err := Lookup(n); err != nil {
			return err
		}
	}
	for _, n := range s.Columns {
		found := false
		for _, c := range Columns {
			found = found || c.Name() == n || string(c.Profile) == n
		}
		if !found {
			return fmt.Errorf("mitm: unknown profile or column %q", n)
		}
	}
	return nil
}

func (s Selection) scenario(name string) bool {
	return len(s.Scenarios) == 0 || contains(s.Scenarios, name)
}

func (s Selection) column(c Column) bool {
	return len(s.Columns) == 0 || contains(s.Columns, c.Name()) || contains(s.Columns, string(c.Profile))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cells builds the cells of cols with one expectation and source.
func cells(o reports.Outcome, src string, cols ...Column) []Cell {
	out := make([]Cell, len(cols))
	for i, c := range cols {
		out[i] = Cell{Column: c, Expected: o, Source: src}
	}
	return out
}

func cell(c Column, o reports.Outcome, src string) Cell {
	return Cell{Column: c, Expected: o, Source: src}
}

// Sources quoted by several cells.
const (
	srcNoiseTransport = "Noise rev. 34 §5.1, §5.2: a key per direction (Split) and a nonce counting one per message: a record opens only under its own number (§11.4: out of order needs explicit nonces, which the profile does not send)"
	srcCounterNonces  = "counter nonces per direction (docs/protocol.md, records): a record opens only under its own number and key"
	srcTLSRecords     = "RFC 8446 §5.3: the record nonce is the sequence number; §7.3: client and server write keys differ"
	srcNTPForged      = "RFC 4330 §3: nothing authenticates the server (\"the device cannot verify the identity of the NTP server\", the seed's step 3): the attacker names a time inside the certificate's validity"
	srcRoughtime      = "draft-ietf-ntp-roughtime-19 §5.4: the time must be signed over the device's nonce through a delegation from the pinned key; the attacker's is refused, and the true time finds the certificate expired (RFC 5280 §6.1.3)"
	srcHonestTime     = "RFC 5280 §6.1: with the true time from its time server the new certificate is valid now"
	srcDowngrade      = "each profile's server checks the registered profile (docs/protocol.md): a device is refused on every other listener; the broker checks tls CONNECT credentials"
)

var catalogue = []*Scenario{
	{
		Name: "pass-through", Title: "an honest proxy: every column works through it (control)", Kind: KindChange,
		Cells: cells(reports.Survived, "control: without it no rejection below would mean anything", Columns...),
		run:   runPassThrough,
	},
	{
		Name: "eavesdrop-identity", Title: "a passive observer learns which device connects", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §7.7: IK message 1 carries the device's static key encrypted (s after es); the profile sends no ID"),
			cell(ColSeedP256, reports.Succeeded, "the seed's step 2: the device \"sends its deviceId in plaintext\""),
			cell(ColSeedSecp160r1, reports.Succeeded, "the seed's step 2: the device \"sends its deviceId in plaintext\""),
			cell(ColPSK, reports.Succeeded, "the psk design's msg1 names the device in plaintext (docs/protocol.md, psk)"),
			cell(ColTLSNone, reports.Rejected, "RFC 8446 §2: all after ServerHello is encrypted, the MQTT CONNECT included (only SNI, RFC 6066 §3, is clear)"),
		},
		run: runEavesdropIdentity,
	},
	{
		Name: "impersonate-server", Title: "key substitution: the attacker answers with keys or a certificate of its own", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §7.7: IK message 2 authenticates the responder's pinned static key (source 2); message 1 opens only with it (destination 2)"),
			cell(ColSeedP256, reports.Rejected, "the seed's own argument: without the device's \"public\" key the attacker cannot compute the ECDH secret"),
			cell(ColSeedSecp160r1, reports.Rejected, "the seed's own argument: without the device's \"public\" key the attacker cannot compute the ECDH secret"),
			cell(ColPSK, reports.Rejected, "without the pre-shared key the attacker derives other keys (RFC 5869), which AES-GCM refuses (NIST SP 800-38D)"),
			cell(ColTLSNone, reports.Succeeded, "the seed's complaint: a device that checks no certificate accepts any (RFC 8446 §4.4.2.4 leaves the check to it)"),
			cell(ColTLSFingerprint, reports.Rejected, "the attacker's certificate has another hash than the pinned one (the seed's ESP8266 example)"),
			cell(ColTLSSPKI, reports.Rejected, "RFC 7469 §2.4: the attacker's key is not the pinned key"),
			cell(ColTLSCA, reports.Rejected, "RFC 5280 §6.1: a self-signed certificate does not chain to the device's roots"),
			cell(ColTLSCANoClock, reports.Rejected, "RFC 5280 §6.1: refusing a certificate the CA never signed needs no clock"),
			cell(ColTLSCANTP, reports.Rejected, "RFC 5280 §6.1: no time makes a self-signed certificate chain to the device's roots"),
			cell(ColTLSCARoughtime, reports.Rejected, "RFC 5280 §6.1: no time makes a self-signed certificate chain to the device's roots"),
		},
		run: runImpersonateServer,
	},
	{
		Name: "leaked-public-key", Title: "the attacker holds the device's public key (the seed's \"not actually public\" key)", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §14 (\"Misusing public keys as secrets\"): public keys are public; a handshake proves the private keys"),
			cell(ColSeedP256, reports.Succeeded, "Noise rev. 34 §14 (\"Misusing public keys as secrets\") against the seed's \"the public key is not actually public\": whoever holds D computes e·D"),
			cell(ColSeedSecp160r1, reports.Succeeded, "Noise rev. 34 §14 (\"Misusing public keys as secrets\") against the seed's \"the public key is not actually public\": whoever holds D computes e·D"),
		},
		run: runLeakedPublicKey,
	},
	{
		Name: "invalid-point", Title: "low-order, off-curve and identity points in place of the server's key", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "RFC 7748 §6.1, §7: X25519 with a low-order point gives all zeros, which the profile refuses (Noise rev. 34 §12.1 allows it)"),
			cell(ColSeedP256, reports.Rejected, "SEC 1 v2.0 §3.2.2.1: a correct device validates the point (not the identity, coordinates below p, on the curve)"),
			cell(ColSeedSecp160r1, reports.Rejected, "SEC 1 v2.0 §3.2.2.1: a correct device validates the point (not the identity, coordinates below p, on the curve)"),
			cell(ColSeedP256NoCheck, reports.Succeeded, "SEC 1 v2.0 §3.2.2 skipped: the invalid-curve attack; small-order and identity points give secrets the attacker predicts"),
			cell(ColSeedSecp160r1NoCheck, reports.Succeeded, "SEC 1 v2.0 §3.2.2 skipped: the invalid-curve attack; small-order and identity points give secrets the attacker predicts"),
		},
		run: runInvalidPoint,
	},
	{
		Name: "expired-certificate", Title: "the attacker holds a leaked CA-signed certificate that has expired, with its key", Kind: KindAttack,
		Cells: []Cell{
			cell(ColTLSNone, reports.Succeeded, "checks nothing: any certificate with its key passes"),
			cell(ColTLSFingerprint, reports.Rejected, "the expired certificate is not the pinned one"),
			cell(ColTLSSPKI, reports.Rejected, "RFC 7469 §2.4: the expired certificate carries another key than the pinned one"),
			cell(ColTLSCA, reports.Rejected, "RFC 5280 §6.1.3 (a)(2): a certificate must be valid at the current time"),
			cell(ColTLSCANoClock, reports.Succeeded, "the seed's clock complaint: at its build date the clockless device finds the expired certificate valid (RFC 5280 §6.1.3 needs the current time)"),
			cell(ColTLSCANTP, reports.Succeeded, srcNTPForged),
			cell(ColTLSCARoughtime, reports.Rejected, srcRoughtime),
		},
		run: runExpiredCertificate,
	},
	{
		Name: "ntp-rollback", Title: "the attacker sets the device's clock back and replays a broker certificate retired by expiry, with its leaked key", Kind: KindAttack,
		Cells: []Cell{
			cell(ColTLSCA, reports.Rejected, "RFC 5280 §6.1.3 (a)(2): a device with its own clock finds the certificate expired"),
			cell(ColTLSCANoClock, reports.Rejected, "RFC 5280 §6.1.3 (a)(2): the certificate expired before the device was built, so its build date refuses it too"),
			cell(ColTLSCANTP, reports.Succeeded, srcNTPForged+"; the device takes even a date before its own build"),
			cell(ColTLSCARoughtime, reports.Rejected, srcRoughtime),
		},
		run: runNTPRollback,
	},
	{
		Name: "time-blocked", Title: "the attacker drops every query to the device's time server", Kind: KindAttack,
		Cells: cells(reports.FailedClosed, "the device checks no certificate without a time it trusts: it stays offline while the attacker blocks (draft-ietf-ntp-roughtime-19 §5: no unauthenticated error message to force it off)",
			ColTLSCANTP, ColTLSCARoughtime),
		run: runTimeBlocked,
	},
	{
		Name: "certificate-renewal", Title: "the server renews its certificate with the same key", Kind: KindChange,
		Cells: []Cell{
			cell(ColTLSNone, reports.Survived, "checks nothing"),
			cell(ColTLSFingerprint, reports.LockedOut, "the seed's rollover complaint: a new certificate has a new fingerprint"),
			cell(ColTLSSPKI, reports.Survived, "RFC 7469 §2.4: the pin covers the key, which a renewal keeps"),
			cell(ColTLSCA, reports.Survived, "RFC 5280 §6.1: the renewed certificate chains to the same CA and is valid now"),
			cell(ColTLSCANoClock, reports.LockedOut, "RFC 5280 §4.1.2.5: the renewed certificate is not yet valid at the device's build date"),
			cell(ColTLSCANTP, reports.Survived, srcHonestTime),
			cell(ColTLSCARoughtime, reports.Survived, srcHonestTime),
		},
		run: runCertificateChange(ListenTLSRenewed),
	},
	{
		Name: "certificate-rollover", Title: "the server rolls its certificate over to a new key", Kind: KindChange,
		Cells: []Cell{
			cell(ColTLSNone, reports.Survived, "checks nothing"),
			cell(ColTLSFingerprint, reports.LockedOut, "the seed's rollover complaint: \"when the broker has a certificate roll-over, the device would stop working\""),
			cell(ColTLSSPKI, reports.LockedOut, "RFC 7469 §2.4: a new key is a new pin (§4.3 asks for a backup pin)"),
			cell(ColTLSCA, reports.Survived, "RFC 5280 §6.1: the new certificate chains to the same CA and is valid now"),
			cell(ColTLSCANoClock, reports.LockedOut, "RFC 5280 §4.1.2.5: the new certificate is not yet valid at the device's build date"),
			cell(ColTLSCANTP, reports.Survived, srcHonestTime),
			cell(ColTLSCARoughtime, reports.Survived, srcHonestTime),
		},
		run: runCertificateChange(ListenTLSRolled),
	},
	{
		Name: "server-key-rollover", Title: "the server rolls its static key over with the attacker in the middle", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §7.7: the announcement rides in message 2 (source 2, destination 4); the device pins only what an authenticated message 2 announced"),
		},
		run: runServerKeyRollover,
	},
	{
		Name: "replay-to-device", Title: "a recorded server session replayed to the device (message-2 replay)", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §7.7: message 2 mixes the device's fresh ephemeral (ee, se): a recorded message 2 fits no other handshake"),
			cell(ColSeedP256, reports.Succeeded, "Noise rev. 34 §7.7 destination 2 (the seed's shape is pattern N): \"vulnerable to replay\"; the device adds no freshness; NIST SP 800-38D §8 on the reused nonces"),
			cell(ColSeedSecp160r1, reports.Succeeded, "Noise rev. 34 §7.7 destination 2 (the seed's shape is pattern N): \"vulnerable to replay\"; the device adds no freshness; NIST SP 800-38D §8 on the reused nonces"),
			cell(ColPSK, reports.Succeeded, "no freshness: the same keys every session (docs/protocol.md, psk); NIST SP 800-38D §8 on the reused nonces"),
			cell(ColTLSNone, reports.Rejected, "RFC 8446 §4.1.2, §7.1: the client's random and key share enter every key; a recorded server flight fits no new handshake"),
		},
		run: runReplayToDevice,
	},
	{
		Name: "replay-to-server", Title: "a recorded device session replayed to the server (message-1 replay)", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "the profile's message-1 counter (docs/protocol.md, noise) closes what Noise rev. 34 §7.7 destination 2 leaves open (\"can also be replayed\")"),
			cell(ColSeedP256, reports.Rejected, "the server draws a fresh ephemeral per handshake: the replayed records meet new keys"),
			cell(ColSeedSecp160r1, reports.Rejected, "the server draws a fresh ephemeral per handshake: the replayed records meet new keys"),
			cell(ColPSK, reports.Succeeded, "no freshness: the same keys and nonces every session (docs/protocol.md, psk)"),
			cell(ColTLSNone, reports.Rejected, "RFC 8446 §4.1.3 (the server's random), §8 (only 0-RTT data replays; the server accepts none)"),
		},
		run: runReplayToServer,
	},
	{
		Name: "tamper-handshake", Title: "every byte of every handshake message altered in turn", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §5.2, §5.3: every handshake byte enters h, which each message's payload authenticates"),
			cell(ColSeedP256, reports.Rejected, "a correct device checks the point; the server refuses bad IDs; the rest shows at the first record (docs/protocol.md, seed)"),
			cell(ColSeedSecp160r1, reports.Rejected, "a correct device checks the point; the server refuses bad IDs; the rest shows at the first record (docs/protocol.md, seed)"),
			cell(ColPSK, reports.Rejected, "msg1 selects the keys: an altered ID names no device or other keys (docs/protocol.md, psk)"),
			cell(ColTLSNone, reports.Rejected, "RFC 8446 §4.4.1, §4.4.4: the transcript hash covers every handshake byte; Finished fails"),
		},
		run: runTamperHandshake,
	},
	{
		Name: "transport-replay", Title: "a device record sent twice", Kind: KindAttack,
		Cells: transportCells(), run: runTransport(transportReplay),
	},
	{
		Name: "transport-reorder", Title: "two device records swapped", Kind: KindAttack,
		Cells: transportCells(), run: runTransport(transportReorder),
	},
	{
		Name: "transport-drop", Title: "a device record dropped", Kind: KindAttack,
		Cells: transportCells(), run: runTransport(transportDrop),
	},
	{
		Name: "transport-truncate", Title: "a device record cut short by one byte", Kind: KindAttack,
		Cells: transportCells(), run: runTransport(transportTruncate),
	},
	{
		Name: "reflection", Title: "a device record reflected back to the device", Kind: KindAttack,
		Cells: transportCells(), run: runTransport(transportReflect),
	},
	{
		Name: "downgrade", Title: "the device's identity taken to another profile's listener", Kind: KindAttack,
		Cells: cells(reports.Rejected, srcDowngrade, ColNoise, ColSeedP256, ColPSK),
		run:   runDowngrade,
	},
	{
		Name: "leaked-device-key", Title: "the device's key leaks later: recorded sessions decrypted (forward secrecy)", Kind: KindAttack,
		Cells: []Cell{
			cell(ColNoise, reports.Rejected, "Noise rev. 34 §7.7: IK transport payloads have destination property 5 (strong forward secrecy); only message 1 falls to the server's static key (destination 2)"),
			cell(ColSeedP256, reports.Succeeded, "Noise rev. 34 §7.7 destination 2: \"if the recipient's static private key is compromised, even at a later date, this payload can be decrypted\""),
			cell(ColSeedSecp160r1, reports.Succeeded, "Noise rev. 34 §7.7 destination 2: \"if the recipient's static private key is compromised, even at a later date, this payload can be decrypted\""),
			cell(ColPSK, reports.Succeeded, "the seed's own caveat: \"all traffic is using the same symmetric key\""),
		},
		run: runLeakedDeviceKey,
	},
}

func transportCells() []Cell {
	return []Cell{
		cell(ColNoise, reports.Rejected, srcNoiseTransport),
		cell(ColSeedP256, reports.Rejected, srcCounterNonces),
		cell(ColPSK, reports.Rejected, srcCounterNonces),
		cell(ColTLSNone, reports.Rejected, srcTLSRecords),
	}
}

// WriteCatalogue lists the scenarios with each cell's expectation and source.
func WriteCatalogue(w io.Writer) {
	for _, s := range catalogue {
		fmt.Fprintf(w, "%s (%s): %s\n", s.Name, s.Kind, s.Title)
		for _, c := range s.Cells {
			fmt.Fprintf(w, "  %-24s %-10s %s\n", c.Column.Name(), c.Expected.Label(), c.Source)
		}
		fmt.Fprintln(w)
	}
}
