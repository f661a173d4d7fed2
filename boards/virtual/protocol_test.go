package virtual_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.bug.st/serial"

	"shakedown/boards"
	"shakedown/boards/virtual"
	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

// line speaks raw frames to a virtual board through go.bug.st/serial, to
// check the agent's side of the protocol frame by frame.
type line struct {
	port   serial.Port
	frames chan bp.Frame
	wg     sync.WaitGroup
}

func openLine(vb *virtual.Board) *line {
	port, err := serial.Open(vb.Path(), &serial.Mode{BaudRate: 115200})
	Expect(err).NotTo(HaveOccurred())
	l := &line{port: port, frames: make(chan bp.Frame, 64)}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		var dec bp.Decoder
		buf := make([]byte, 512)
		for {
			n, err := port.Read(buf)
			for _, it := range dec.Feed(buf[:n]) {
				if it.Frame != nil {
					l.frames <- *it.Frame
				}
			}
			if err != nil {
				return
			}
		}
	}()
	DeferCleanup(func() {
		port.Close()
		l.wg.Wait()
	})
	return l
}

func (l *line) send(f bp.Frame) {
	w, err := bp.AppendFrame(nil, f)
	Expect(err).NotTo(HaveOccurred())
	_, err = l.port.Write(w)
	Expect(err).NotTo(HaveOccurred())
}

func (l *line) next() bp.Frame {
	var f bp.Frame
	Eventually(l.frames).Should(Receive(&f)) // the suite's 30 s
	return f
}

// call sends a command and returns the status and body of its response.
func (l *line) call(t bp.Type, seq byte, payload []byte) (bp.Status, []byte) {
	l.send(bp.Frame{Type: t, Seq: seq, Payload: payload})
	for {
		f := l.next()
		if f.Type.IsEvent() {
			continue
		}
		Expect(f.Type).To(Equal(t.Response()))
		Expect(f.Seq).To(Equal(seq))
		st, body, err := bp.SplitResponse(f.Payload)
		Expect(err).NotTo(HaveOccurred())
		return st, body
	}
}

func start(cfg virtual.Config) (*virtual.Board, *line) {
	vb, err := virtual.Start(cfg)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(vb.Close)
	l := openLine(vb)
	boot := l.next()
	Expect(boot.Type).To(Equal(bp.EvtBoot))
	Expect(boot.Seq).To(BeZero())
	return vb, l
}

