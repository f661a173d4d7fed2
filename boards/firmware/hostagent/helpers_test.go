package hostagent_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/seed"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/server/servertest"
)

// agentProc is one run of the C agent's host port: a process that serves
// the board protocol on a pseudo-terminal.
type agentProc struct {
	cmd      *exec.Cmd
	path     string
	stopOnce sync.Once
}

// startAgent starts the agent on storage file nv and reads the path of its
// pseudo-terminal, the first line it prints.
func startAgent(nv, serial string) *agentProc {
	cmd := exec.Command(agentBin, "-nv", nv, "-serial", serial)
	cmd.Stderr = GinkgoWriter
	out, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	p := &agentProc{cmd: cmd}
	DeferCleanup(p.stop)
	line, err := bufio.NewReader(out).ReadString('\n')
	Expect(err).NotTo(HaveOccurred(), "the agent printed no pseudo-terminal path")
	p.path = strings.TrimSpace(line)
	Expect(p.path).To(HavePrefix("/dev/"))
	return p
}

// stop kills the process, as a power cut would, and reaps it.
func (p *agentProc) stop() {
	p.stopOnce.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
}

var serials atomic.Int64

// rig is the agent process and the harness's link to it.
type rig struct {
	nv     string
	serial string
	proc   *agentProc
	b      *harness.Board
}

func testOptions() harness.Options {
	return harness.Options{
		// Margins for a loaded machine, where the agent process may wait
		// its turn for the CPU: four times the protocol's 250 ms per answer.
		ResponseTimeout:  time.Second,
		BootTimeout:      10 * time.Second,
		HandshakeTimeout: 30 * time.Second,
	}
}

func newRig() *rig {
	r := &rig{nv: filepath.Join(GinkgoT().TempDir(), "agent.nv"),
		serial: fmt.Sprintf("HOST-%04d", serials.Add(1))}
	r.start()
	return r
}

func (r *rig) start() {
	r.proc = startAgent(r.nv, r.serial)
	var err error
	r.b, err = harness.Open(ctx(), r.proc.path, testOptions())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(r.b.Close)
}

// restart kills the agent process and starts a new one on the same
// storage: the same board after a power cycle.
func (r *rig) restart() {
	r.b.Close()
	r.proc.stop()
	r.start()
}

func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	DeferCleanup(cancel)
	return c
}

// Flood makes the test server answer with more than the board can hold in
// one record.
const (
	flood    = "flood"
	floodLen = 400
)

// server is the reference server in process (servertest) for the profile
// of a fixture, in front of an Echo: it answers every application message
// m with "pong:" m, and flood with floodLen bytes in one record.
type server struct {
	*servertest.Server
	*servertest.Echo
	addr string
}

func startServer(f fixture) *server {
	echo := &servertest.Echo{Reply: func(m []byte) []byte {
		if string(m) == flood {
			return bytes.Repeat([]byte{'f'}, floodLen)
		}
		return servertest.Pong(m)
	}}
	f.opts.Sink = echo
	srv, err := servertest.Start(f.opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	return &server{Server: srv, Echo: echo, addr: srv.Addr(f.prov.Profile)}
}

// serving returns the Options of a server of rec's profile that knows rec.
func serving(rec handshake.DeviceRecord) servertest.Options {
	return servertest.Options{Profiles: []handshake.Name{rec.Profile}, Devices: []handshake.DeviceRecord{rec}}
}

// fixture is the identity to provision on the board, and the Options of a
// server of its profile that accepts it.
type fixture struct {
	prov bp.Provision
	opts servertest.Options
}

// noiseFixture registers a new device with a server holding keys.
func noiseFixture(id string, keys noise.ServerKeys) fixture {
	dkp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	o := serving(handshake.DeviceRecord{ID: id, Profile: handshake.Noise, Key: dkp.Public})
	o.NoiseCurrent, o.NoiseNext = keys.Current, keys.Next
	return fixture{opts: o,
		prov: bp.Provision{Profile: handshake.Noise, DeviceID: id, DeviceKey: dkp.Private, ServerKey: keys.Current.Public, Counter: new(uint64)}}
}

func newNoiseFixture(id string) fixture {
	kp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	return noiseFixture(id, noise.ServerKeys{Current: kp})
}

func seedFixture(id string, c seed.Curve, code bp.Curve) fixture {
	priv, pub, err := seed.GenerateKey(c, rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	return fixture{opts: serving(handshake.DeviceRecord{ID: id, Profile: handshake.Seed, Curve: string(c), Key: pub}),
		prov: bp.Provision{Profile: handshake.Seed, DeviceID: id, DeviceKey: priv, Curve: code}}
}

func pskFixture(id string) fixture {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand, Go 1.24)
	return fixture{opts: serving(handshake.DeviceRecord{ID: id, Profile: handshake.PSK, Key: key}),
		prov: bp.Provision{Profile: handshake.PSK, DeviceID: id, DeviceKey: key}}
}

// exchange sends msg through the board's session and expects the echo.
func exchange(s *harness.Session, msg string) {
	Expect(s.Send(ctx(), []byte(msg))).To(Succeed())
	got, err := s.Receive(ctx())
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal("pong:" + msg))
}

// recorder is a Tap that copies both ways and keeps what went each way,
// after passing each chunk through alter (when set).
type recorder struct {
	mu    sync.Mutex
	seen  map[harness.Direction]*bytes.Buffer
	alter func(dir harness.Direction, offset int, chunk []byte) []byte
}

func newRecorder() *recorder {
	return &recorder{seen: map[harness.Direction]*bytes.Buffer{
		harness.BoardToServer: {}, harness.ServerToBoard: {}}}
}

func (r *recorder) tap() harness.Tap {
	return harness.ChunkTap(func(dir harness.Direction, chunk []byte) []byte {
		r.mu.Lock()
		defer r.mu.Unlock()
		offset := r.seen[dir].Len()
		r.seen[dir].Write(chunk)
		if r.alter != nil {
			return r.alter(dir, offset, chunk)
		}
		return chunk
	})
}

func (r *recorder) bytes(dir harness.Direction) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.seen[dir].Bytes()...)
}

func reasonOf(err error) handshake.Reason { return handshake.ReasonOf(err) }

func counter(b *harness.Board, id bp.CounterID) uint64 {
	cs, err := b.Counters(ctx())
	Expect(err).NotTo(HaveOccurred())
	v, ok := cs.Get(id)
	Expect(ok).To(BeTrue(), "the board reports counter %s", id)
	return v
}
