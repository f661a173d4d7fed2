package mitm

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"

	fnoise "github.com/flynn/noise"
	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/reports"
)

// runDowngrade takes the device's identity to the other profiles'
// listeners: its own message 1 as it is, a message 1 of that profile naming
// the device, and a tls CONNECT as the device without its password.
func runDowngrade(r *cellRun) (reports.Outcome, error) {
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	ch := r.open(dev, r.failTimeout())
	p, err := r.next()
	if err != nil {
		return reports.Broken, err
	}
	msg1, err := ReadUnit(p.Device(), FramingOf(r.col.Profile), r.col.Profile)
	if err != nil {
		p.Close()
		return reports.Broken, fmt.Errorf("reading the device's message 1: %w", err)
	}
	defer func() { p.Close(); r.wait(ch) }()
	accepted := false
	for _, l := range []Listener{ListenNoise, ListenSeed, ListenPSK} {
		if l == ListenerOf(r.col.Profile) {
			continue
		}
		if err := r.downgradeFrame(p, l, msg1.Wire); err != nil {
			return reports.Broken, err
		}
		if l == ListenNoise {
			continue // noise finds devices by their static key: no ID to name
		}
		ok, err := r.downgradeForged(p, l)
		if err != nil {
			return reports.Broken, err
		}
		accepted = accepted || ok
	}
	ok, err := r.downgradeTLS(p)
	if err != nil {
		return reports.Broken, err
	}
	return outcome(accepted || ok), nil
}

// downgradeFrame sends the device's own first message to listener l.
func (r *cellRun) downgradeFrame(p Path, l Listener, wire []byte) error {
	ctx, cancel := r.stepCtx(r.failTimeout())
	defer cancel()
	mark := r.m.Target.Mark()
	c, err := p.Dial(ctx, l)
	if err != nil {
		return err
	}
	c.Write(wire)
	drain(ctx, asConn(c))
	c.Close()
	if r.serverRefusal(mark, l, "the device's own message 1 on the "+string(l)+" listener") == "" {
		return fmt.Errorf("the %s listener logged no refusal of a foreign message 1", l)
	}
	return nil
}

// downgradeForged runs the device side of listener l's profile, naming the
// victim, with a key of the attacker's.
func (r *cellRun) downgradeForged(p Path, l Listener) (bool, error) {
	var forged handshake.Device
	var err error
	if l == ListenSeed {
		priv, _, kerr := seed.GenerateKey(seed.P256, nil)
		if kerr != nil {
			return false, kerr
		}
		forged, err = seed.NewDevice(seed.DeviceConfig{DeviceID: r.victim.ID, Curve: seed.P256, Private: priv})
	} else {
		forged, err = psk.NewDevice(psk.DeviceConfig{DeviceID: r.victim.ID, Key: random(psk.KeyLen)})
	}
	if err != nil {
		return false, err
	}
	ctx, cancel := r.stepCtx(r.failTimeout())
	defer cancel()
	mark := r.m.Target.Mark()
	c, err := p.Dial(ctx, l)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if sess, err := forged.Handshake(ctx, asConn(c)); err == nil {
		// psk sends one message and waits for nothing: push a CONNECT.
		writePacket(sess, connectPacket(r.victim.ID, "", ""))
		drain(ctx, sess)
	}
	note := "a " + string(l) + " message 1 naming the device, on the " + string(l) + " listener"
	if r.serverRefusal(mark, l, note) == "" {
		r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactAccepted, Field: "message 1", Value: r.victim.ID, Note: note})
		return true, nil
	}
	return false, nil
}

// downgradeTLS connects to the tls listener and sends a CONNECT as the
// device, with no password.
func (r *cellRun) downgradeTLS(p Path) (bool, error) {
	ctx, cancel := r.stepCtx(r.failTimeout())
	defer cancel()
	c, err := p.Dial(ctx, ListenTLS)
	if err != nil {
		return false, err
	}
	defer c.Close()
	tc := tls.Client(asConn(c), &tls.Config{InsecureSkipVerify: true, ServerName: r.m.Material.ServerName, MinVersion: tls.VersionTLS13})
	if err := tc.HandshakeContext(ctx); err != nil {
		return false, fmt.Errorf("the attacker's TLS: %w", err)
	}
	cl := newClient(tc, handshake.TLS)
	code, err := cl.Connect(ctx, r.victim.ID, r.victim.ID, "")
	if err != nil {
		return false, fmt.Errorf("the attacker's CONNECT: %w", err)
	}
	if code == 0 {
		r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactAccepted, Field: "CONNECT", Value: r.victim.ID, Note: "on the tls listener without a password"})
		return true, nil
	}
	r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactRefused, Stage: string(handshake.StageTransport), Reason: string(handshake.ReasonConnackRefused),
		Field: "connack", Value: "return code " + strconv.Itoa(int(code)), Note: "a CONNECT as the device on the tls listener"})
	return false, nil
}

