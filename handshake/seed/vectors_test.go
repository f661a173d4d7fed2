package seed_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/seed"
)

// go test ./handshake/seed -run TestSeed -args -update rewrites the vector file.
var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

const vectorFile = "testdata/vectors.json"

type hexBytes []byte

func (h hexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }
func (h *hexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	*h = v
	return err
}

type vectorRecord struct {
	From string `json:"from"` // "device" or "server"
	// Counter is the record's 64-bit nonce counter, a decimal string in
	// the file (docs/protocol.md, "Test vectors").
	Counter   uint64   `json:"counter,string"`
	Plaintext string   `json:"plaintext"`
	Frame     hexBytes `json:"frame"`
}

type vector struct {
	Curve                  seed.Curve     `json:"curve"`
	DeviceID               string         `json:"device_id"`
	DevicePrivate          hexBytes       `json:"device_private"`
	DevicePublic           hexBytes       `json:"device_public"`
	ServerEphemeralPrivate hexBytes       `json:"server_ephemeral_private"`
	Msg1Frame              hexBytes       `json:"msg1_frame"`
	Msg2Frame              hexBytes       `json:"msg2_frame"`
	Shared                 hexBytes       `json:"shared"`
	KeyDeviceToServer      hexBytes       `json:"key_device_to_server"`
	KeyServerToDevice      hexBytes       `json:"key_server_to_device"`
	Records                []vectorRecord `json:"records"`
}

type vectorFileT struct {
	Comment string   `json:"comment"`
	Vectors []vector `json:"vectors"`
}

var vectorRecords = []vectorRecord{
	{From: "device", Counter: 0, Plaintext: "temperature=21.5"},
	{From: "server", Counter: 0, Plaintext: "ack"},
	{From: "device", Counter: 1, Plaintext: "temperature=21.6"},
}

// runVector runs a real handshake and records from fixed keys and returns
// what went over the wire.
func runVector(c seed.Curve, devPriv, ephPriv []byte) vector {
	devPub, err := seed.PublicKey(c, devPriv)
	Expect(err).NotTo(HaveOccurred())
	dev, err := seed.NewDevice(seed.DeviceConfig{DeviceID: testID, Curve: c, Private: devPriv})
	Expect(err).NotTo(HaveOccurred())
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: testID, Profile: handshake.Seed, Curve: string(c), Key: devPub})
	srv, err := seed.NewServer(seed.ServerConfig{Directory: dir, Random: bytes.NewReader(ephPriv)})
	Expect(err).NotTo(HaveOccurred())
	a, b := net.Pipe()
	devRaw, srvRaw := &recordingConn{Conn: a}, &recordingConn{Conn: b}
	r := handshakePair(context.Background(), dev, srv, devRaw, srvRaw)
	Expect(r.devErr).NotTo(HaveOccurred())
	Expect(r.srvErr).NotTo(HaveOccurred())
	defer r.devConn.Close()
	defer r.srvConn.Close()
	v := vector{Curve: c, DeviceID: testID, DevicePrivate: devPriv, DevicePublic: devPub, ServerEphemeralPrivate: ephPriv}
	v.Msg1Frame, v.Msg2Frame = devRaw.log()[0], srvRaw.log()[0]
	for _, rec := range vectorRecords {
		from, to, log := r.devConn, r.srvConn, devRaw
		if rec.From == "server" {
			from, to, log = r.srvConn, r.devConn, srvRaw
		}
		got, _, errUp, _ := exchangeOne(from, to, []byte(rec.Plaintext))
		Expect(errUp).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(rec.Plaintext))
		l := log.log()
		rec.Frame = l[len(l)-1]
		v.Records = append(v.Records, rec)
	}
	v.Shared, err = seed.ECDH(c, devPriv, v.Msg2Frame[handshake.FrameHeaderLen:])
	Expect(err).NotTo(HaveOccurred())
	v.KeyDeviceToServer, v.KeyServerToDevice, err = seed.DeriveKeys(v.Shared, testID)
	Expect(err).NotTo(HaveOccurred())
	return v
}

// exchangeOne sends msg from one side and reads it on the other.
func exchangeOne(from, to net.Conn, msg []byte) ([]byte, int, error, error) {
	werr := make(chan error, 1)
	go func() {
		_, err := from.Write(msg)
		werr <- err
	}()
	buf := make([]byte, len(msg))
	n, err := to.Read(buf)
	return buf[:n], n, err, <-werr
}

