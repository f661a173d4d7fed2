package psk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/psk"
)

// pipePair returns the two ends of a synchronous in-memory connection.
func pipePair() (dconn, sconn net.Conn, cleanup func()) {
	d, s := net.Pipe()
	return d, s, func() {}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair() (dconn, sconn net.Conn, cleanup func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	Expect(err).NotTo(HaveOccurred())
	s, ok := <-accepted
	Expect(ok).To(BeTrue())
	return d, s, func() { ln.Close() }
}

// exchange writes a line each way and checks both arrive.
func exchange(d, s net.Conn) {
	done := make(chan error, 1)
	go func() {
		_, err := io.WriteString(d, deviceLine)
		done <- err
	}()
	got := make([]byte, len(deviceLine))
	_, err := io.ReadFull(s, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(deviceLine))
	Expect(<-done).To(Succeed())

	go func() {
		_, err := io.WriteString(s, serverLine)
		done <- err
	}()
	got = make([]byte, len(serverLine))
	_, err = io.ReadFull(d, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(serverLine))
	Expect(<-done).To(Succeed())
}

// expectFailure checks err is a *handshake.Error of the psk profile with
// the given stage and reason.
func expectFailure(err error, st handshake.Stage, r handshake.Reason) {
	var he *handshake.Error
	ExpectWithOffset(1, errors.As(err, &he)).To(BeTrue(), "want *handshake.Error, got %v", err)
	ExpectWithOffset(1, he.Profile).To(Equal(handshake.PSK))
	ExpectWithOffset(1, he.Stage).To(Equal(st))
	ExpectWithOffset(1, he.Reason).To(Equal(r))
}

var _ = Describe("the psk handshake", func() {
	DescribeTable("carries data both ways after one plaintext message",
		func(pair func() (net.Conn, net.Conn, func())) {
			dconn, sconn, cleanup := pair()
			defer cleanup()
			d, s := run(mustDevice(devID, key(1)), mustServer(newDirectory()), dconn, sconn)
			Expect(d.err).NotTo(HaveOccurred())
			Expect(s.err).NotTo(HaveOccurred())
			defer d.conn.Close()
			defer s.conn.Close()
			Expect(s.id).To(Equal(handshake.Identity{Profile: handshake.PSK, DeviceID: devID}))
			exchange(d.conn, s.conn)
			exchange(d.conn, s.conn)
		},
		Entry("over net.Pipe", pipePair),
		Entry("over TCP", tcpPair),
	)

	It("dials through handshake.Dial", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer ln.Close()
		srv := mustServer(newDirectory())
		type accepted struct {
			conn net.Conn
			id   handshake.Identity
			err  error
		}
		ch := make(chan accepted, 1)
		go func() {
			raw, err := ln.Accept()
			if err != nil {
				ch <- accepted{err: err}
				return
			}
			conn, id, err := srv.Handshake(context.Background(), raw)
			if err != nil {
				raw.Close()
			}
			ch <- accepted{conn, id, err}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), testLimit)
		defer cancel()
		dconn, err := handshake.Dial(ctx, mustDevice(devID, key(1)), "tcp", ln.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer dconn.Close()
		a := <-ch
		Expect(a.err).NotTo(HaveOccurred())
		defer a.conn.Close()
		Expect(a.id.DeviceID).To(Equal(devID))
		exchange(dconn, a.conn)
	})

	It("splits a write larger than a frame into several records", func() {
		dconn, sconn := net.Pipe()
		d, s := run(mustDevice(devID, key(1)), mustServer(newDirectory()), dconn, sconn)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		defer d.conn.Close()
		defer s.conn.Close()
		big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes, three records
		done := make(chan error, 1)
		go func() {
			_, err := d.conn.Write(big)
			done <- err
		}()
		got := make([]byte, len(big))
		_, err := io.ReadFull(s.conn, got)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(big))
		Expect(<-done).To(Succeed())
	})
})

