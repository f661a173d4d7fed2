package suites

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/mitm"
)

// describeReplay: the noise profile's message-1 counter (docs/protocol.md)
// on the board itself: the server refuses a replayed message 1, and the
// counter the board keeps in non-volatile storage survives a reboot, so the
// board never reuses a value.
func describeReplay() {
	noiseCol := column{handshake.Noise, ""}
	Describe("replay", Label("replay"), func() {
		BeforeEach(needBoard)

		It("noise: the server refuses the board's message 1 replayed", func(_ SpecContext) {
			noiseCol.need()
			noiseCol.become(2)
			rec := &recorder{}
			s, err := cur.b.Handshake(step(), noiseCol.handshakeOptions(harness.ChunkTap(rec.tap)))
			must(err, "the recorded handshake")
			must(s.Close(), "closing the session")

			msg1 := rec.firstFrame()
			Expect(msg1).NotTo(BeEmpty(), "no message 1 was recorded")
			mark := cur.srv.Mark()
			addr, err := cur.srv.AddrOf(handshake.Noise)
			must(err, "finding the noise listener")
			conn, err := net.Dial("tcp", addr)
			must(err, "connecting to the noise listener")
			defer conn.Close()
			must(conn.SetDeadline(time.Now().Add(cur.cfg.Timeout)), "setting a deadline")
			_, err = conn.Write(msg1)
			must(err, "replaying message 1")
			n, _ := io.Copy(io.Discard, conn) // the server drops the connection without an answer
			Expect(n).To(BeZero(), "the server answered a replayed message 1")
			eventually(func() []handshake.Reason { return reasons(cur.srv.Events(mark)) }).
				Should(ContainElement(handshake.ReasonCounterReplay))
		})

		It("noise: the counter survives a reboot, and the board never reuses a value", func(_ SpecContext) {
			noiseCol.need()
			noiseCol.become(3)
			s, err := cur.b.Handshake(step(), noiseCol.handshakeOptions(nil))
			must(err, "the handshake before the reboot")
			before := s.Result.Counter
			must(s.Close(), "closing the session")

			_, err = cur.b.Reset(step(), bp.ResetReboot)
			must(err, "rebooting the board")
			s, err = cur.b.Handshake(step(), noiseCol.handshakeOptions(nil))
			must(err, "the first handshake after a reboot")
			after := s.Result.Counter
			must(s.Close(), "closing the session")
			Expect(after).To(BeNumerically(">", before), "message-1 counter after the reboot")
			AddReportEntry("message-1 counter", map[string]uint64{"before reboot": before, "after reboot": after})
		})
	})
}

// recorder keeps what the board sent through a relay.
type recorder struct {
	mu   sync.Mutex
	sent []byte
}

func (r *recorder) tap(dir harness.Direction, chunk []byte) []byte {
	if dir == harness.BoardToServer {
		r.mu.Lock()
		r.sent = append(r.sent, chunk...)
		r.mu.Unlock()
	}
	return chunk
}

// firstFrame returns the first 2-byte-length frame the board sent: the
// handshake's message 1 (docs/protocol.md, framing).
func (r *recorder) firstFrame() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) < 2 {
		return nil
	}
	n := 2 + int(binary.BigEndian.Uint16(r.sent))
	if len(r.sent) < n {
		return nil
	}
	return append([]byte(nil), r.sent[:n]...)
}

func reasons(es []mitm.ServerEvent) []handshake.Reason {
	var out []handshake.Reason
	for _, e := range es {
		out = append(out, e.Reason)
	}
	return out
}