func generateVectors() vectorFileT {
	f := vectorFileT{Comment: "seed profile example exchanges: frames as on the wire (2-byte big-endian length first). " +
		"Regenerate with: go test ./handshake/seed -run TestSeed -args -update"}
	for _, c := range []seed.Curve{seed.Secp160r1, seed.P256} {
		devPriv, _, err := seed.GenerateKey(c, newFixedRand("vector device "+string(c)))
		Expect(err).NotTo(HaveOccurred())
		ephPriv, _, err := seed.GenerateKey(c, newFixedRand("vector server "+string(c)))
		Expect(err).NotTo(HaveOccurred())
		f.Vectors = append(f.Vectors, runVector(c, devPriv, ephPriv))
	}
	return f
}

// hkdfSHA256 is RFC 5869 §2.2-2.3 written out, independent of crypto/hkdf.
func hkdfSHA256(ikm, salt, info []byte, l int) []byte {
	if salt == nil {
		salt = make([]byte, sha256.Size)
	}
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	var okm, t []byte
	for i := byte(1); len(okm) < l; i++ {
		exp := hmac.New(sha256.New, prk)
		exp.Write(t)
		exp.Write(info)
		exp.Write([]byte{i})
		t = exp.Sum(nil)
		okm = append(okm, t...)
	}
	return okm[:l]
}

var _ = Describe("test vectors", func() {
	It("reproduces "+vectorFile+" and checks it independently", func() {
		if *update {
			out, err := json.MarshalIndent(generateVectors(), "", "  ")
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(vectorFile, append(out, '\n'), 0o644)).To(Succeed())
		}
		raw, err := os.ReadFile(vectorFile)
		Expect(err).NotTo(HaveOccurred())
		// 64-bit values are decimal strings: the file holds no JSON number.
		Expect(handshaketest.JSONNumbers(raw)).To(BeEmpty())
		var file vectorFileT
		Expect(json.Unmarshal(raw, &file)).To(Succeed())
		Expect(file.Vectors).To(HaveLen(2))
		for _, want := range file.Vectors {
			got := runVector(want.Curve, want.DevicePrivate, want.ServerEphemeralPrivate)
			Expect(got).To(Equal(want), "curve %s", want.Curve)

			// Independent checks of the layout the doc describes.
			c := want.Curve
			Expect([]byte(want.Msg1Frame)).To(Equal(append([]byte{0, byte(3 + len(testID)), 0x01, map[seed.Curve]byte{seed.P256: 1, seed.Secp160r1: 2}[c], byte(len(testID))}, testID...)))
			Expect(want.Msg2Frame).To(HaveLen(handshake.FrameHeaderLen + c.PointLen()))
			Expect(int(binary.BigEndian.Uint16(want.Msg2Frame))).To(Equal(c.PointLen()))
			ephPub, err := seed.PublicKey(c, want.ServerEphemeralPrivate)
			Expect(err).NotTo(HaveOccurred())
			Expect([]byte(want.Msg2Frame[handshake.FrameHeaderLen:])).To(Equal(ephPub))
			Expect(seed.ECDH(c, want.ServerEphemeralPrivate, want.DevicePublic)).To(Equal([]byte(want.Shared)))
			okm := hkdfSHA256(want.Shared, nil, append([]byte("shakedown seed v1\x00"), testID...), 32)
			Expect(okm[:16]).To(Equal([]byte(want.KeyDeviceToServer)))
			Expect(okm[16:]).To(Equal([]byte(want.KeyServerToDevice)))
			for _, rec := range want.Records {
				key := want.KeyDeviceToServer
				if rec.From == "server" {
					key = want.KeyServerToDevice
				}
				block, err := aes.NewCipher(key)
				Expect(err).NotTo(HaveOccurred())
				gcm, err := cipher.NewGCM(block)
				Expect(err).NotTo(HaveOccurred())
				nonce := binary.BigEndian.AppendUint64(make([]byte, 4), rec.Counter)
				Expect(int(binary.BigEndian.Uint16(rec.Frame))).To(Equal(len(rec.Frame) - 2))
				plain, err := gcm.Open(nil, nonce, rec.Frame[2:], nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(string(plain)).To(Equal(rec.Plaintext))
			}
		}
	})
})
