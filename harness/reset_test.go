package harness_test

import (
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.bug.st/serial"

	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/harness/serialtest"
)

// fakeAgent answers HELLO on the board's end of a serialtest.Port, passes
// any other command to its answer function, and sends events when told to.
type fakeAgent struct {
	conn   net.Conn
	answer func(a *fakeAgent, cmd bp.Frame) // nil: HELLO only
	wg     sync.WaitGroup
	wmu    sync.Mutex
	evSeq  byte
}

func startFakeAgent(conn net.Conn, answer func(a *fakeAgent, cmd bp.Frame)) *fakeAgent {
	a := &fakeAgent{conn: conn, answer: answer}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		var dec bp.Decoder
		buf := make([]byte, 256)
		for {
			n, err := conn.Read(buf)
			for _, it := range dec.Feed(buf[:n]) {
				switch {
				case it.Frame == nil:
				case it.Frame.Type == bp.CmdHello:
					h := bp.Hello{Version: 1, MaxPayload: 64}
					a.respond(*it.Frame, h.Append(nil))
				case a.answer != nil:
					a.answer(a, *it.Frame)
				}
			}
			if err != nil {
				return
			}
		}
	}()
	DeferCleanup(func() {
		conn.Close()
		a.wg.Wait()
	})
	return a
}

func (a *fakeAgent) send(f bp.Frame) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	a.write(f)
}

// write puts f on the line; the caller holds wmu.
func (a *fakeAgent) write(f bp.Frame) {
	w, err := bp.AppendFrame(nil, f)
	Expect(err).NotTo(HaveOccurred())
	a.conn.Write(w)
}

func (a *fakeAgent) boot() {
	a.send(bp.Frame{Type: bp.EvtBoot, Payload: bp.Boot{Reason: bp.BootExternal, Version: 1, MaxPayload: 64, BootCount: 2}.Append(nil)})
}

// respond answers cmd with status OK and body.
func (a *fakeAgent) respond(cmd bp.Frame, body []byte) {
	a.send(bp.Frame{Type: cmd.Type.Response(), Seq: cmd.Seq, Payload: bp.AppendResponse(nil, bp.StatusOK, body)})
}

// event sends an event with the agent's next event seq.
func (a *fakeAgent) event(t bp.Type, payload []byte) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	a.write(bp.Frame{Type: t, Seq: a.evSeq, Payload: payload})
	a.evSeq++
}

var _ = Describe("hardware reset through the modem lines", func() {
	DescribeTable("drives DTR and RTS as the profile's method says, then waits for BOOT",
		func(method harness.ResetMethod, want []serialtest.LineChange) {
			port, boardEnd := serialtest.NewPort()
			agent := startFakeAgent(boardEnd, nil)
			opts := testOptions(nil)
			opts.Reset = method
			opts.Opener = func(string, *serial.Mode) (serial.Port, error) { return port, nil }
			b, err := harness.Open(ctx(), "fake", opts)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(b.Close)

			type result struct {
				done bool
				err  error
			}
			res := make(chan result, 1)
			c := ctx()
			go func() {
				done, err := b.HardReset(c)
				res <- result{done, err}
			}()
			Eventually(port.Changes).Should(Equal(want))
			Consistently(res, "50ms").ShouldNot(Receive()) // still waiting for BOOT
			agent.boot()
			Eventually(res).Should(Receive(Equal(result{done: true})))
			boot, _ := b.LastBoot()
			Expect(boot.Reason).To(Equal(bp.BootExternal))
		},
		Entry("dtr (Arduino auto-reset)", harness.ResetDTR,
			[]serialtest.LineChange{{Line: "DTR", Level: false}, {Line: "DTR", Level: true}}),
		Entry("rts", harness.ResetRTS,
			[]serialtest.LineChange{{Line: "RTS", Level: true}, {Line: "RTS", Level: false}}),
		Entry("esp (EN low with IO0 high, then both released)", harness.ResetESP,
			[]serialtest.LineChange{{Line: "DTR", Level: false}, {Line: "RTS", Level: true}, {Line: "DTR", Level: false}, {Line: "RTS", Level: false}}),
	)

	It("opens an ESP board with both lines released", func() {
		var got *serial.Mode
		port, boardEnd := serialtest.NewPort()
		startFakeAgent(boardEnd, nil)
		opts := testOptions(nil)
		opts.Reset = harness.ResetESP
		opts.Opener = func(_ string, m *serial.Mode) (serial.Port, error) { got = m; return port, nil }
		b, err := harness.Open(ctx(), "fake", opts)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		Expect(got.InitialStatusBits).To(Equal(&serial.ModemOutputBits{DTR: false, RTS: false}))
		Expect(got.BaudRate).To(Equal(115200))
	})

	It("treats a port without modem lines as reset not available", func() {
		port, boardEnd := serialtest.NewPort()
		port.NoModemLines = true
		startFakeAgent(boardEnd, nil)
		opts := testOptions(nil)
		opts.Reset = harness.ResetDTR
		opts.Opener = func(string, *serial.Mode) (serial.Port, error) { return port, nil }
		b, err := harness.Open(ctx(), "fake", opts)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		done, err := b.HardReset(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(done).To(BeFalse())
	})
})

var _ = Describe("discovery", func() {
	It("finds a port by serial number and waits for one to appear", func() {
		enum := serialtest.NewEnumerator(harness.PortInfo{Name: "/dev/ttyACM0", IsUSB: true, VID: "2341", PID: "0043", SerialNumber: "A"})
		p, ok, err := harness.FindSerial(enum, "A")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
		Expect(harness.USBID{VID: "2341", PID: "0043"}.Matches(p)).To(BeTrue())
		Expect(harness.USBID{VID: "2341", PID: "0001"}.Matches(p)).To(BeFalse())

		found := make(chan harness.PortInfo, 1)
		c := ctx()
		go func() {
			defer GinkgoRecover()
			p, err := harness.WaitSerial(c, enum, "B", time.Hour) // a long poll: the change notice wakes it
			Expect(err).NotTo(HaveOccurred())
			found <- p
		}()
		Consistently(found, "30ms").ShouldNot(Receive())
		enum.Put(harness.PortInfo{Name: "/dev/ttyACM1", SerialNumber: "B"})
		Eventually(found).Should(Receive(HaveField("Name", "/dev/ttyACM1")))
	})

	It("lists this machine's ports without failing", func() {
		_, err := harness.USBEnumerator{}.Ports()
		Expect(err).NotTo(HaveOccurred())
	})
})
