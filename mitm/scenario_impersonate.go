package mitm

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	fnoise "github.com/flynn/noise"
	"github.com/mochi-mqtt/server/v2/packets"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/reports"
)

func runImpersonateServer(r *cellRun) (reports.Outcome, error) {
	switch r.col.Profile {
	case handshake.Noise:
		kp, err := noise.GenerateKeypair(nil)
		if err != nil {
			return reports.Broken, err
		}
		devOK, err := r.noiseImpersonation(noise.NewKeyRing(noise.ServerKeys{Current: kp}), "the attacker answers with a static key of its own")
		if err != nil {
			return reports.Broken, err
		}
		akp, err := noise.GenerateKeypair(nil)
		if err != nil {
			return reports.Broken, err
		}
		srvOK, err := r.noiseClaim(akp, "the attacker connects to the server with a static key of its own")
		if err != nil {
			return reports.Broken, err
		}
		return outcome(devOK || srvOK), nil
	case handshake.Seed:
		// Without D the attacker can only guess it: any point of its own.
		_, guess, err := seed.GenerateKey(seed.Curve(r.victim.Curve), nil)
		if err != nil {
			return reports.Broken, err
		}
		srv, err := seed.NewServer(seed.ServerConfig{Directory: oneDevice{r.guessRecord(guess)}})
		if err != nil {
			return reports.Broken, err
		}
		return r.framedImpersonation(srv, "the attacker answers with its own ephemeral point, guessing the device's \"public\" key")
	case handshake.PSK:
		srv, err := psk.NewServer(psk.ServerConfig{Directory: oneDevice{r.guessRecord(random(psk.KeyLen))}})
		if err != nil {
			return reports.Broken, err
		}
		return r.framedImpersonation(srv, "the attacker answers with a pre-shared key it guessed")
	default:
		return r.tlsMITM(r.m.Material.Attacker, "the attacker's self-signed certificate")
	}
}

func runLeakedPublicKey(r *cellRun) (reports.Outcome, error) {
	if r.col.Profile == handshake.Noise {
		// The device's public key with a private key that is not its own:
		// the only way to "use" a public key.
		kp := fnoise.DHKey{Private: random(noise.KeyLen), Public: r.victim.Public}
		srvOK, err := r.noiseClaim(kp, "the attacker claims the device's public key as its static key")
		if err != nil {
			return reports.Broken, err
		}
		akp, err := noise.GenerateKeypair(nil)
		if err != nil {
			return reports.Broken, err
		}
		devOK, err := r.noiseImpersonation(noise.NewKeyRing(noise.ServerKeys{Current: akp}), "the attacker, knowing the device's public key, answers with its own static key")
		if err != nil {
			return reports.Broken, err
		}
		return outcome(devOK || srvOK), nil
	}
	srv, err := seed.NewServer(seed.ServerConfig{Directory: oneDevice{r.guessRecord(r.victim.Public)}})
	if err != nil {
		return reports.Broken, err
	}
	return r.framedImpersonation(srv, "the attacker holds the device's \"public\" point D, from a registry dump")
}

func outcome(succeeded bool) reports.Outcome {
	if succeeded {
		return reports.Succeeded
	}
	return reports.Rejected
}

// guessRecord is the victim's registry record with the key the attacker
// holds or guesses.
func (r *cellRun) guessRecord(key []byte) handshake.DeviceRecord {
	return handshake.DeviceRecord{ID: r.victim.ID, Profile: r.col.Profile, Curve: r.victim.Curve, Key: key}
}

// noiseImpersonation plays the server to a noise device with the keys of
// ring (the attacker's responder). When the responder cannot open message
// 1 the attacker sends the device a message 2 of random bytes, its only
// move. It reports whether the device accepted the attacker.
func (r *cellRun) noiseImpersonation(ring *noise.KeyRing, note string) (bool, error) {
	dev, err := r.newDevice()
	if err != nil {
		return false, err
	}
	return r.noiseImpersonate(dev, ring, note)
}

func (r *cellRun) noiseImpersonate(dev Device, ring *noise.KeyRing, note string) (bool, error) {
	ch := r.open(dev, r.failTimeout())
	p, err := r.next()
	if err != nil {
		return false, err
	}
	defer p.Close()
	fake, err := noise.NewServer(noise.ServerConfig{Keys: ring, Directory: oneDevice{r.guessRecord(r.victim.Public)}, Counters: oneDevice{}})
	if err != nil {
		return false, err
	}
	conn := asConn(p.Device())
	ctx, cancel := r.stepCtx(r.failTimeout())
	defer cancel()
	if _, _, err := fake.Handshake(ctx, conn); err != nil {
		r.refused(reports.SideAttacker, err, note+": its responder cannot open message 1")
		// A failed write is no verdict: the device's answer below is. (A
		// board's relay may report its end while the bytes reach the board.)
		handshake.WriteFrame(conn, random(noise.MsgLenIK2))
	}
	dc, err := r.wait(ch)
	if err != nil {
		return false, r.deviceRefused(err, "the attacker's message 2")
	}
	dc.Close()
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "message 2", Note: note})
	return true, nil
}