// pinnedDevice is a device whose pinned noise keys a scenario can read: a
// simulated one. A board's pins are not readable over the board protocol.
type pinnedDevice interface {
	Device
	Pins() *noise.Pins
}

// runServerKeyRollover: the server announces its next key, then promotes
// it, while the attacker alters the announcement and, later, impersonates
// the server with the retired key. Where the device's pins are readable
// they are checked after steps 1 and 2; on a board, steps 3 and 4 show
// what it pinned (a board that did not pin the announced key accepts the
// retired one, or fails after the promotion).
func runServerKeyRollover(r *cellRun) (reports.Outcome, error) {
	set, target := r.m.Material, r.m.Target
	defer target.SetNoiseKeys(noise.ServerKeys{Current: set.NoiseCurrent})
	target.SetNoiseKeys(noise.ServerKeys{Current: set.NoiseCurrent, Next: set.NoiseNext})
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	pinned, readable := dev.(pinnedDevice)

	// 1. The attacker flips a bit of the announced next key (message 2's
	// payload is 1B version | 32B current | 32B next, encrypted after e).
	at := noise.KeyLen + 1 + noise.KeyLen + 7
	dc, relay, err := r.relayed(dev, ListenNoise, alterAt(position{Downstream, 0, at}), r.failTimeout())
	closeAll(dc, relay)
	if err == nil {
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "altered announcement"})
		return reports.Succeeded, nil
	}
	if err := r.deviceRefused(err, "message 2 with an altered key announcement"); err != nil {
		return reports.Broken, err
	}
	if readable {
		if keys := pinned.Pins().Keys(); keys.Next != nil || !bytes.Equal(keys.Current, set.NoiseCurrent.Public) {
			r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "pinned keys", Note: "changed by a refused message"})
			return reports.Succeeded, nil
		}
		r.note("the device's pins are unchanged: the current key only")
	}

	// 2. Honestly relayed, the announcement reaches the device.
	dc, relay, err = r.relayed(dev, ListenNoise, nil, r.stepTimeout())
	closeAll(dc, relay)
	if err != nil {
		return reports.Broken, fmt.Errorf("the honest handshake during the announcement: %w", err)
	}
	if readable {
		if !bytes.Equal(pinned.Pins().Keys().Next, set.NoiseNext.Public) {
			return reports.Broken, errors.New("the device did not pin the announced key")
		}
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactWorked, Field: "pinned the announced next key through an authenticated message 2"})
	} else {
		r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactWorked, Field: "completed the handshake that announces the next key",
			Note: "its pins are not readable over the board protocol: steps 3 and 4 show them"})
	}

	// 3. The server promotes the next key; the attacker holds the retired one.
	target.SetNoiseKeys(noise.ServerKeys{Current: set.NoiseNext})
	ok, err := r.noiseImpersonate(dev, noise.NewKeyRing(noise.ServerKeys{Current: set.NoiseCurrent}),
		"the attacker holds the retired server key")
	if err != nil {
		return reports.Broken, err
	}
	if ok {
		return reports.Succeeded, nil
	}

	// 4. The device keeps working with the promoted key.
	dc, relay, err = r.relayed(dev, ListenNoise, nil, r.stepTimeout())
	defer closeAll(dc, relay)
	if err != nil {
		return reports.Broken, fmt.Errorf("the device after the promotion: %w", err)
	}
	if _, code, err := r.connect(dev, dc, r.stepTimeout()); err != nil || code != 0 {
		return reports.Broken, fmt.Errorf("the device after the promotion: connect (code %d): %w", code, err)
	}
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactWorked, Field: "connected after the promotion"})
	return reports.Rejected, nil
}

// runLeakedDeviceKey records two sessions, then the device's key leaks and
// the attacker decrypts what it can.
func runLeakedDeviceKey(r *cellRun) (reports.Outcome, error) {
	var sessions []recorded
	for range 2 {
		s, err := r.record(false)
		if err != nil {
			return reports.Broken, err
		}
		sessions = append(sessions, s)
	}
	if r.col.Profile == handshake.Noise {
		return r.noiseForwardSecrecy(sessions[0])
	}
	opened := 0
	for i, s := range sessions {
		conn := newScriptConn(wires(s.appUnits(Upstream, s.sent))...)
		var sess net.Conn
		var err error
		if r.col.Profile == handshake.Seed {
			// shared = x(d·E): E is the recorded message 2.
			down := s.rec.Units(Downstream)
			if len(down) == 0 {
				return reports.Broken, errors.New("no message 2 recorded")
			}
			shared, serr := seed.ECDH(seed.Curve(r.victim.Curve), r.victim.Private, down[0].Body())
			if serr != nil {
				return reports.Broken, serr
			}
			sess, err = seed.NewSession(conn, shared, r.victim.ID, seed.ServerSide)
		} else {
			sess, err = pskServerSession(conn, r.victim.Private, r.victim.ID)
		}
		if err != nil {
			return reports.Broken, err
		}
		if r.readRecorded(sess, fmt.Sprintf("recorded session %d", i+1)) {
			opened++
		}
	}
	return outcome(opened > 0), nil
}

