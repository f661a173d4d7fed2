package boardproto_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	bp "shakedown/harness/boardproto"
)

type vector struct {
	name                string
	typ                 bp.Type
	seq                 byte
	payload, body, wire []byte
}

func loadVectors(path string) []vector {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	var vs []vector
	var v *vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		Expect(ok).To(BeTrue(), line)
		hexOf := func() []byte {
			if val == "-" {
				return nil
			}
			return unhex(val)
		}
		switch key {
		case "name":
			vs = append(vs, vector{name: val})
			v = &vs[len(vs)-1]
		case "type":
			t, err := strconv.ParseUint(val, 16, 8)
			Expect(err).NotTo(HaveOccurred())
			v.typ = bp.Type(t)
		case "seq":
			s, err := strconv.Atoi(val)
			Expect(err).NotTo(HaveOccurred())
			v.seq = byte(s)
		case "payload":
			v.payload = hexOf()
		case "body":
			v.body = hexOf()
		case "wire":
			v.wire = hexOf()
		}
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return vs
}

// What each worked example means, in this package's types. A vector whose
// payload is not listed here fails the suite: every example is checked.
var meanings = map[string]func(p []byte){
	"hello-command": func(p []byte) {
		Expect(bp.ParseHelloRequest(p)).To(Equal(bp.HelloRequest{MinVersion: 1, MaxVersion: 1}))
	},
	"hello-response": func(p []byte) {
		Expect(bp.ParseHello(ok(p))).To(Equal(bp.Hello{Version: 1, MaxPayload: 128, State: bp.StateIdle, BootCount: 3}))
	},
	"info-command": empty,
	"info-response": func(p []byte) {
		Expect(bp.ParseInfo(ok(p))).To(Equal(infoExample))
	},
	"provision-command": func(p []byte) {
		got, tag, err := bp.ParseProvision(p, bp.Provision{})
		Expect(err).NotTo(HaveOccurred())
		Expect(tag).To(BeZero())
		Expect(got).To(Equal(bp.Provision{Profile: handshake.Noise, DeviceID: "uno-0001",
			DeviceKey: run(1, 32), ServerKey: run(0x41, 32), Counter: u64p(0)}))
		payloads, err := got.Payloads(255)
		Expect(err).NotTo(HaveOccurred())
		Expect(payloads).To(Equal([][]byte{p}))
	},
	"provision-response": func(p []byte) { Expect(p).To(Equal([]byte{byte(bp.StatusOK), 0})) },
	"provision-refused": func(p []byte) {
		Expect(p).To(Equal([]byte{byte(bp.StatusBadValue), bp.TagDeviceKey}))
	},
	"bench-command": func(p []byte) {
		Expect(bp.ParseBenchRequest(p)).To(Equal(bp.BenchRequest{Op: bp.BenchScalarMult, Param: byte(bp.CurveX25519), Iterations: 4}))
	},
	"bench-response": func(p []byte) {
		Expect(bp.ParseBenchResult(ok(p))).To(Equal(bp.BenchResult{Unit: bp.UnitCycles, Iterations: 4,
			Total: 4*13_900_000 + 120, Min: 13_900_000, Max: 13_900_120}))
	},
	"handshake-relay-command": func(p []byte) {
		Expect(bp.ParseHandshakeRequest(p)).To(Equal(bp.HandshakeRequest{Mode: bp.ModeRelay, Profile: handshake.Noise, Timeout: 5 * time.Second}))
	},
	"handshake-network-command": func(p []byte) {
		Expect(bp.ParseHandshakeRequest(p)).To(Equal(bp.HandshakeRequest{Mode: bp.ModeNetwork, Profile: handshake.Noise,
			Timeout: 5 * time.Second, Host: "gw.example.net", Port: 8885}))
	},
	"handshake-response":  status(bp.StatusOK),
	"handshake-busy":      status(bp.StatusBusy),
	"relay-credit-event":  func(p []byte) { Expect(bp.ParseCredit(p)).To(Equal(bp.Credit(128))) },
	"relay-data-event":    func(p []byte) { Expect(p).To(HaveLen(8)) },
	"relay-data-command":  func(p []byte) { Expect(p).To(HaveLen(8)) },
	"relay-data-response": status(bp.StatusOK),
	"handshake-done-event": func(p []byte) {
		Expect(bp.ParseHandshakeDone(p)).To(Equal(bp.HandshakeDone{Profile: handshake.Noise, Unit: bp.UnitCycles,
			Counter: 42, Total: 31_250_000, Crypto: 27_800_000, Sent: 106, Received: 115}))
	},
	"handshake-failed-event": func(p []byte) {
		Expect(bp.ParseHandshakeDone(p)).To(Equal(bp.HandshakeDone{Reason: handshake.ReasonDecrypt, Stage: handshake.StageMsg2,
			Profile: handshake.Noise, Unit: bp.UnitCycles, Counter: 43, Total: 16_100_000, Crypto: 13_900_000, Sent: 106, Received: 115}))
	},
	"send-command":          func(p []byte) { Expect(string(p)).To(Equal("ping")) },
	"send-response":         status(bp.StatusOK),
	"message-event":         func(p []byte) { Expect(string(p)).To(Equal("pong")) },
	"read-counters-command": empty,
	"read-counters-response": func(p []byte) {
		Expect(bp.ParseCounters(ok(p))).To(Equal(bp.Counters{{ID: bp.CounterBoots, Value: 4},
			{ID: bp.CounterHandshakesOK, Value: 1}, {ID: bp.CounterMessageCounter, Value: 42}}))
	},
	"read-log-command": func(p []byte) { Expect(bp.ParseLogRequest(p)).To(Equal(bp.LogRequest(0))) },
	"read-log-response": func(p []byte) {
		Expect(bp.ParseLog(ok(p))).To(Equal(bp.Log{First: 0, Next: 8, Text: []byte("boot ok\n")}))
	},
	"close-command":        empty,
	"close-response":       status(bp.StatusOK),
	"closed-event":         func(p []byte) { Expect(bp.ParseReason(p)).To(Equal(handshake.Reason(""))) },
	"relay-close-command":  func(p []byte) { Expect(bp.ParseReason(p)).To(Equal(handshake.ReasonIO)) },
	"relay-close-response": status(bp.StatusOK),
	"reset-command":        func(p []byte) { Expect(bp.ParseResetKind(p)).To(Equal(bp.ResetReboot)) },
	"reset-response":       status(bp.StatusOK),
	"boot-event": func(p []byte) {
		Expect(bp.ParseBoot(p)).To(Equal(bp.Boot{Reason: bp.BootSoft, Version: 1, MaxPayload: 128, BootCount: 4}))
	},
	"unknown-command-response":     status(bp.StatusUnknownCommand),
	"unsupported-version-response": status(bp.StatusUnsupportedVersion),
	"long-run":                     func(p []byte) { Expect(p).To(Equal(run(1, 255))) },
}