var _ = Describe("the virtual board's side of the protocol", func() {
	It("boots with BOOT seq 0, power-on", func() {
		_, l := start(virtual.Config{})
		st, body := l.call(bp.CmdHello, 0, bp.HelloRequest{MinVersion: 1, MaxVersion: 1}.Append(nil))
		Expect(st).To(Equal(bp.StatusOK))
		h, err := bp.ParseHello(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(h.BootCount).To(BeEquivalentTo(1))
	})

	DescribeTable("refuses what it cannot do with the documented status",
		func(t bp.Type, payload []byte, want bp.Status) {
			_, l := start(virtual.Config{})
			st, _ := l.call(t, 5, payload)
			Expect(st).To(Equal(want))
		},
		Entry("an unknown command", bp.Type(0x3F), nil, bp.StatusUnknownCommand),
		Entry("INFO with a payload", bp.CmdInfo, []byte{1}, bp.StatusBadLength),
		Entry("HELLO for versions 2-3 only", bp.CmdHello, []byte{2, 3}, bp.StatusUnsupportedVersion),
		Entry("PROVISION without a profile", bp.CmdProvision, []byte{bp.TagDeviceID, 1, 'x'}, bp.StatusBadValue),
		Entry("HANDSHAKE unprovisioned", bp.CmdHandshake, []byte{1, 1, 0, 0}, bp.StatusNotProvisioned),
		Entry("RELAY_DATA without a relay", bp.CmdRelayData, []byte{1, 2, 3}, bp.StatusNoSession),
		Entry("SEND without a session", bp.CmdSend, []byte("hi"), bp.StatusNoSession),
		Entry("CLOSE without a session", bp.CmdClose, nil, bp.StatusNoSession),
		Entry("RELAY_CLOSE without a relay is fine", bp.CmdRelayClose, []byte{0}, bp.StatusOK),
		Entry("BENCH of too large a message", bp.CmdBench, bp.BenchRequest{Op: bp.BenchSHA256, Size: 60000, Iterations: 1}.Append(nil), bp.StatusTooLarge),
	)

	It("answers a frame of another version with UNSUPPORTED_VERSION in version 1", func() {
		_, l := start(virtual.Config{})
		l.send(bp.Frame{Version: 2, Type: bp.CmdHello, Seq: 9, Payload: []byte{2, 2}})
		f := l.next()
		Expect(f.Version).To(BeEquivalentTo(1))
		Expect(f.Type).To(Equal(bp.CmdHello.Response()))
		Expect(f.Payload).To(Equal([]byte{byte(bp.StatusUnsupportedVersion)}))
	})

	It("names the refused provisioning field", func() {
		_, l := start(virtual.Config{})
		st, body := l.call(bp.CmdProvision, 1, []byte{bp.TagProfile, 1, 1, bp.TagDeviceKey, 2, 1, 2})
		Expect(st).To(Equal(bp.StatusBadValue))
		Expect(body).To(Equal([]byte{bp.TagDeviceKey}))
	})

	It("does not run a retransmitted mutation twice, and re-runs a query", func() {
		vb, l := start(virtual.Config{})
		reset := []byte{0}
		st, _ := l.call(bp.CmdProvision, 7, []byte{bp.TagProfile, 1, byte(bp.ProfilePSK), bp.TagDeviceID, 2, 'a', 'b',
			bp.TagDeviceKey, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32})
		Expect(st).To(Equal(bp.StatusOK))
		// Same type and seq: answered from memory with the remembered status
		// and a zero tag, even though this payload would be refused.
		st, body := l.call(bp.CmdProvision, 7, []byte{0x55, 0})
		Expect(st).To(Equal(bp.StatusOK))
		Expect(body).To(Equal([]byte{0}))
		// A query with a repeated seq runs again.
		st1, b1 := l.call(bp.CmdReadLog, 8, []byte{0, 0, 0, 0})
		st2, b2 := l.call(bp.CmdReadLog, 8, []byte{0, 0, 0, 0})
		Expect(st1).To(Equal(bp.StatusOK))
		Expect(st2).To(Equal(bp.StatusOK))
		Expect(b2).To(Equal(b1))
		// RESET: the response, then BOOT seq 0; afterwards no command is remembered.
		st, _ = l.call(bp.CmdReset, 9, reset)
		Expect(st).To(Equal(bp.StatusOK))
		boot := l.next()
		Expect(boot.Type).To(Equal(bp.EvtBoot))
		Expect(boot.Seq).To(BeZero())
		Expect(vb.BootCount()).To(BeEquivalentTo(2))
		st, _ = l.call(bp.CmdReset, 9, reset)
		Expect(st).To(Equal(bp.StatusOK))
		Expect(l.next().Type).To(Equal(bp.EvtBoot))
	})

	It("survives noise on its input and counts it", func() {
		_, l := start(virtual.Config{})
		// Text, a block that runs past its chunk, a body too short for a header.
		_, err := l.port.Write([]byte("\x00garbage\x00\x05\x01\x02\x03\x00\x03\x01\x02\x01\x01\x00\x00"))
		Expect(err).NotTo(HaveOccurred())
		st, body := l.call(bp.CmdReadCounters, 1, nil)
		Expect(st).To(Equal(bp.StatusOK))
		cs, err := bp.ParseCounters(body)
		Expect(err).NotTo(HaveOccurred())
		bad, _ := cs.Get(bp.CounterBadFrames)
		Expect(bad).To(BeEquivalentTo(3))
	})

	It("presents itself as the board of a profile", func() {
		p, err := boards.Lookup("uno")
		Expect(err).NotTo(HaveOccurred())
		cfg := virtual.FromProfile(p, "UNO-VIRTUAL", true)
		Expect(cfg.Costs).To(HaveKeyWithValue("x25519", 870*time.Millisecond))
		_, l := start(cfg)
		st, body := l.call(bp.CmdInfo, 1, nil)
		Expect(st).To(Equal(bp.StatusOK))
		in, err := bp.ParseInfo(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(in.Chip).To(Equal("ATmega328P"))
		Expect(in.MaxPayload).To(BeEquivalentTo(128))
		Expect(in.Caps & bp.CapNetwork).To(BeZero())
		Expect(in.Profiles).To(ConsistOf(handshake.Noise, handshake.Seed, handshake.PSK))
	})
})
