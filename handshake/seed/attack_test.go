package seed_test

import (
	"context"
	"math/big"
	"net"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/seed"
	"shakedown/handshake/seed/weierstrass"
)

// impersonate plays the server to dev with msg2 as its point and returns the
// device's handshake error and, on success, the device's first record frame
// (carrying plaintext).
func impersonate(dev *seed.Device, msg2, plaintext []byte) (record []byte, devErr error) {
	devRaw, mitm := net.Pipe()
	defer mitm.Close()
	ctx, cancel := testCtx()
	defer cancel()
	type result struct {
		conn net.Conn
		err  error
	}
	res := make(chan result, 1)
	go func() {
		conn, err := dev.Handshake(ctx, devRaw)
		if err != nil {
			devRaw.Close()
		}
		res <- result{conn, err}
	}()
	_, err := handshake.ReadFrame(mitm, nil, handshake.MaxFrameLen)
	Expect(err).NotTo(HaveOccurred())
	Expect(handshake.WriteFrame(mitm, msg2)).To(Succeed())
	r := <-res
	if r.err != nil {
		return nil, r.err
	}
	defer r.conn.Close()
	go r.conn.Write(plaintext)
	record, err = handshake.ReadFrame(mitm, nil, handshake.MaxFrameLen)
	Expect(err).NotTo(HaveOccurred())
	return frame(record), nil
}

// openAs tries to open a device record with the keys of a guessed secret.
func openAs(shared, record []byte, n int) ([]byte, error) {
	sess, err := seed.NewSession(newScriptConn(record), shared, testID, seed.ServerSide)
	Expect(err).NotTo(HaveOccurred())
	buf := make([]byte, n)
	_, err = sess.Read(buf)
	return buf, err
}

// keyOfParity returns a device key of the wanted parity.
func keyOfParity(c seed.Curve, odd bool) []byte {
	for i := 0; ; i++ {
		priv, _, err := seed.GenerateKey(c, newFixedRand(string(rune('a'+i))))
		Expect(err).NotTo(HaveOccurred())
		if priv[len(priv)-1]&1 == 1 == odd {
			return priv
		}
	}
}

var _ = Describe("invalid-curve attack", func() {
	for _, c := range seed.Curves {
		It("uses an order-2 point that is off the curve ("+string(c)+")", func() {
			w, err := c.Params()
			Expect(err).NotTo(HaveOccurred())
			p, err := w.UnmarshalLoose(seed.InvalidCurvePoint(c))
			Expect(err).NotTo(HaveOccurred())
			Expect(w.IsOnCurve(p)).To(BeFalse())
			// b' = -(x0³ + a·x0): P is on the twisted-in curve and doubles to O.
			bp := new(big.Int).Exp(p.X, big.NewInt(3), w.P)
			bp.Add(bp, new(big.Int).Mul(w.A, p.X)).Neg(bp).Mod(bp, w.P)
			other := *w
			other.B = bp
			Expect(other.IsOnCurve(p)).To(BeTrue())
			Expect(other.Double(p).IsInfinity()).To(BeTrue())
		})

		DescribeTable("a correct device refuses the attack points with bad_point ("+string(c)+")",
			func(point func(seed.Curve) []byte) {
				f := newFixture(c, "correct")
				_, err := impersonate(f.dev, point(c), nil)
				expectSeedError(err, handshake.StageMsg2, handshake.ReasonBadPoint)
			},
			Entry("order-2 point (x0, 0)", seed.InvalidCurvePoint),
			Entry("identity 0x00", func(seed.Curve) []byte { return seed.IdentityPoint() }),
			Entry("0x04 || zeros, the (0, 0) of naive code", func(c seed.Curve) []byte {
				p := make([]byte, c.PointLen())
				p[0] = weierstrass.TagUncompressed
				return p
			}),
			Entry("all-zero encoding", func(c seed.Curve) []byte { return make([]byte, c.PointLen()) }),
			Entry("x = p", func(c seed.Curve) []byte {
				w, _ := c.Params()
				p := w.Marshal(w.Generator())
				w.P.FillBytes(p[1 : 1+w.FieldLen()])
				return p
			}),
			Entry("G + p on the x-coordinate (same point mod p)", func(c seed.Curve) []byte {
				w, _ := c.Params()
				x := new(big.Int).Add(w.Gx, w.P)
				if x.BitLen() > 8*w.FieldLen() {
					return seed.InvalidCurvePoint(c) // does not fit: any off-curve point
				}
				p := w.Marshal(w.Generator())
				x.FillBytes(p[1 : 1+w.FieldLen()])
				return p
			}),
			Entry("G with y flipped in its last bit", func(c seed.Curve) []byte {
				w, _ := c.Params()
				p := w.Marshal(w.Generator())
				p[len(p)-1] ^= 1
				return p
			}),
		)

		for _, odd := range []bool{true, false} {
			parity := map[bool]string{true: "odd", false: "even"}[odd]
			It("lets the attacker predict a SkipPointCheck device's secret and learn an "+parity+" key's parity ("+string(c)+")", func() {
				priv := keyOfParity(c, odd)
				dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: priv, SkipPointCheck: true})
				Expect(err).NotTo(HaveOccurred())
				record, err := impersonate(dev, seed.InvalidCurvePoint(c), []byte("secret telemetry"))
				Expect(err).NotTo(HaveOccurred(), "the vulnerable device accepts the order-2 point")

				oddSecret, evenSecret := seed.InvalidCurveSecrets(c)
				want, other := evenSecret, oddSecret
				if odd {
					want, other = oddSecret, evenSecret
				}
				Expect(seed.UncheckedECDH(c, priv, seed.InvalidCurvePoint(c))).To(Equal(want))
				got, err := openAs(want, record, len("secret telemetry"))
				Expect(err).NotTo(HaveOccurred())
				Expect(string(got)).To(Equal("secret telemetry"))
				_, err = openAs(other, record, len("secret telemetry"))
				Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonDecrypt))
			})
		}

		It("lets the attacker read a SkipPointCheck device sent the identity ("+string(c)+")", func() {
			priv := keyOfParity(c, true)
			dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: priv, SkipPointCheck: true})
			Expect(err).NotTo(HaveOccurred())
			record, err := impersonate(dev, seed.IdentityPoint(), []byte("hello"))
			Expect(err).NotTo(HaveOccurred())
			got, err := openAs(make([]byte, c.SharedLen()), record, 5)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(got)).To(Equal("hello"))
		})
	}

	It("still connects a SkipPointCheck device to the real server", func() {
		f := newFixture(seed.Secp160r1, "skip")
		dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: seed.Secp160r1, Private: f.priv, SkipPointCheck: true})
		Expect(err).NotTo(HaveOccurred())
		devRaw, srvRaw := net.Pipe()
		r := handshakePair(context.Background(), dev, f.srv, devRaw, srvRaw)
		Expect(r.devErr).NotTo(HaveOccurred())
		Expect(r.srvErr).NotTo(HaveOccurred())
		defer r.devConn.Close()
		defer r.srvConn.Close()
		up, _, errUp, errDown := exchange(r.devConn, r.srvConn, []byte("x"), []byte("y"))
		Expect(errUp).NotTo(HaveOccurred())
		Expect(errDown).NotTo(HaveOccurred())
		Expect(up).To(Equal([]byte("x")))
	})
})