func empty(p []byte) { Expect(p).To(BeEmpty()) }

func status(want bp.Status) func(p []byte) {
	return func(p []byte) { Expect(p).To(Equal([]byte{byte(want)})) }
}

func ok(p []byte) []byte {
	st, body, err := bp.SplitResponse(p)
	Expect(err).NotTo(HaveOccurred())
	Expect(st).To(Equal(bp.StatusOK))
	return body
}

var _ = Describe("worked examples (testdata/frames.txt)", func() {
	vs := loadVectors("testdata/frames.txt")

	It("has a meaning for every example and an example for every frame kind", func() {
		kinds := map[bp.Type]bool{}
		for _, v := range vs {
			Expect(meanings).To(HaveKey(v.name))
			kinds[v.typ] = true
		}
		for _, t := range []bp.Type{bp.CmdHello, bp.CmdInfo, bp.CmdProvision, bp.CmdBench, bp.CmdHandshake,
			bp.CmdRelayData, bp.CmdRelayClose, bp.CmdSend, bp.CmdReadCounters, bp.CmdReadLog, bp.CmdReset, bp.CmdClose} {
			Expect(kinds).To(HaveKey(t), t.String())
			Expect(kinds).To(HaveKey(t.Response()), t.Response().String())
		}
		for _, t := range []bp.Type{bp.EvtBoot, bp.EvtRelayData, bp.EvtRelayCredit, bp.EvtClosed, bp.EvtHandshakeDone, bp.EvtMessage} {
			Expect(kinds).To(HaveKey(t), t.String())
		}
	})

	for _, v := range vs {
		It("decodes and re-encodes "+v.name, func() {
			var d bp.Decoder
			items := d.Feed(v.wire)
			Expect(items).To(HaveLen(1))
			f := items[0].Frame
			Expect(f).NotTo(BeNil())
			Expect(f.Type).To(Equal(v.typ))
			Expect(f.Seq).To(Equal(v.seq))
			Expect([]byte(f.Payload)).To(Equal(orEmpty(v.payload)))

			body, err := bp.AppendBody(nil, bp.Frame{Type: v.typ, Seq: v.seq, Payload: v.payload})
			Expect(err).NotTo(HaveOccurred())
			Expect(body).To(Equal(v.body))
			w, err := bp.AppendFrame(nil, bp.Frame{Type: v.typ, Seq: v.seq, Payload: v.payload})
			Expect(err).NotTo(HaveOccurred())
			Expect(w).To(Equal(v.wire))
			meanings[v.name](v.payload)
		})
	}
})

func orEmpty(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

var _ = Describe("docs/board-protocol.md", func() {
	It("shows only bytes that are checked-in vectors, and shows every frame kind", func() {
		doc, err := os.ReadFile("../../docs/board-protocol.md")
		Expect(err).NotTo(HaveOccurred())
		byWire := map[string]vector{}
		for _, v := range loadVectors("testdata/frames.txt") {
			byWire[string(v.wire)] = v
		}
		kinds := map[bp.Type]bool{}
		shown := 0
		for _, line := range strings.Split(string(doc), "\n") {
			rest, ok := strings.CutPrefix(line, "wire:")
			if !ok {
				continue
			}
			v, ok := byWire[string(unhex(strings.TrimSpace(rest)))]
			Expect(ok).To(BeTrue(), "the document shows wire bytes that are no vector: %s", line)
			kinds[v.typ] = true
			shown++
		}
		Expect(shown).To(BeNumerically(">=", 30))
		Expect(len(kinds)).To(BeNumerically(">=", 30))
	})
})