// noiseClaim connects to the noise listener as a device whose static
// keypair is kp, and reports whether the server accepted it.
func (r *cellRun) noiseClaim(kp fnoise.DHKey, note string) (bool, error) {
	pins, err := noise.NewPins(r.m.Material.NoiseCurrent.Public)
	if err != nil {
		return false, err
	}
	adev, err := noise.NewDevice(noise.DeviceConfig{Static: kp, Pins: pins, Counter: noise.NewMemCounter(uint64(time.Now().UnixNano()))})
	if err != nil {
		return false, err
	}
	ctx, cancel := r.stepCtx(r.failTimeout())
	defer cancel()
	mark := r.m.Target.Mark()
	raw, err := r.dial(ctx, ListenNoise)
	if err != nil {
		return false, err
	}
	defer raw.Close()
	conn, err := adev.Handshake(ctx, raw)
	if err == nil {
		conn.Close()
		r.add(reports.Fact{Side: reports.SideServer, Kind: reports.FactAccepted, Field: "message 1", Note: note})
		return true, nil
	}
	if r.serverRefusal(mark, ListenNoise, note) == "" {
		return false, errors.New("the server neither accepted nor logged a refusal")
	}
	return false, nil
}

// framedImpersonation plays the server to a seed or psk device with srv (a
// real server of the profile holding the attacker's key), answering its
// MQTT session with a fake broker. The attack succeeds when the attacker
// reads the device's CONNECT and the device accepts the attacker's command.
func (r *cellRun) framedImpersonation(srv handshake.Server, note string) (reports.Outcome, error) {
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	ch := r.open(dev, r.stepTimeout())
	p, err := r.next()
	if err != nil {
		return reports.Broken, err
	}
	defer p.Close()
	ctx, cancel := r.stepCtx(r.stepTimeout())
	defer cancel()
	sess, _, err := srv.Handshake(ctx, asConn(p.Device()))
	if err != nil {
		return reports.Broken, fmt.Errorf("the attacker's server side: %w", err)
	}
	dc, err := r.wait(ch)
	if err != nil {
		if err := r.deviceRefused(err, note); err != nil {
			return reports.Broken, err
		}
		return reports.Rejected, nil
	}
	defer dc.Close()
	r.note("%s: both handshakes completed (nothing authenticates the server's message)", note)

	fb := startFakeBroker(sess, r.col.Profile)
	defer func() { sess.Close(); <-fb.done }()
	cl := newClient(dc, r.col.Profile)
	type connected struct {
		code byte
		err  error
	}
	cc := make(chan connected, 1)
	go func() {
		user, pass := dev.Credentials()
		code, err := cl.Connect(ctx, dev.ID(), user, pass)
		cc <- connected{code, err}
	}()
	pk, err := fb.awaitPacket(ctx, packets.Connect)
	if err != nil {
		if fb.err != nil {
			err = fb.err
		}
		r.refused(reports.SideAttacker, err, "the device's first record does not open under the attacker's keys")
		// The attacker answers anyway, under its keys.
		if err := writePacket(sess, packets.Packet{FixedHeader: header(packets.Connack)}); err != nil {
			return reports.Broken, err
		}
		res := <-cc
		if res.err == nil {
			r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "forged CONNACK"})
			return reports.Succeeded, nil
		}
		if err := r.deviceRefused(res.err, "the attacker's CONNACK"); err != nil {
			return reports.Broken, err
		}
		return reports.Rejected, nil
	}
	r.read("connect.client_id", pk.Connect.ClientIdentifier, "the device's CONNECT, decrypted")
	if res := <-cc; res.err != nil || res.code != 0 {
		return reports.Broken, fmt.Errorf("the device's CONNECT to the attacker: code %d: %w", res.code, res.err)
	}
	if _, err := cl.Subscribe(ctx, r.topic("cmd")); err != nil {
		return reports.Broken, fmt.Errorf("subscribing at the attacker: %w", err)
	}
	tele := r.payload("telemetry")
	if err := cl.Publish(ctx, r.topic("telemetry"), tele); err != nil {
		return reports.Broken, fmt.Errorf("publishing to the attacker: %w", err)
	}
	if pub, err := fb.awaitPacket(ctx, packets.Publish); err == nil {
		r.read("publish.payload", string(pub.Payload), "telemetry on "+pub.TopicName)
	}
	cmd := r.payload("attacker's command")
	if err := fb.Publish(r.topic("cmd"), cmd); err != nil {
		return reports.Broken, err
	}
	got, err := cl.Receive(ctx)
	if err != nil {
		r.refused(reports.SideDevice, err, "the attacker's command")
		return reports.Succeeded, nil
	}
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "command", Value: string(got.Payload), Note: "sent by the attacker"})
	return reports.Succeeded, nil
}

