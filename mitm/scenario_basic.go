package mitm

import (
	"bytes"
	"errors"
	"fmt"

	"shakedown/handshake"
	"shakedown/handshake/seed"
	"shakedown/reports"
)

// runPassThrough: the device's whole session through an honest relay.
func runPassThrough(r *cellRun) (reports.Outcome, error) {
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	dc, relay, err := r.relayed(dev, ListenerOf(r.col.Profile), nil, r.stepTimeout())
	defer closeAll(dc, relay)
	if err != nil {
		r.refused(reports.SideDevice, err, "through an honest relay")
		return reports.LockedOut, nil
	}
	if err := r.work(dev, dc); err != nil {
		return reports.Broken, err
	}
	sh := shapeOf(relay.Recording(), dc)
	r.note("handshake: %d unit(s) from the device, %d from the server", len(sh.up), len(sh.down))
	return reports.Survived, nil
}

// runEavesdropIdentity: record a session passively and look for the
// device's identity in it.
func runEavesdropIdentity(r *cellRun) (reports.Outcome, error) {
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	dc, relay, err := r.relayed(dev, ListenerOf(r.col.Profile), nil, r.stepTimeout())
	if err != nil {
		closeAll(relay)
		return reports.Broken, fmt.Errorf("recording a session: %w", err)
	}
	werr := r.work(dev, dc)
	closeAll(dc, relay)
	if werr != nil {
		return reports.Broken, werr
	}
	rec := relay.Recording()
	up := rec.Units(Upstream)
	if len(up) == 0 {
		return reports.Broken, errors.New("nothing recorded")
	}
	if r.col.Profile == handshake.Seed || r.col.Profile == handshake.PSK {
		id, err := PlaintextID(r.col.Profile, up[0].Body())
		if err != nil {
			return reports.Broken, fmt.Errorf("parsing message 1: %w", err)
		}
		r.read("device_id", id, "from message 1, in plaintext")
		return reports.Succeeded, nil
	}
	// No plaintext field to parse: search every recorded byte for the ID
	// and, for noise, the device's static public key.
	var all []byte
	for _, c := range rec.All() {
		all = append(all, c.Wire...)
	}
	found := false
	look := func(field string, needle []byte) {
		if bytes.Contains(all, needle) {
			found = true
			r.read(field, string(needle), "found in the recorded bytes")
			return
		}
		r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactNotFound, Field: field,
			Note: fmt.Sprintf("searched %d recorded bytes", len(all))})
	}
	look("device_id", []byte(r.victim.ID))
	if r.col.Profile == handshake.Noise {
		look("device_static_key", r.victim.Public)
	}
	if found {
		return reports.Succeeded, nil
	}
	return reports.Rejected, nil
}

// runCertificateChange returns the scenario of a legitimate certificate
// change: the device connects to the listener that serves the new
// certificate.
func runCertificateChange(l Listener) func(r *cellRun) (reports.Outcome, error) {
	return func(r *cellRun) (reports.Outcome, error) {
		dev, err := r.newDevice()
		if err != nil {
			return reports.Broken, err
		}
		dc, relay, err := r.relayed(dev, l, nil, r.stepTimeout())
		defer closeAll(dc, relay)
		if err != nil {
			if reason := r.refused(reports.SideDevice, err, "the server's new certificate"); reason != handshake.ReasonCertificate {
				return reports.Broken, fmt.Errorf("the device failed for another reason than its certificate check: %w", err)
			}
			return reports.LockedOut, nil
		}
		if err := r.work(dev, dc); err != nil {
			return reports.Broken, err
		}
		return reports.Survived, nil
	}
}

// Layout of the plaintext first messages (docs/protocol.md):
//
//	seed msg1: 1B version 0x01 | 1B curve | 1B idlen | idlen B device ID
//	psk msg1:  1B version 0x01 | 1B idlen | idlen B device ID
const (
	msg1Version      = 0x01
	seedOffIDLen     = 2
	pskOffIDLen      = 1
	maxPlaintextID   = 64
	errPlaintextText = "mitm: message 1 does not have the layout of its profile"
)

var errPlaintextLayout = errors.New(errPlaintextText)

// PlaintextID returns the device ID that a seed or psk message 1 carries in
// plaintext: what a passive observer reads. Errors are *handshake.Error
// values of profile p at StageMsg1.
func PlaintextID(p handshake.Name, msg1 []byte) (string, error) {
	off := pskOffIDLen
	switch p {
	case handshake.Seed:
		off = seedOffIDLen
	case handshake.PSK:
	default:
		return "", handshake.Fail(p, handshake.StageMsg1, handshake.ReasonMalformed, errPlaintextLayout)
	}
	if len(msg1) <= off {
		return "", handshake.Fail(p, handshake.StageMsg1, handshake.ReasonShortFrame, errPlaintextLayout)
	}
	n := int(msg1[off])
	id := msg1[off+1:]
	if msg1[0] != msg1Version || n == 0 || n > maxPlaintextID || len(id) != n || !seed.ValidID(string(id)) {
		return "", handshake.Fail(p, handshake.StageMsg1, handshake.ReasonMalformed, errPlaintextLayout)
	}
	return string(id), nil
}