var _ = Describe("replay of msg2", func() {
	for _, c := range seed.Curves {
		It("makes the device accept old server records and reuse its keys and nonces ("+string(c)+")", func() {
			f := newFixture(c, "replay")
			// A recorded session: msg2, one record each way.
			a, b := net.Pipe()
			devRaw, srvRaw := &recordingConn{Conn: a}, &recordingConn{Conn: b}
			r := handshakePair(context.Background(), f.dev, f.srv, devRaw, srvRaw)
			Expect(r.devErr).NotTo(HaveOccurred())
			Expect(r.srvErr).NotTo(HaveOccurred())
			_, _, errUp, errDown := exchange(r.devConn, r.srvConn, []byte("reading=1"), []byte("cmd: open valve"))
			Expect(errUp).NotTo(HaveOccurred())
			Expect(errDown).NotTo(HaveOccurred())
			r.devConn.Close()
			r.srvConn.Close()
			oldMsg2 := srvRaw.log()[0][handshake.FrameHeaderLen:]
			oldCommand := srvRaw.log()[1]
			oldReading := devRaw.log()[1][handshake.FrameHeaderLen:]

			// The attacker, without any key, replays msg2 and the command.
			dev2Raw, mitm := net.Pipe()
			defer mitm.Close()
			res := make(chan net.Conn, 1)
			go func() {
				defer GinkgoRecover()
				conn, err := f.dev.Handshake(context.Background(), dev2Raw)
				Expect(err).NotTo(HaveOccurred())
				res <- conn
			}()
			_, err := handshake.ReadFrame(mitm, nil, handshake.MaxFrameLen)
			Expect(err).NotTo(HaveOccurred())
			Expect(handshake.WriteFrame(mitm, oldMsg2)).To(Succeed())
			var conn net.Conn
			Eventually(res).Should(Receive(&conn))
			defer conn.Close()
			go mitm.Write(oldCommand)
			got := make([]byte, len("cmd: open valve"))
			_, err = conn.Read(got)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(got)).To(Equal("cmd: open valve"), "the device obeys a replayed command")

			go conn.Write([]byte("reading=2"))
			newReading, err := handshake.ReadFrame(mitm, nil, handshake.MaxFrameLen)
			Expect(err).NotTo(HaveOccurred())
			// Same key, same nonce: the ciphertexts XOR to the plaintexts' XOR.
			n := len("reading=1")
			x := make([]byte, n)
			for i := range n {
				x[i] = oldReading[i] ^ newReading[i]
			}
			want := make([]byte, n)
			for i := range n {
				want[i] = "reading=1"[i] ^ "reading=2"[i]
			}
			Expect(x).To(Equal(want))
		})
	}
})