func writePacket(conn interface{ Write([]byte) (int, error) }, pk packets.Packet) error {
	wire, err := EncodePacket(pk)
	if err != nil {
		return err
	}
	_, err = conn.Write(wire)
	return err
}

// tlsMITM terminates the device's TLS with cert and, if the device accepts
// it, opens its own TLS to the server and carries the MQTT session,
// reading it.
func (r *cellRun) tlsMITM(cert tls.Certificate, note string) (reports.Outcome, error) {
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	ch := r.open(dev, r.stepTimeout())
	p, early, err := r.pathOrEnd(ch)
	if err != nil {
		return reports.Broken, err
	}
	if early != nil {
		return r.endedEarly(early, note)
	}
	defer p.Close()
	ctx, cancel := r.stepCtx(r.stepTimeout())
	defer cancel()
	atls := tls.Server(asConn(p.Device()), &tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13, SessionTicketsDisabled: true})
	aerr := atls.HandshakeContext(ctx)
	dc, err := r.wait(ch)
	r.deviceClock(dev)
	if err != nil {
		return r.endedEarly(&opened{err: err}, note)
	}
	defer dc.Close()
	if aerr != nil {
		return reports.Broken, fmt.Errorf("the device finished a handshake the attacker did not: %w", aerr)
	}
	r.note("the device accepted %s", note)
	raw, err := p.Server(ctx)
	if err != nil {
		return reports.Broken, err
	}
	stls := tls.Client(asConn(raw), &tls.Config{InsecureSkipVerify: true, ServerName: r.m.Material.ServerName,
		MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13})
	if err := stls.HandshakeContext(ctx); err != nil {
		return reports.Broken, fmt.Errorf("the attacker's TLS to the server: %w", err)
	}
	var mu sync.Mutex
	var seen []packets.Packet
	done := make(chan struct{})
	go func() {
		defer close(done)
		sniff(atls, stls, handshake.TLS, func(pk packets.Packet) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, pk)
		})
	}()
	werr := r.work(dev, dc)
	dc.Close()
	atls.Close()
	stls.Close()
	<-done
	if werr != nil {
		return reports.Broken, fmt.Errorf("the device's session through the attacker: %w", werr)
	}
	mu.Lock()
	defer mu.Unlock()
	read := false
	for _, pk := range seen {
		switch pk.FixedHeader.Type {
		case packets.Connect:
			r.read("connect.client_id", pk.Connect.ClientIdentifier, "")
			r.read("connect.username", string(pk.Connect.Username), "")
			r.read("connect.password", string(pk.Connect.Password), "")
			read = true
		case packets.Publish:
			r.read("publish.payload", string(pk.Payload), "on "+pk.TopicName)
		}
	}
	if !read {
		return reports.Broken, errors.New("the attacker carried the session but read no CONNECT")
	}
	return reports.Succeeded, nil
}

// invalid points of the seed scenario, by name.
type namedPoint struct {
	name  string
	point []byte
}

func seedInvalidPoints(c seed.Curve) ([]namedPoint, error) {
	w, err := c.Params()
	if err != nil {
		return nil, err
	}
	// G with the last bit of y flipped: off the curve, of unknown order.
	g := w.Marshal(w.Generator())
	g[len(g)-1] ^= 1
	return []namedPoint{
		{"identity (0x00)", seed.IdentityPoint()},
		{"order-2 point (1, 0), off the curve", seed.InvalidCurvePoint(c)},
		{"off-curve point (G, y+-1)", g},
	}, nil
}

func runInvalidPoint(r *cellRun) (reports.Outcome, error) {
	if r.col.Profile == handshake.Noise {
		return r.noiseLowOrder()
	}
	c := seed.Curve(r.victim.Curve)
	points, err := seedInvalidPoints(c)
	if err != nil {
		return reports.Broken, err
	}
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	succeeded := false
	for _, np := range points {
		ok, err := r.seedPoint(dev, c, np)
		if err != nil {
			return reports.Broken, fmt.Errorf("%s: %w", np.name, err)
		}
		succeeded = succeeded || ok
	}
	return outcome(succeeded), nil
}