var _ = Describe("server refusals", func() {
	DescribeTable("refuse a device the registry does not allow on psk",
		func(id string, reason handshake.Reason) {
			dconn, sconn := net.Pipe()
			d, s := run(mustDevice(id, key(9)), mustServer(newDirectory()), dconn, sconn)
			// The device cannot tell: psk has no answer from the server.
			Expect(d.err).NotTo(HaveOccurred())
			defer d.conn.Close()
			expectFailure(s.err, handshake.StageLookup, reason)
			Expect(s.err.Error()).NotTo(ContainSubstring(id))
			// The caller closed the server side: the device sees the end on its first read.
			_, err := d.conn.Read(make([]byte, 1))
			Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonIO))
		},
		Entry("an unknown device", absentID, handshake.ReasonUnknownDevice),
		Entry("a revoked device", revokedID, handshake.ReasonRevoked),
		Entry("a device of another profile", noiseID, handshake.ReasonWrongProfile),
	)

	It("lets a device with the wrong key through msg1 and fails its first record", func() {
		dconn, sconn := net.Pipe()
		d, s := run(mustDevice(devID, key(9)), mustServer(newDirectory()), dconn, sconn)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		defer d.conn.Close()
		defer s.conn.Close()
		go io.WriteString(d.conn, deviceLine)
		_, err := s.conn.Read(make([]byte, 64))
		expectFailure(err, handshake.StageTransport, handshake.ReasonDecrypt)
	})

	It("reports a registry failure without repeating its text", func() {
		srv := mustServer(failingDirectory{})
		_, _, err := srv.Handshake(context.Background(), newMemConn(session(mustDevice(devID, key(1)))))
		expectFailure(err, handshake.StageLookup, handshake.ReasonRegistry)
		Expect(err.Error()).NotTo(ContainSubstring(devID))
		Expect(errors.Is(err, errRegistryDown)).To(BeTrue())
	})

	It("refuses a registered key that is not 32 bytes", func() {
		dir := newDirectory()
		dir.Put(handshake.DeviceRecord{ID: devID, Profile: handshake.PSK, Key: key(1)[:16]})
		_, _, err := mustServer(dir).Handshake(context.Background(), newMemConn(session(mustDevice(devID, key(1)))))
		expectFailure(err, handshake.StageLookup, handshake.ReasonRegistry)
	})

	It("times out a device that never sends msg1", func() {
		dconn, sconn := net.Pipe()
		defer dconn.Close()
		defer sconn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), handshakeDeadline)
		defer cancel()
		_, _, err := mustServer(newDirectory()).Handshake(ctx, sconn)
		expectFailure(err, handshake.StageMsg1, handshake.ReasonTimeout)
	})

	It("stops when its context is cancelled", func() {
		dconn, sconn := net.Pipe()
		defer dconn.Close()
		defer sconn.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, _, err := mustServer(newDirectory()).Handshake(ctx, sconn)
			errc <- err
		}()
		cancel()
		var err error
		Eventually(errc).WithTimeout(testLimit).Should(Receive(&err))
		expectFailure(err, handshake.StageMsg1, handshake.ReasonTimeout)
	})
})

var _ = Describe("the design's weakness, as facts", func() {
	It("accepts a recorded session replayed to a new server connection", func() {
		srv := mustServer(newDirectory())
		dconn, sconn := net.Pipe()
		rec := &recorder{Conn: dconn}
		d, s := run(mustDevice(devID, key(1)), srv, rec, sconn)
		Expect(d.err).NotTo(HaveOccurred())
		Expect(s.err).NotTo(HaveOccurred())
		exchange(d.conn, s.conn)
		d.conn.Close()
		s.conn.Close()
		recorded := rec.bytes()

		// The attacker sends the recorded device bytes to a new connection.
		conn, id, err := srv.Handshake(context.Background(), newMemConn(recorded))
		Expect(err).NotTo(HaveOccurred())
		Expect(id.DeviceID).To(Equal(devID))
		got := make([]byte, len(deviceLine))
		_, err = io.ReadFull(conn, got)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(deviceLine), "the recorded device record opens again")
	})

	It("sends the same bytes for the same data in every session", func() {
		dev := mustDevice(devID, key(1))
		Expect(session(dev, deviceLine)).To(Equal(session(dev, deviceLine)))
	})

	It("reuses nonces across sessions: two ciphertexts XOR to the two plaintexts XORed", func() {
		dev := mustDevice(devID, key(1))
		p1 := []byte("temp=21.5C door=closed")
		p2 := []byte("temp=19.0C door=opened")
		c1 := firstRecord(session(dev, string(p1)))
		c2 := firstRecord(session(dev, string(p2)))
		Expect(xor(c1[:len(p1)], c2[:len(p2)])).To(Equal(xor(p1, p2)))
		// So whoever knows one plaintext reads the other (NIST SP 800-38D §8).
		Expect(xor(xor(c1[:len(p1)], c2[:len(p2)]), p1)).To(Equal(p2))
	})
})

