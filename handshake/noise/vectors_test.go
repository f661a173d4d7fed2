package noise_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"sync"

	fnoise "github.com/flynn/noise"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/curve25519"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/handshake/noise/vectors"
)

func pub(priv []byte) []byte {
	p, err := curve25519.X25519(priv, curve25519.Basepoint)
	Expect(err).NotTo(HaveOccurred())
	return p
}

var _ = Describe("test vectors (testdata/vectors.json, cacophony format)", func() {
	file, err := vectors.Load("testdata/vectors.json")
	if err != nil {
		panic(err)
	}

	It("holds one vector per pattern", func() {
		var names []string
		for _, v := range file.Vectors {
			names = append(names, v.ProtocolName)
		}
		Expect(names).To(Equal([]string{"Noise_IK_25519_ChaChaPoly_SHA256", "Noise_XK_25519_ChaChaPoly_SHA256", "Noise_KK_25519_ChaChaPoly_SHA256"}))
	})

	for _, v := range file.Vectors {
		v := v
		pattern := noise.Pattern(v.ProtocolName[len("Noise_") : len("Noise_")+2])
		hsLen := 2
		if pattern == noise.XK {
			hsLen = 3
		}

		It(v.ProtocolName+": our device and server put exactly the vector's bytes on the wire", func() {
			dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: v.DeviceID, Profile: handshake.Noise, Key: pub(v.InitStatic)})
			ring := noise.NewKeyRing(noise.ServerKeys{
				Current: fnoise.DHKey{Private: v.RespStatic, Public: pub(v.RespStatic)},
				Next:    fnoise.DHKey{Public: v.NextServerStatic},
			})
			srv, err := noise.NewServer(noise.ServerConfig{Pattern: pattern, Keys: ring, Directory: dir, Counters: dir, Random: bytes.NewReader(v.RespEphemeral)})
			Expect(err).NotTo(HaveOccurred())
			pins, err := noise.NewPins(v.InitRemoteStatic)
			Expect(err).NotTo(HaveOccurred())
			dev, err := noise.NewDevice(noise.DeviceConfig{Pattern: pattern, DeviceID: v.DeviceID,
				Static: fnoise.DHKey{Private: v.InitStatic, Public: pub(v.InitStatic)}, Pins: pins,
				Counter: noise.NewMemCounter(v.Counter - 1), Random: bytes.NewReader(v.InitEphemeral)})
			Expect(err).NotTo(HaveOccurred())

			a, b := net.Pipe()
			var sent, recv []byte
			mu := new(sync.Mutex)
			d, s := run(dev, srv, recordConn{Conn: a, mu: mu, sent: &sent, recv: &recv}, b)
			defer closeAll(d, s)
			Expect(d.err).NotTo(HaveOccurred())
			Expect(s.err).NotTo(HaveOccurred())
			Expect(s.id.Counter).To(Equal(v.Counter))

			// The transport messages continue the alternation.
			for i, m := range v.Messages[hsLen:] {
				if (hsLen+i)%2 == 0 {
					exchange(d.conn, s.conn, m.Payload)
				} else {
					exchange(s.conn, d.conn, m.Payload)
				}
			}
			var wantSent, wantRecv []byte
			if pattern == noise.KK {
				wantSent = handshake.AppendFrame(wantSent, noise.AppendHello(nil, v.DeviceID))
			}
			for i, m := range v.Messages {
				if i%2 == 0 {
					wantSent = handshake.AppendFrame(wantSent, m.Ciphertext)
				} else {
					wantRecv = handshake.AppendFrame(wantRecv, m.Ciphertext)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			Expect(sent).To(Equal(wantSent))
			Expect(recv).To(Equal(wantRecv))
			Expect(pins.Keys().Next).To(Equal([]byte(v.NextServerStatic)))
		})

		It(v.ProtocolName+": is reproduced by flynn/noise on its own (independent check)", func() {
			hp := map[noise.Pattern]fnoise.HandshakePattern{noise.IK: fnoise.HandshakeIK, noise.XK: fnoise.HandshakeXK, noise.KK: fnoise.HandshakeKK}[pattern]
			resp, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Random: bytes.NewReader(v.RespEphemeral),
				Pattern: hp, Prologue: v.RespPrologue, StaticKeypair: fnoise.DHKey{Private: v.RespStatic, Public: pub(v.RespStatic)},
				PeerStatic: v.RespRemoteStatic})
			Expect(err).NotTo(HaveOccurred())
			init, err := fnoise.NewHandshakeState(fnoise.Config{CipherSuite: noise.CipherSuite, Random: bytes.NewReader(v.InitEphemeral),
				Pattern: hp, Initiator: true, Prologue: v.InitPrologue,
				StaticKeypair: fnoise.DHKey{Private: v.InitStatic, Public: pub(v.InitStatic)}, PeerStatic: v.InitRemoteStatic})
			Expect(err).NotTo(HaveOccurred())
			var send [2]*fnoise.CipherState // [initiator, responder]
			for i, m := range v.Messages {
				if i < hsLen {
					w, r := init, resp
					if i%2 == 1 {
						w, r = resp, init
					}
					ct, c1, c2, err := w.WriteMessage(nil, m.Payload)
					Expect(err).NotTo(HaveOccurred())
					Expect(ct).To(Equal([]byte(m.Ciphertext)), "message %d", i)
					pl, _, _, err := r.ReadMessage(nil, ct)
					Expect(err).NotTo(HaveOccurred())
					Expect(pl).To(Equal([]byte(m.Payload)))
					if c1 != nil {
						send = [2]*fnoise.CipherState{c1, c2}
					}
					continue
				}
				ct, err := send[i%2].Encrypt(nil, nil, m.Payload)
				Expect(err).NotTo(HaveOccurred())
				Expect(ct).To(Equal([]byte(m.Ciphertext)), "message %d", i)
			}
			Expect(init.ChannelBinding()).To(Equal([]byte(v.HandshakeHash)))
			Expect(resp.ChannelBinding()).To(Equal([]byte(v.HandshakeHash)))
		})
	}

	It("writes its 64-bit values as decimal strings: the file holds no JSON number", func() {
		raw, err := readFile("testdata/vectors.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(handshaketest.JSONNumbers(raw)).To(BeEmpty())
		var fields struct {
			Vectors []map[string]any `json:"vectors"`
		}
		Expect(json.Unmarshal(raw, &fields)).To(Succeed())
		for _, v := range fields.Vectors {
			// 0x0102030405060708 is above 2^53: as a JSON number it would
			// read as 72623859790382850 in JavaScript.
			Expect(v["shakedown_counter"]).To(Equal("72623859790382856"))
		}
		// The check finds the counter of the file's old form.
		Expect(handshaketest.JSONNumbers([]byte(`{"vectors":[{"shakedown_counter":72623859790382856,"messages":[]}]}`))).
			To(Equal([]string{"vectors[0].shakedown_counter"}))
	})

	It("is what the generator writes today", func() {
		// Regenerating must not change the checked-in file (go generate ./handshake/noise).
		got, err := io.ReadAll(mustRun("go", "run", "./vectorgen"))
		Expect(err).NotTo(HaveOccurred())
		want, err := readFile("testdata/vectors.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(string(want)))
	})
})