// seedPoint answers the device's msg1 with an invalid point. If the device
// accepts it, the attacker tries the secrets it can predict on the device's
// first record.
func (r *cellRun) seedPoint(dev Device, c seed.Curve, np namedPoint) (bool, error) {
	ch := r.open(dev, r.failTimeout())
	p, err := r.next()
	if err != nil {
		return false, err
	}
	defer p.Close()
	conn := asConn(p.Device())
	msg1, err := handshake.ReadFrame(conn, nil, handshake.MaxFrameLen)
	if err != nil {
		return false, fmt.Errorf("reading message 1: %w", err)
	}
	id, err := PlaintextID(handshake.Seed, msg1)
	if err != nil {
		return false, err
	}
	// A failed write is no verdict: the device's answer below is.
	handshake.WriteFrame(conn, np.point)
	dc, err := r.wait(ch)
	if err != nil {
		return false, r.deviceRefused(err, np.name)
	}
	r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "message 2 point", Value: np.name})
	// The device goes on with its CONNECT; the attacker reads the record.
	done := make(chan struct{})
	defer func() { dc.Close(); <-done }()
	go func() {
		defer close(done)
		cl := newClient(dc, handshake.Seed)
		ctx, cancel := r.stepCtx(r.failTimeout())
		defer cancel()
		cl.Connect(ctx, dev.ID(), "", "")
	}()
	record, err := handshake.ReadFrame(conn, nil, handshake.MaxFrameLen)
	if err != nil {
		return false, fmt.Errorf("reading the device's first record: %w", err)
	}
	odd, even := seed.InvalidCurveSecrets(c)
	guesses := []struct {
		secret []byte
		note   string
	}{
		{odd, "secret x = 1: the device's private key is odd"},
		{even, "all-zero secret: the product was the point at infinity (the identity, or an even key)"},
	}
	for _, g := range guesses {
		sess, err := seed.NewSession(newScriptConn(handshake.AppendFrame(nil, record)), g.secret, id, seed.ServerSide)
		if err != nil {
			return false, err
		}
		pk, _, err := ReadPacket(bufio.NewReader(sess), handshake.Seed)
		if err != nil || pk.FixedHeader.Type != packets.Connect {
			continue
		}
		r.read("connect.client_id", pk.Connect.ClientIdentifier, np.name+"; "+g.note)
		return true, nil
	}
	r.note("%s: none of the secrets the attacker can predict opens the device's record", np.name)
	return false, nil
}

// x25519LowOrder are u-coordinates of low-order points (RFC 7748 §7): 0
// (order 2) and 1 (order 4); a clamped scalar times either is all zeros.
var x25519LowOrder = []namedPoint{
	{"u = 0 (order 2)", make([]byte, noise.KeyLen)},
	{"u = 1 (order 4)", new(big.Int).SetInt64(1).FillBytes(make([]byte, noise.KeyLen))},
}

// noiseLowOrder sends low-order ephemeral keys: in message 2 to the device
// and in message 1 to the server.
func (r *cellRun) noiseLowOrder() (reports.Outcome, error) {
	dev, err := r.newDevice()
	if err != nil {
		return reports.Broken, err
	}
	accepted := false
	for _, lo := range x25519LowOrder {
		// u is little-endian on the wire (RFC 7748 §5): reverse the big-endian encoding.
		u := reverse(lo.point)
		ch := r.open(dev, r.failTimeout())
		p, err := r.next()
		if err != nil {
			return reports.Broken, err
		}
		conn := asConn(p.Device())
		if _, err := handshake.ReadFrame(conn, nil, handshake.MaxFrameLen); err != nil {
			p.Close()
			return reports.Broken, fmt.Errorf("reading message 1: %w", err)
		}
		handshake.WriteFrame(conn, append(u, random(noise.MsgLenIK2-noise.KeyLen)...))
		dc, err := r.wait(ch)
		p.Close()
		if err != nil {
			if err := r.deviceRefused(err, "message 2 with the ephemeral key "+lo.name); err != nil {
				return reports.Broken, err
			}
		} else {
			dc.Close()
			accepted = true
			r.add(reports.Fact{Side: reports.SideDevice, Kind: reports.FactAccepted, Field: "message 2 ephemeral key", Value: lo.name})
		}

		ctx, cancel := r.stepCtx(r.failTimeout())
		mark := r.m.Target.Mark()
		raw, err := r.dial(ctx, ListenNoise)
		if err != nil {
			cancel()
			return reports.Broken, err
		}
		handshake.WriteFrame(raw, append(u, random(noise.MsgLenIK1-noise.KeyLen)...))
		raw.SetReadDeadline(time.Now().Add(r.failTimeout()))
		raw.Read(make([]byte, 1)) // the server answers nothing and closes
		raw.Close()
		cancel()
		if r.serverRefusal(mark, ListenNoise, "message 1 with the ephemeral key "+lo.name) == "" {
			return reports.Broken, errors.New("the server logged no refusal of a low-order message 1")
		}
	}
	return outcome(accepted), nil
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}