// readRecorded reads the MQTT packets of a decrypted recording.
func (r *cellRun) readRecorded(sess net.Conn, note string) bool {
	br := bufio.NewReader(sess)
	read := false
	for {
		pk, _, err := ReadPacket(br, r.col.Profile)
		if err != nil {
			if !read {
				r.refused(reports.SideAttacker, err, note)
			}
			return read
		}
		switch pk.FixedHeader.Type {
		case packets.Connect:
			r.read("connect.client_id", pk.Connect.ClientIdentifier, note)
			read = true
		case packets.Publish:
			r.read("publish.payload", string(pk.Payload), note+", on "+pk.TopicName)
			read = true
		}
	}
}

// noiseForwardSecrecy tries to open a recorded noise session with the
// leaked device key, then with the server's static key as well.
func (r *cellRun) noiseForwardSecrecy(s recorded) (reports.Outcome, error) {
	set := r.m.Material
	up, down := s.rec.Units(Upstream), s.rec.Units(Downstream)
	if len(up) < 2 || len(down) < 2 {
		return reports.Broken, errors.New("the recording is too short")
	}
	msg1, msg2 := up[0].Body(), down[0].Body()

	// With the device's key alone: run the device's side again. Its
	// ephemeral key is gone, so the attacker's message 1 differs from the
	// recorded one, and the recorded message 2 does not open.
	ini, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Pattern: fnoise.HandshakeIK,
		Initiator: true, Prologue: noise.Prologue, StaticKeypair: r.victim.keypair(), PeerStatic: set.NoiseCurrent.Public})
	if err != nil {
		return reports.Broken, err
	}
	if _, _, _, err := ini.WriteMessage(nil, make([]byte, noise.CounterLen)); err != nil {
		return reports.Broken, err
	}
	if _, _, _, err := ini.ReadMessage(nil, msg2); err == nil {
		r.read("message 2", "opened with the device key", "")
		return reports.Succeeded, nil
	}
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactRefused, Stage: string(handshake.StageMsg2), Reason: string(handshake.ReasonDecrypt),
		Note: "with the leaked device key: the recorded message 2 does not open without the device's ephemeral key"})

	// With the server's static key too: message 1 opens (destination
	// property 2), the transport does not (property 5: it needs ee).
	resp, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Pattern: fnoise.HandshakeIK,
		Prologue: noise.Prologue, StaticKeypair: set.NoiseCurrent})
	if err != nil {
		return reports.Broken, err
	}
	payload, _, _, err := resp.ReadMessage(nil, msg1)
	if err != nil || len(payload) != noise.CounterLen {
		return reports.Broken, fmt.Errorf("message 1 does not open with the server's key: %v", err)
	}
	r.read("message1.counter", strconv.FormatUint(binary.BigEndian.Uint64(payload), 10),
		"message 1 opens with the server's static key: its payload has no forward secrecy")
	_, cs1, cs2, err := resp.WriteMessage(nil, noise.AppendAnnouncement(nil, noise.Announcement{Current: set.NoiseCurrent.Public}))
	if err != nil {
		return reports.Broken, err
	}
	tried, opened := 0, 0
	try := func(cs *fnoise.CipherState, units []Capture) {
		for i, c := range units {
			cs.SetNonce(uint64(i))
			tried++
			if _, err := cs.Decrypt(nil, nil, c.Body()); err == nil {
				opened++
			}
		}
	}
	try(cs1, up[1:])
	try(cs2, down[1:])
	if opened > 0 {
		r.read("transport records", strconv.Itoa(opened), "opened with both static keys")
		return reports.Succeeded, nil
	}
	r.add(reports.Fact{Side: reports.SideAttacker, Kind: reports.FactRefused, Stage: string(handshake.StageTransport), Reason: string(handshake.ReasonDecrypt), Count: tried,
		Note: fmt.Sprintf("with the device and server static keys: none of %d recorded transport records opens", tried)})
	return reports.Rejected, nil
}
