package emulated_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards"
	"shakedown/boards/emulated"
	"shakedown/fixtures"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/suites/measure"
)

// RequireEnv makes a missing emulator or image fail the specs instead of
// skipping them (CI sets it: there every emulator is installed).
const RequireEnv = "SHAKEDOWN_REQUIRE_EMULATORS"

// requireEmulator skips the spec when chip's emulator or image is missing,
// or fails it under SHAKEDOWN_REQUIRE_EMULATORS=1, with Check's reason.
func requireEmulator(chip string) {
	err := emulated.Check(chip)
	if err == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		Fail(err.Error())
	}
	Skip(err.Error())
}

// stepTimeout bounds one step on a board: the slowest is a P-256 scalar
// multiplication on the ATmega328P (300 M simulated cycles, seconds of
// wall time on a busy machine).
const stepTimeout = 3 * time.Minute

func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), stepTimeout)
	DeferCleanup(cancel)
	return c
}

// rig is an emulated board and the harness's link to it.
type rig struct {
	chip    string
	board   *emulated.Board
	profile boards.Profile
	h       *harness.Board
}

// startRig starts chip's emulator with its default image and opens it
// with the options of its board profile, as a CI job opens a real board.
// Both are closed when the current container's specs end.
func startRig(chip string) *rig {
	b, err := emulated.Start(ctx(), emulated.Config{Chip: chip, Log: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(b.Close)
	p, err := boards.Lookup(b.ProfileName())
	Expect(err).NotTo(HaveOccurred())
	opts := p.Options()
	opts.Console = GinkgoWriter
	h, err := harness.Open(ctx(), b.Path(), opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(h.Close)
	return &rig{chip: chip, board: b, profile: p, h: h}
}

func (r *rig) counter(id bp.CounterID) (uint64, bool) {
	cs, err := r.h.Counters(ctx())
	Expect(err).NotTo(HaveOccurred())
	return cs.Get(id)
}

// stackLine is the agent's log line after each handshake: the deepest
// stack use since the handshake started, in bytes below the top.
var stackLine = regexp.MustCompile(`stack (\d+)\n`)

// lastStackPeak reads the log and returns the last handshake's stack peak.
func (r *rig) lastStackPeak() int {
	l, err := r.h.ReadLog(ctx(), 0)
	Expect(err).NotTo(HaveOccurred())
	m := stackLine.FindAllSubmatch(l.Text, -1)
	Expect(m).NotTo(BeEmpty(), "no stack line in the log %q", l.Text)
	n, err := strconv.Atoi(string(m[len(m)-1][1]))
	Expect(err).NotTo(HaveOccurred())
	return n
}

// provision stores d's identity on the board, as a CI job does from a
// fixture set.
func (r *rig) provision(d fixtures.Device) {
	p, err := measure.Provisioning(lab.set, d)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.h.Provision(ctx(), p)).To(Succeed())
}

// handshake runs d's profile on the board in relay mode against the lab,
// through tap when not nil.
func (r *rig) handshake(d fixtures.Device, tap harness.Tap) (*harness.Session, error) {
	return r.h.Handshake(ctx(), harness.HandshakeOptions{Profile: d.Profile, Server: lab.Addr(d.Profile), Tap: tap})
}

// recorder is a Tap that keeps what went each way, after passing each
// chunk through alter when set.
type recorder struct {
	mu    sync.Mutex
	seen  map[harness.Direction]*bytes.Buffer
	alter func(dir harness.Direction, offset int, chunk []byte) []byte
}

func newRecorder() *recorder {
	return &recorder{seen: map[harness.Direction]*bytes.Buffer{harness.BoardToServer: {}, harness.ServerToBoard: {}}}
}

func (rec *recorder) tap() harness.Tap {
	return harness.ChunkTap(func(dir harness.Direction, chunk []byte) []byte {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		offset := rec.seen[dir].Len()
		rec.seen[dir].Write(chunk)
		if rec.alter != nil {
			return rec.alter(dir, offset, chunk)
		}
		return chunk
	})
}

func (rec *recorder) bytes(dir harness.Direction) []byte {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]byte(nil), rec.seen[dir].Bytes()...)
}

// flipAt returns an alter function that flips the low bit of the byte at
// offset at of the server's stream to the board.
func flipAt(at int) func(harness.Direction, int, []byte) []byte {
	return func(dir harness.Direction, offset int, chunk []byte) []byte {
		if dir == harness.ServerToBoard && at >= offset && at < offset+len(chunk) {
			chunk[at-offset] ^= 0x01
		}
		return chunk
	}
}

// ---------------------------------------------------------------- MQTT

const (
	qos         = 1
	mqttTimeout = 60 * time.Second // an ATmega328P seals every packet itself
)

var errSessionUsed = errors.New("emulated: the board's session carried an MQTT connection already")

func wait(tok mqtt.Token) {
	GinkgoHelper()
	Expect(tok.WaitTimeout(mqttTimeout)).To(BeTrue(), "no answer from the broker")
	Expect(tok.Error()).NotTo(HaveOccurred())
}

// deviceClient is a paho client whose connection is the board's session.
type deviceClient struct {
	mqtt.Client
	id   string
	cmds chan string // devices/{id}/cmd
}

// connectOverBoard runs an MQTT client over s as device d and subscribes
// to its command topic.
func connectOverBoard(s *harness.Session, d fixtures.Device) *deviceClient {
	c := &deviceClient{id: d.ID, cmds: make(chan string, 8)}
	var opened atomic.Bool
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + lab.Addr(d.Profile)).SetClientID(d.ID).
		SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).
		SetConnectTimeout(mqttTimeout).SetWriteTimeout(mqttTimeout).SetOrderMatters(false).
		SetProtocolVersion(4).
		// One session, one MQTT connection: paho may not dial again.
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
			if opened.Swap(true) {
				return nil, errSessionUsed
			}
			return s.Conn(), nil
		})
	c.Client = mqtt.NewClient(opts)
	wait(c.Connect())
	DeferCleanup(func() {
		if c.IsConnectionOpen() {
			c.Disconnect(100)
		}
	})
	st := c.Subscribe("devices/"+d.ID+"/cmd", qos, func(_ mqtt.Client, m mqtt.Message) { c.cmds <- string(m.Payload()) })
	wait(st)
	Expect(st.(*mqtt.SubscribeToken).Result()).To(HaveKeyWithValue("devices/"+d.ID+"/cmd", byte(qos)))
	return c
}

// exchange publishes telemetry from the board to the backend and sends a
// command from the backend to the board, both through the lab's broker.
func exchange(c *deviceClient, tag string) {
	GinkgoHelper()
	topic, msg := "devices/"+c.id+"/telemetry", tag+": telemetry from "+c.id
	wait(c.Publish(topic, qos, false, msg))
	Eventually(lab.delivered(topic)).Should(ContainElement(msg))
	cmd := tag + ": command for " + c.id
	Expect(lab.Broker.Publish("devices/"+c.id+"/cmd", []byte(cmd), qos)).To(Succeed())
	Eventually(c.cmds).Should(Receive(Equal(cmd)))
}