var _ = Describe("tampering with msg1", func() {
	// Every bit of the msg1 frame, flipped one at a time, in front of the
	// device's first record: the server must refuse msg1 or fail that record.
	It("fails the session for every single-bit change", func() {
		dev := mustDevice(devID, key(1))
		wire := session(dev, deviceLine)
		msg1Len := handshake.FrameHeaderLen + 2 + len(devID)
		reasons := map[handshake.Reason]int{}
		for i := range msg1Len {
			for bit := range 8 {
				t := bytes.Clone(wire)
				t[i] ^= 1 << bit
				reasons[tamperedOutcome(t)]++
			}
		}
		Expect(reasons).NotTo(HaveKey(handshake.Reason("")), "a tampered session delivered data: %v", reasons)
		// The flip that names psk-0000 passes msg1: only the record shows it.
		Expect(reasons).To(HaveKey(handshake.ReasonDecrypt))
	})

	DescribeTable("shows where each change is caught",
		func(offset int, mask byte, st handshake.Stage, r handshake.Reason) {
			t := session(mustDevice(devID, key(1)), deviceLine)
			t[offset] ^= mask
			conn, _, err := mustServer(newDirectory()).Handshake(context.Background(), newMemConn(t))
			if err == nil {
				_, err = conn.Read(make([]byte, 64))
			}
			expectFailure(err, st, r)
		},
		Entry("length grown past msg1", 1, byte(0x41), handshake.StageMsg1, handshake.ReasonOversizeFrame),
		Entry("length shortened", 1, byte(0x08), handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("version", 2, byte(0x03), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("idlen to zero", 3, byte(0x08), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("idlen past the frame", 3, byte(0x01), handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("an ID byte, naming nobody", 4, byte(0x20), handshake.StageLookup, handshake.ReasonUnknownDevice),
		Entry("an ID byte, naming psk-0000", 11, byte(0x01), handshake.StageTransport, handshake.ReasonDecrypt),
		Entry("an ID byte, out of the alphabet", 5, byte(0x80), handshake.StageMsg1, handshake.ReasonMalformed),
	)
})

var _ = Describe("hostile input", func() {
	DescribeTable("gets a typed error, never a panic",
		func(in []byte, st handshake.Stage, r handshake.Reason) {
			_, _, err := mustServer(newDirectory()).Handshake(context.Background(), newMemConn(in))
			expectFailure(err, st, r)
		},
		Entry("nothing", []byte{}, handshake.StageMsg1, handshake.ReasonIO),
		Entry("half a length", []byte{0x00}, handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("an empty frame", []byte{0x00, 0x00}, handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("a frame one byte over msg1's maximum", frame(make([]byte, 67)), handshake.StageMsg1, handshake.ReasonOversizeFrame),
		Entry("the largest frame", append([]byte{0xff, 0xff}, make([]byte, 16)...), handshake.StageMsg1, handshake.ReasonOversizeFrame),
		Entry("a frame cut short", []byte{0x00, 0x0a, 0x01, 0x08, 'p'}, handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("version only", frame([]byte{0x01}), handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("version 2", frame(append([]byte{0x02, 8}, devID...)), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("idlen 0", frame([]byte{0x01, 0x00}), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("idlen 65", frame(append([]byte{0x01, 65}, strings.Repeat("a", 64)...)), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("idlen past the frame", frame(append([]byte{0x01, 12}, devID...)), handshake.StageMsg1, handshake.ReasonShortFrame),
		Entry("bytes after the ID", frame(append([]byte{0x01, 4}, devID...)), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("a space in the ID", frame(append([]byte{0x01, 9}, "psk 00001"...)), handshake.StageMsg1, handshake.ReasonMalformed),
		Entry("a NUL in the ID", frame([]byte{0x01, 2, 'a', 0}), handshake.StageMsg1, handshake.ReasonMalformed),
	)

	It("never quotes the device ID it received", func() {
		marker := "Zq9-marker-not-registered"
		_, _, err := mustServer(newDirectory()).Handshake(context.Background(), newMemConn(frame(append([]byte{0x01, byte(len(marker))}, marker...))))
		expectFailure(err, handshake.StageLookup, handshake.ReasonUnknownDevice)
		Expect(err.Error()).NotTo(ContainSubstring(marker))
	})

	It("fails a record cut short after the handshake", func() {
		wire := session(mustDevice(devID, key(1)), deviceLine)
		conn, _, err := mustServer(newDirectory()).Handshake(context.Background(), newMemConn(wire[:len(wire)-3]))
		Expect(err).NotTo(HaveOccurred())
		_, err = conn.Read(make([]byte, 64))
		expectFailure(err, handshake.StageTransport, handshake.ReasonShortFrame)
	})
})

var _ = Describe("configuration", func() {
	DescribeTable("NewDevice refuses a bad config",
		func(id string, k []byte) {
			_, err := psk.NewDevice(psk.DeviceConfig{DeviceID: id, Key: k})
			Expect(err).To(HaveOccurred())
		},
		Entry("an empty ID", "", key(1)),
		Entry("a 65-character ID", strings.Repeat("a", 65), key(1)),
		Entry("an ID with a slash", "a/b", key(1)),
		Entry("a 16-byte key", devID, key(1)[:16]),
		Entry("no key", devID, nil),
	)

	It("NewDevice takes a 64-character ID", func() {
		_, err := psk.NewDevice(psk.DeviceConfig{DeviceID: strings.Repeat("a", 64), Key: key(1)})
		Expect(err).NotTo(HaveOccurred())
	})

	It("NewServer needs a directory", func() {
		_, err := psk.NewServer(psk.ServerConfig{})
		Expect(err).To(HaveOccurred())
	})

	It("copies the device key", func() {
		k := key(1)
		dev := mustDevice(devID, k)
		before := session(dev, deviceLine)
		k[0] ^= 0xff
		Expect(session(dev, deviceLine)).To(Equal(before))
	})

	It("names its profile", func() {
		Expect(mustDevice(devID, key(1)).Profile()).To(Equal(handshake.PSK))
		Expect(mustServer(newDirectory()).Profile()).To(Equal(handshake.PSK))
	})
})

// tamperedOutcome runs the server over wire and returns the reason of the
// first failure, or "" when the device's line came through.
func tamperedOutcome(wire []byte) handshake.Reason {
	conn, _, err := mustServer(newDirectory()).Handshake(context.Background(), newMemConn(wire))
	if err != nil {
		return handshake.ReasonOf(err)
	}
	got := make([]byte, len(deviceLine))
	if _, err := io.ReadFull(conn, got); err != nil {
		return handshake.ReasonOf(err)
	}
	return ""
}

// firstRecord returns the sealed body of the first record after msg1.
func firstRecord(wire []byte) []byte {
	msg1Len := handshake.FrameHeaderLen + int(wire[1])
	rec := wire[msg1Len:]
	n := int(rec[0])<<8 | int(rec[1])
	return rec[handshake.FrameHeaderLen : handshake.FrameHeaderLen+n]
}

func xor(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

func frame(msg []byte) []byte { return handshake.AppendFrame(nil, msg) }

var errRegistryDown = errors.New("registry down")

// failingDirectory fails every lookup with an error that quotes the ID.
type failingDirectory struct{}

func (failingDirectory) DeviceByID(_ context.Context, id string) (handshake.DeviceRecord, error) {
	return handshake.DeviceRecord{}, fmt.Errorf("looking up %q: %w", id, errRegistryDown)
}

func (failingDirectory) DeviceByKey(context.Context, handshake.Name, []byte) (handshake.DeviceRecord, error) {
	return handshake.DeviceRecord{}, errRegistryDown
}
