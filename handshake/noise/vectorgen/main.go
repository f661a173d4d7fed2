// Command vectorgen writes the noise profile's test vectors in the
// cacophony JSON format: one vector per pattern (IK, XK, KK), with fixed
// keys and the profile's real payloads (the message-1 counter and the
// message-2 key announcement), followed by two transport messages.
//
// Both the Go tests and the board firmware's host tests check these vectors.
//
//	go run ./handshake/noise/vectorgen -o handshake/noise/testdata/vectors.json
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	fnoise "github.com/flynn/noise"

	"shakedown/handshake/noise"
	"shakedown/handshake/noise/vectors"
)

func main() {
	out := flag.String("o", "", "output file (standard output when empty)")
	flag.Parse()
	var file vectors.File
	for _, p := range []noise.Pattern{noise.IK, noise.XK, noise.KK} {
		v, err := generate(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "vectorgen:", err)
			os.Exit(1)
		}
		file.Vectors = append(file.Vectors, v)
	}
	b, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "vectorgen:", err)
		os.Exit(1)
	}
	b = append(b, '\n')
	if *out == "" {
		os.Stdout.Write(b)
		return
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "vectorgen:", err)
		os.Exit(1)
	}
}

// key derives a fixed 32-byte private key from a label.
func key(label string) []byte {
	h := sha256.Sum256([]byte("shakedown noise test vector " + label))
	return h[:]
}

func keypair(label string) fnoise.DHKey {
	kp, err := fnoise.DH25519.GenerateKeypair(bytes.NewReader(key(label)))
	if err != nil {
		panic(err)
	}
	return kp
}

func generate(p noise.Pattern) (vectors.Vector, error) {
	const deviceID = "noise-0001"
	const counter = 0x0102030405060708
	is, rs := keypair("device static"), keypair("server static current")
	next := keypair("server static next")
	ie, re := key("device ephemeral "+string(p)), key("server ephemeral "+string(p))
	prologue := noise.Prologue
	if p == noise.KK {
		prologue = append(append([]byte(nil), prologue...), deviceID...)
	}
	v := vectors.Vector{
		ProtocolName:     p.ProtocolName(),
		InitPrologue:     prologue,
		InitStatic:       is.Private,
		InitEphemeral:    ie,
		InitRemoteStatic: rs.Public,
		RespPrologue:     prologue,
		RespStatic:       rs.Private,
		RespEphemeral:    re,
		DeviceID:         deviceID,
		Counter:          counter,
		NextServerStatic: next.Public,
	}
	if p == noise.KK {
		v.RespRemoteStatic = is.Public
	}
	hp := map[noise.Pattern]fnoise.HandshakePattern{noise.IK: fnoise.HandshakeIK, noise.XK: fnoise.HandshakeXK, noise.KK: fnoise.HandshakeKK}[p]
	init, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Random: bytes.NewReader(ie), Pattern: hp,
		Initiator: true, Prologue: prologue, StaticKeypair: is, PeerStatic: rs.Public})
	if err != nil {
		return v, err
	}
	resp, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Random: bytes.NewReader(re), Pattern: hp,
		Prologue: prologue, StaticKeypair: rs, PeerStatic: v.RespRemoteStatic})
	if err != nil {
		return v, err
	}
	ctr := noise.AppendCounter(nil, counter)
	ann := noise.AppendAnnouncement(nil, noise.Announcement{Current: rs.Public, Next: next.Public})
	payloads := [][]byte{ctr, ann}
	if p == noise.XK {
		payloads = [][]byte{nil, ann, ctr}
	}
	var iSend, rSend *fnoise.CipherState
	for i, pl := range payloads {
		w, r := init, resp
		if i%2 == 1 {
			w, r = resp, init
		}
		msg, c1, c2, err := w.WriteMessage(nil, pl)
		if err != nil {
			return v, err
		}
		if _, _, _, err := r.ReadMessage(nil, msg); err != nil {
			return v, err
		}
		v.Messages = append(v.Messages, vectors.Message{Payload: pl, Ciphertext: msg})
		if c1 != nil {
			iSend, rSend = c1, c2
		}
	}
	v.HandshakeHash = init.ChannelBinding()
	// Transport messages continue the alternation of the handshake.
	for i, pl := range [][]byte{[]byte("CONNECT noise-0001"), []byte("CONNACK")} {
		cs := iSend
		if (len(payloads)+i)%2 == 1 {
			cs = rSend
		}
		msg, err := cs.Encrypt(nil, nil, pl)
		if err != nil {
			return v, err
		}
		v.Messages = append(v.Messages, vectors.Message{Payload: pl, Ciphertext: msg})
	}
	return v, nil
}
