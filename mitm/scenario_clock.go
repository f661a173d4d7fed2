package mitm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/clock"
	"shakedown/handshake/tlsprofile"
	"shakedown/reports"
)

// The seed's clock question (its step 3): a device that sets its clock from
// the network before it checks the broker's certificate. On the ca-ntp
// column the attacker answers SNTP with a time inside the validity of a
// certificate whose key leaked; on the ca-roughtime column it tries the
// same, signs with the only key it has, and the device refuses the time;
// then, passing the true time, it presents the certificate, which the
// device finds expired.

// runExpiredCertificate: the leaked certificate that expired 30 days ago.
func runExpiredCertificate(r *cellRun) (reports.Outcome, error) {
	const note = "the leaked, expired, CA-signed certificate and its key"
	if r.col.NetworkClock() {
		return r.clockAttack(r.m.Material.Expired, note)
	}
	return r.tlsMITM(r.m.Material.Expired, note)
}

// runNTPRollback: the broker certificate retired by expiry before the
// devices were built.
func runNTPRollback(r *cellRun) (reports.Outcome, error) {
	const note = "the broker certificate retired by expiry, with its leaked key"
	cert := r.m.Material.Retired
	if cert.Leaf == nil {
		return reports.Broken, errors.New("the lab's material has no retired certificate")
	}
	if r.col.NetworkClock() {
		return r.clockAttack(cert, note)
	}
	r.certFacts(cert.Leaf)
	return r.tlsMITM(cert, note)
}

// runTimeBlocked: every time query dropped; should the device connect
// anyway, the attacker presents the expired certificate.
func runTimeBlocked(r *cellRun) (reports.Outcome, error) {
	if r.m.Time == nil {
		return reports.Broken, errNoTimeGate
	}
	r.m.Time.drop()
	before, _ := r.m.Time.queries(modeOf(r.col))
	out, err := r.tlsMITM(r.m.Material.Expired, "the leaked expired certificate, to a device that went on without its time server")
	read, _ := r.m.Time.queries(modeOf(r.col))
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactNote, Field: timeProtocol(r.col) + ".dropped",
		Count: int(read - before), Note: "time queries the attacker read and left unanswered"})
	return out, err
}

// clockAttack forges the device's time into the validity of cert, then
// presents cert. A device that refuses the forged time is then given the
// true time, with cert: the verdict rests on both refusals.
func (r *cellRun) clockAttack(cert tls.Certificate, note string) (reports.Outcome, error) {
	leaf := cert.Leaf
	if leaf == nil {
		return reports.Broken, errors.New("the attacker's certificate has no parsed leaf")
	}
	r.certFacts(leaf)
	inside := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2).Truncate(time.Second)
	if err := r.forgeTime(inside, "a time inside the certificate's validity"); err != nil {
		return reports.Broken, err
	}
	out, err := r.tlsMITM(cert, note)
	if err != nil || out != reports.Rejected {
		return out, err
	}
	// The device refused: the forged time, or the certificate at it? Only
	// a refused time leaves the attacker another move.
	if !r.refusedTime() {
		return out, nil
	}
	r.m.Time.pass()
	r.note("the attacker passes the true time and presents the certificate again")
	return r.tlsMITM(cert, note+", at the true time")
}

// certFacts records the validity of the certificate the attacker presents.
func (r *cellRun) certFacts(leaf *x509.Certificate) {
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactTime, Field: "certificate.not_before", Value: leaf.NotBefore.UTC().Format(time.RFC3339)})
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactTime, Field: "certificate.not_after", Value: leaf.NotAfter.UTC().Format(time.RFC3339)})
}

// refusedTime reports whether the cell's last device refusal was of its
// time server's answer.
func (r *cellRun) refusedTime() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.facts) - 1; i >= 0; i-- {
		f := r.facts[i]
		if f.Side == reports.SideDevice && f.Kind == reports.FactRefused {
			return f.Stage == string(handshake.StageClock)
		}
	}
	return false
}

// clockReader is a device whose clock reading a scenario can see: a
// simulated one. A board's is not readable over the board protocol.
type clockReader interface {
	Device
	ClockReading() (time.Time, bool)
}

// deviceClock records the time a network-clock device checked the chain at.
func (r *cellRun) deviceClock(dev Device) {
	if !r.col.NetworkClock() {
		return
	}
	cr, ok := dev.(clockReader)
	if !ok {
		return
	}
	if t, ok := cr.ClockReading(); ok {
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactTime, Field: "device.clock", Value: t.UTC().Format(time.RFC3339),
			Note: "the time the device checked the certificate at, as its " + timeProtocol(r.col) + " server answered"})
	}
}

// clockCheck names the check of a refused time answer, from the device's
// own error (a simulated device's; a board reports the reason only).
func clockCheck(err error) string {
	checks := []struct {
		err  error
		name string
	}{
		{clock.ErrDelegation, "delegation_signature"}, {clock.ErrSignature, "response_signature"},
		{clock.ErrNonce, "nonce"}, {clock.ErrMerkle, "merkle_path"}, {clock.ErrValidity, "delegation_validity"},
		{clock.ErrVersion, "version"}, {clock.ErrUnusable, "unusable"}, {clock.ErrMalformed, "malformed"},
	}
	for _, c := range checks {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return ""
}

// detailRefusal names what the device's last refusal failed: field is the
// check, value its name from a fixed list (never the peer's bytes).
func (r *cellRun) detailRefusal(field, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.facts) - 1; i >= 0; i-- {
		if f := &r.facts[i]; f.Side == reports.SideDevice && f.Kind == reports.FactRefused {
			f.Field, f.Value = field, value
			return
		}
	}
}

// pathOrEnd waits for the device's connection, or for its handshake to end
// before it made one (a device that refused its time and never dialled).
func (r *cellRun) pathOrEnd(ch <-chan opened) (Path, *opened, error) {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	type next struct {
		p   Path
		err error
	}
	nc := make(chan next, 1)
	go func() {
		p, err := r.way.Next(ctx)
		nc <- next{p, err}
	}()
	select {
	case n := <-nc:
		if n.err == nil {
			return n.p, nil, nil
		}
		// No path: a relay that saw the device's handshake end before
		// its first byte. The device's own result says why.
		select {
		case o := <-ch:
			return nil, &o, nil
		case <-r.ctx.Done():
			return nil, nil, n.err
		}
	case o := <-ch:
		cancel()
		if n := <-nc; n.p != nil {
			n.p.Close()
		}
		return nil, &o, nil
	}
}

// endedEarly judges a device whose handshake ended before it reached the
// attacker: a refusal of its time (or another refusal), or no time at all.
func (r *cellRun) endedEarly(o *opened, note string) (reports.Outcome, error) {
	if o.err == nil {
		o.conn.Close()
		return reports.Broken, errors.New("the device connected without passing the attacker")
	}
	if err := r.deviceRefused(o.err, note); err != nil {
		return reports.Broken, err
	}
	if c := clockCheck(o.err); c != "" {
		r.detailRefusal(timeProtocol(r.col)+".check", c)
	}
	if handshake.ReasonOf(o.err) == handshake.ReasonTimeUnavailable {
		return reports.FailedClosed, nil
	}
	return reports.Rejected, nil
}

func modeOf(c Column) tlsprofile.Mode { return tlsprofile.Mode(c.Variant) }
