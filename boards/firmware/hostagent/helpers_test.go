package hostagent_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/curve25519"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
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

// server is an in-process server of one profile on 127.0.0.1. It answers
// every application message m with "pong:" m, and "flood" with floodLen
// bytes in one record.
type server struct {
	addr     string
	wg       sync.WaitGroup
	mu       sync.Mutex
	ids      []handshake.Identity
	failures []error
}

func startServer(srv handshake.Server) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s := &server{addr: ln.Addr().String()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go s.serve(srv, raw)
		}
	}()
	DeferCleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *server) serve(srv handshake.Server, raw net.Conn) {
	defer s.wg.Done()
	defer raw.Close()
	hctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, id, err := srv.Handshake(hctx, raw)
	s.mu.Lock()
	if err != nil {
		s.failures = append(s.failures, err)
	} else {
		s.ids = append(s.ids, id)
	}
	s.mu.Unlock()
	if err != nil {
		return
	}
	defer conn.Close()
	buf := make([]byte, 1024)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			reply := append([]byte("pong:"), buf[:n]...)
			if string(buf[:n]) == flood {
				reply = bytes.Repeat([]byte{'f'}, floodLen)
			}
			if _, err := conn.Write(reply); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *server) identities() []handshake.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]handshake.Identity(nil), s.ids...)
}

func (s *server) failed() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.failures...)
}

// fixture is a server of one profile and the identity to provision on the
// board so that the server accepts it.
type fixture struct {
	srv  handshake.Server
	dir  *handshaketest.Directory
	prov bp.Provision
	keys noise.ServerKeys // noise only
}

func random(n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	Expect(err).NotTo(HaveOccurred())
	return b
}

func u64(v uint64) *uint64 { return &v }

// noiseFixture registers a new device with a server holding keys.
func noiseFixture(id string, keys noise.ServerKeys) fixture {
	dpriv := random(32)
	dpub, err := curve25519.X25519(dpriv, curve25519.Basepoint)
	Expect(err).NotTo(HaveOccurred())
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.Noise, Key: dpub})
	srv, err := noise.NewServer(noise.ServerConfig{Keys: noise.NewKeyRing(keys), Directory: dir, Counters: dir})
	Expect(err).NotTo(HaveOccurred())
	return fixture{srv: srv, dir: dir, keys: keys, prov: bp.Provision{Profile: handshake.Noise,
		DeviceID: id, DeviceKey: dpriv, ServerKey: keys.Current.Public, Counter: u64(0)}}
}

func newNoiseFixture(id string) fixture {
	kp, err := noise.GenerateKeypair(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	return noiseFixture(id, noise.ServerKeys{Current: kp})
}

func seedFixture(id string, c seed.Curve, code bp.Curve) fixture {
	priv, pub, err := seed.GenerateKey(c, rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.Seed, Curve: string(c), Key: pub})
	srv, err := seed.NewServer(seed.ServerConfig{Directory: dir})
	Expect(err).NotTo(HaveOccurred())
	return fixture{srv: srv, dir: dir, prov: bp.Provision{Profile: handshake.Seed, DeviceID: id,
		DeviceKey: priv, Curve: code}}
}

func pskFixture(id string) fixture {
	key := random(32)
	dir := handshaketest.NewDirectory(handshake.DeviceRecord{ID: id, Profile: handshake.PSK, Key: key})
	srv, err := psk.NewServer(psk.ServerConfig{Directory: dir})
	Expect(err).NotTo(HaveOccurred())
	return fixture{srv: srv, dir: dir, prov: bp.Provision{Profile: handshake.PSK, DeviceID: id, DeviceKey: key}}
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
