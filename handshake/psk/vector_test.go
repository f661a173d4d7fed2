package psk_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/psk"
)

// vector is testdata/vectors.txt: "name = value" lines, values in hex
// except device_id.
type vector map[string]string

func loadVector(path string) vector {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	v := vector{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, val, ok := strings.Cut(line, " = ")
		Expect(ok).To(BeTrue(), "bad vector line %q", line)
		v[k] = val
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return v
}

func (v vector) hex(name string) []byte {
	s, ok := v[name]
	ExpectWithOffset(1, ok).To(BeTrue(), "vector has no %s", name)
	b, err := hex.DecodeString(s)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return b
}

var _ = Describe("the example exchange in testdata/vectors.txt", func() {
	var v vector
	BeforeEach(func() { v = loadVector("testdata/vectors.txt") })

	It("has the key schedule of the package", func() {
		id := v["device_id"]
		Expect([]byte(psk.Info(id))).To(Equal(v.hex("info")))
		ds, sd, err := psk.DeriveKeys(v.hex("psk"), id)
		Expect(err).NotTo(HaveOccurred())
		Expect(ds).To(Equal(v.hex("k_ds")))
		Expect(sd).To(Equal(v.hex("k_sd")))
		Expect(append(ds, sd...)).To(Equal(v.hex("okm")))
	})

	It("is what the device sends", func() {
		dev := mustDevice(v["device_id"], v.hex("psk"))
		wire := session(dev, string(v.hex("ds0_plain")), string(v.hex("ds1_plain")))
		want := append(append(v.hex("msg1"), v.hex("ds0")...), v.hex("ds1")...)
		Expect(wire).To(Equal(want))
	})

	It("is what the server reads and answers", func() {
		id := v["device_id"]
		dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.PSK, Key: v.hex("psk")})
		in := append(append(v.hex("msg1"), v.hex("ds0")...), v.hex("ds1")...)
		mc := newMemConn(in)
		conn, ident, err := mustServer(dir).Handshake(context.Background(), mc)
		Expect(err).NotTo(HaveOccurred())
		Expect(ident.DeviceID).To(Equal(id))
		for _, name := range []string{"ds0_plain", "ds1_plain"} {
			want := v.hex(name)
			got := make([]byte, len(want))
			_, err := io.ReadFull(conn, got)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		}
		_, err = conn.Write(v.hex("sd0_plain"))
		Expect(err).NotTo(HaveOccurred())
		Expect(mc.out.Bytes()).To(Equal(v.hex("sd0")))
	})
})
