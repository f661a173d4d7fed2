package suites

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gmeasure"

	"shakedown/handshake"
)

// throughputPayload is the size of each message of the throughput suite:
// small enough that a PUBLISH fits one session message of the smallest
// board (max_payload 128, docs/board-protocol.md).
const throughputPayload = 32

// describeThroughput: MQTT messages through the board's session, each
// acknowledged (QoS 1) and each received by the backend exactly once.
func describeThroughput() {
	Describe("throughput", Label("throughput"), func() {
		BeforeEach(needBoard)
		for _, c := range []column{{handshake.Noise, ""}, {handshake.PSK, ""}} {
			It(c.String()+": every message through the board's session arrives once", func(_ SpecContext) {
				c.need()
				d := c.become(4)
				s, err := cur.b.Handshake(step(), c.handshakeOptions(nil))
				must(err, "the %s handshake", c)
				DeferCleanup(s.Close)
				client := mqttOver(s, d)
				topic := "devices/" + d.ID + "/telemetry"
				n := cur.cfg.Messages
				start := time.Now()
				sent := make([]string, n)
				for i := range n {
					msg := fmt.Sprintf("tp %04d ", i)
					sent[i] = msg + strings.Repeat(".", throughputPayload-len(msg))
					await(client.Publish(topic, 1, false, sent[i]), fmt.Sprintf("PUBLISH %d of %d", i+1, n))
				}
				acked := time.Since(start)
				eventually(func() int { return len(cur.srv.Delivered(topic)) }).Should(BeNumerically(">=", n))
				got := map[string]int{}
				for _, p := range cur.srv.Delivered(topic) {
					got[string(p)]++
				}
				for _, m := range sent {
					Expect(got[m]).To(Equal(1), "message %q arrived %d times", m, got[m])
				}
				exp := gmeasure.NewExperiment("throughput " + c.String() + " on " + cur.b.Label)
				AddReportEntry(exp.Name, exp, ReportEntryVisibilityFailureOrVerbose)
				exp.RecordValue("messages per second (QoS 1, acknowledged)", float64(n)/acked.Seconds(), gmeasure.Units("msg/s"), gmeasure.Precision(1))
				exp.RecordValue("payload bytes per second", float64(n*throughputPayload)/acked.Seconds(), gmeasure.Units("B/s"), gmeasure.Precision(0))
			})
		}
	})
}
