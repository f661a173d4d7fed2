package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	fnoise "github.com/flynn/noise"
	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
	"shakedown/server/registry"
	"shakedown/server/servertest"
)

var serverProfile = flag.String("server-cpuprofile", "", "BenchmarkServerCPU: after the measurement, write a CPU profile of the serve process (its --pprof) under the same load here, and its allocations to this name + .allocs")

var profileSessions = flag.Bool("server-cpuprofile-sessions", false, "BenchmarkServerCPU: -server-cpuprofile profiles whole device sessions (CONNECT, SUBSCRIBE) instead of handshakes")

// profileSeconds is how long -server-cpuprofile profiles the server.
const profileSeconds = 20

// cpuDevices is the number of noise devices whose messages 1 the
// benchmark replays; every device's messages reach the server in order.
const cpuDevices = 64

// BenchmarkServerCPU (make bench) measures the CPU a `shakedown serve` of
// its own spends per full-path noise handshake (TCP accept, framing,
// registry lookup, the counter persisted, message 2, the session handed to
// the embedded broker and ended), read from the process's /proc/PID/stat,
// with the clients in this process replaying precomputed messages 1. The
// responder's crypto alone, in memory in this process, is measured the same
// way (getrusage). The ratio, crypto CPU ÷ server CPU per handshake, is the
// share of the server's work that is the handshake's cryptography; goal 0.7.
//
//	go test -run '^$' -bench '^BenchmarkServerCPU$' -benchtime 3000x -count 5 ./server/app
//
// -server-cpuprofile FILE then keeps the same load on the server while its
// --pprof endpoint takes a CPU profile of profileSeconds into FILE:
//
//	go test -run '^$' -bench '^BenchmarkServerCPU$' -benchtime 3000x ./server/app -args -server-cpuprofile cpu.pb.gz
func BenchmarkServerCPU(b *testing.B) {
	RegisterFailHandler(func(message string, _ ...int) { b.Fatal(message) })
	dir := b.TempDir()
	binary = buildBinary(b.TempDir())
	_, err := fixtures.Generate(filepath.Join(dir, "fx"), fixtures.Options{Seed: "bench-cpu", DevicesPerProfile: cpuDevices})
	Expect(err).NotTo(HaveOccurred())
	set, err := fixtures.Load(filepath.Join(dir, "fx"))
	Expect(err).NotTo(HaveOccurred())
	var keys []fnoise.DHKey
	for _, d := range set.DevicesOf(handshake.Noise) {
		keys = append(keys, d.Keypair())
	}
	recs := set.Records()
	epoch := uint64(time.Now().UnixNano())

	crypto := func(n int) time.Duration {
		dir := handshaketest.NewDirectory(recs...)
		srv, err := noise.NewServer(noise.ServerConfig{Keys: noise.NewKeyRing(noise.ServerKeys{Current: set.NoiseCurrent}), Directory: dir, Counters: dir})
		Expect(err).NotTo(HaveOccurred())
		msgs, err := handshaketest.NoiseMessages1(keys, set.NoiseCurrent.Public, n, epoch)
		Expect(err).NotTo(HaveOccurred())
		q := handshaketest.NewQueue(msgs, len(keys))
		cpu0 := selfCPU()
		parallel(runtime.GOMAXPROCS(0), n, func(int) error {
			i, m := q.Take()
			defer q.Finish(i)
			_, _, err := srv.Handshake(context.Background(), handshaketest.ReplayConn(m))
			return err
		})
		return (selfCPU() - cpu0) / time.Duration(n)
	}

	out, err := os.Create(filepath.Join(dir, "serve.log"))
	Expect(err).NotTo(HaveOccurred())
	b.Cleanup(func() { out.Close() })
	srv := launchServer(dir, out, "serve", "--fixtures", filepath.Join(dir, "fx"), "--registry", "sqlite:"+filepath.Join(dir, "registry.db"),
		"--listen-noise", "127.0.0.1:0", "--listen-tls", "", "--backend", "127.0.0.1:0", "--backend-password", backendPassword,
		"--metrics", "", "--per-source-rate", "0", "--max-half-open", "4096", "--log-level", "warn", "--pprof", pprofAddr())
	b.Cleanup(func() { srv.session.Kill().Wait(5 * time.Second) })
	addr := srv.addr("noise")
	fullPath := func(n int, start uint64) time.Duration {
		msgs, err := handshaketest.NoiseMessages1(keys, set.NoiseCurrent.Public, n, start)
		Expect(err).NotTo(HaveOccurred())
		q := handshaketest.NewQueue(msgs, len(keys))
		reply := handshake.FrameHeaderLen + noise.MsgLenIK2
		cpu0 := srv.cpuTime()
		parallel(16*runtime.GOMAXPROCS(0), n, func(int) error {
			i, m := q.Take()
			defer q.Finish(i)
			return handshaketest.Replay(addr, m, reply)
		})
		return (srv.cpuTime() - cpu0) / time.Duration(n)
	}
	fullPath(2*cpuDevices, epoch) // warm-up: the registry's pages and the server's pools

	b.ResetTimer()
	c := crypto(b.N)
	s := fullPath(b.N, epoch+1<<32)
	cpu0 := srv.cpuTime()
	Expect(sessions(addr, set, keys, b.N, epoch+2<<32)).To(Succeed())
	sess := (srv.cpuTime() - cpu0) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(float64(c.Microseconds()), "crypto-cpu-µs/hs")
	b.ReportMetric(float64(s.Microseconds()), "server-cpu-µs/hs")
	b.ReportMetric(c.Seconds()/s.Seconds(), "ratio")
	b.ReportMetric(float64(sess.Microseconds()), "session-cpu-µs")
	b.ReportMetric(c.Seconds()/sess.Seconds(), "session-ratio")
	b.ReportMetric(0, "ns/op")
	if *serverProfile != "" {
		profileServer(srv.addr("pprof"), *serverProfile, func(round uint64) {
			if *profileSessions {
				Expect(sessions(addr, set, keys, cpuDevices*4, epoch+(3+round)<<32)).To(Succeed())
				return
			}
			fullPath(cpuDevices*16, epoch+(3+round)<<32)
		})
	}
}

// sessionWorkers is how many devices connect at once in sessions; each
// worker owns cpuDevices/sessionWorkers devices, so one device's
// connections never overlap.
const sessionWorkers = cpuDevices / 2

// sessions runs n whole device sessions against the noise listener at addr,
// over the devices of keys in turn (message-1 counters from start): the
// device's side of the handshake, CONNECT, SUBSCRIBE to its command topic,
// CONNACK and SUBACK read, and the conn closed. It is what a device costs
// the server from accept to leaving.
func sessions(addr string, set *fixtures.Set, keys []fnoise.DHKey, n int, start uint64) error {
	devs := set.DevicesOf(handshake.Noise)
	errs := make(chan error, sessionWorkers)
	for w := range sessionWorkers {
		go func() {
			errs <- func() error {
				pins, err := noise.NewPins(set.NoiseCurrent.Public)
				if err != nil {
					return err
				}
				counters := map[int]*noise.MemCounter{}
				for j := w; j < n; j += sessionWorkers {
					k := j % len(keys)
					if counters[k] == nil {
						counters[k] = noise.NewMemCounter(start)
					}
					dev, err := noise.NewDevice(noise.DeviceConfig{Static: keys[k], Pins: pins, Counter: counters[k]})
					if err != nil {
						return err
					}
					if err := oneSession(addr, dev, devs[k].ID); err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	var first error
	for range sessionWorkers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// oneSession connects dev as id (deviceSession) and leaves.
func oneSession(addr string, dev handshake.Device, id string) error {
	c, err := deviceSession(addr, dev, id)
	if err != nil {
		return err
	}
	return c.Close()
}

// deviceSession dials addr and makes dev's session as id
// (servertest.Session), within a minute.
func deviceSession(addr string, dev handshake.Device, id string) (net.Conn, error) {
	return dialSession(addr, func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		return servertest.Session(ctx, raw, dev, id)
	})
}

// dialSession dials addr and makes a session on the conn with start, within
// a minute; the conn is closed when start fails.
func dialSession(addr string, start func(ctx context.Context, raw net.Conn) (net.Conn, error)) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := start(ctx, raw)
	if err != nil {
		raw.Close()
	}
	return c, err
}

// pprofAddr is serve's --pprof: on only for -server-cpuprofile.
func pprofAddr() string {
	if *serverProfile == "" {
		return ""
	}
	return "127.0.0.1:0"
}

// profileServer takes a CPU profile of profileSeconds from the server's
// pprof endpoint at addr into path while load runs rounds of handshakes
// (at most maxProfileRounds), then the server's allocations since it
// started into path.allocs.
func profileServer(addr, path string, load func(round uint64)) {
	const maxProfileRounds = 10000
	done := make(chan error, 1)
	go func() { done <- fetch(addr, fmt.Sprintf("/debug/pprof/profile?seconds=%d", profileSeconds), path) }()
	for round := range uint64(maxProfileRounds) {
		select {
		case err := <-done:
			Expect(err).To(Succeed())
			Expect(fetch(addr, "/debug/pprof/allocs", path+".allocs")).To(Succeed())
			return
		default:
			load(round)
		}
	}
	Expect(<-done).To(Succeed())
}

// parallel runs fn(0) to fn(n-1) on workers goroutines and fails on the
// first error.
func parallel(workers, n int, fn func(i int) error) {
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for i := range jobs {
				if err := fn(i); err != nil {
					errs <- err
					for range jobs {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		Expect(<-errs).To(Succeed())
	}
}

// selfCPU returns this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	Expect(syscall.Getrusage(syscall.RUSAGE_SELF, &ru)).To(Succeed())
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	rssSessions = flag.Int("rss-sessions", 20000, "BenchmarkSessionRSS: noise sessions held at once")
	rssHeap     = flag.String("rss-heap", "", "BenchmarkSessionRSS: write the serve process's heap profile here while the sessions are held")
	rssQueue    = flag.Int("rss-write-queue", 0, "BenchmarkSessionRSS: serve's --mqtt-write-queue (0: its default)")
	rssCPU      = flag.String("rss-cpuprofile", "", "BenchmarkSessionRSS: write a CPU profile of the serve process here, taken over 20 s while the sessions are held and idle, and report its CPU per second")
	rssStacks   = flag.String("rss-goroutines", "", "BenchmarkSessionRSS: write the serve process's goroutine stacks here while the sessions are held, its memory statistics to this name + .mem and its smaps_rollup to this name + .smaps")
	rssWatch    = flag.Duration("rss-watch", 0, "BenchmarkSessionRSS: after the measurement, keep the sessions this long, each pinging every 30 s (spread), read the server's resident memory every second, and report the highest and the last per session and the collections the server ran meanwhile")
	rssWatchPub = flag.Bool("rss-watch-publish", false, "BenchmarkSessionRSS: -rss-watch's sessions publish at QoS 1 to their own topic every 60 s (spread), as the scale fleet's devices do, instead of pinging every 30 s")
	rssGrow     = flag.Bool("rss-grow", false, "BenchmarkSessionRSS: after the measurement, every session sends one PINGREQ, then one QoS 1 PUBLISH, and reads the reply; report how much the server's goroutine stacks grew per session after each, read without a collection")
	rssPlain    = flag.Bool("rss-plain", false, "BenchmarkSessionRSS: hold plain MQTT sessions on serve's --plain-mqtt listener instead of noise ones: the embedded broker's own cost per session, with no handshake and no record layer")
)

// rssFiles is what each process needs beside one file per session.
const rssFiles = 256

// BenchmarkSessionRSS holds -rss-sessions connected noise devices (20,000)
// on a `shakedown serve` of its own (SQLite registry, embedded broker) and
// reports the server's resident memory per session: VmRSS after a forced
// collection (its --pprof heap endpoint with gc=1), less the same taken
// with no session. Each device has done its handshake, CONNECT and a QoS 1
// SUBSCRIBE; the devices are conns in this process with no goroutine. The
// Go heap and stacks in use per session are reported beside it.
// -rss-plain holds plain MQTT sessions instead (TCP, the same CONNECT and
// SUBSCRIBE), which measures what the embedded broker (mochi) costs by
// itself: the floor under a noise session. -rss-watch keeps the sessions
// a while longer, pinging as idle devices do, and reports the highest and
// the last resident figure meanwhile: the broker's housekeeping makes
// garbage every second, so an idle server's memory climbs between
// collections. -rss-grow measures what one ping and one publish of every
// session add to the server's stacks.
//
// Both processes need an open file per session: the benchmark raises its
// soft limit to what it needs, and the hard limit too when it may (root
// with CAP_SYS_RESOURCE); the server inherits them. When the hard limit
// cannot be raised, it holds as many sessions as the limit leaves room for,
// and says so.
//
//	go test -run '^$' -bench '^BenchmarkSessionRSS$' -benchtime 1x -timeout 30m ./server/app
func BenchmarkSessionRSS(b *testing.B) {
	RegisterFailHandler(func(message string, _ ...int) { b.Fatal(message) })
	// -rss-grow leaves every read loop grown until a collection, and the
	// watch leaves replies unread: together, neither would measure its own.
	Expect(*rssGrow && *rssWatch > 0).To(BeFalse(), "-rss-grow and -rss-watch: run each on its own")
	limit, err := raiseFileLimit(uint64(*rssSessions + rssFiles))
	Expect(err).NotTo(HaveOccurred())
	n := min(*rssSessions, int(limit)-rssFiles)
	if n < *rssSessions {
		b.Logf("open-file limit %d (hard): holding %d sessions, not %d", limit, n, *rssSessions)
	}
	dir := b.TempDir()
	binary = buildBinary(b.TempDir())
	keys, set := enrolDevices(dir, n)
	out, err := os.Create(filepath.Join(dir, "serve.log"))
	Expect(err).NotTo(HaveOccurred())
	b.Cleanup(func() { out.Close() })
	srv := launchServer(dir, out, "serve", "--registry", "sqlite:"+filepath.Join(dir, "registry.db"),
		"--listen-noise", "127.0.0.1:0", "--listen-tls", "", "--backend", "", "--metrics", "", "--pprof", "127.0.0.1:0",
		"--per-source-rate", "0", "--max-half-open", "4096", "--log-level", "warn", "--mqtt-write-queue", fmt.Sprint(*rssQueue),
		"--plain-mqtt", "127.0.0.1:0")
	b.Cleanup(func() { srv.session.Kill().Wait(5 * time.Second) })
	pins, err := noise.NewPins(set.NoiseCurrent.Public)
	Expect(err).NotTo(HaveOccurred())
	dial := func(i int) (net.Conn, error) { return holdSession(srv.addr("noise"), keys[i], pins, rssID(i)) }
	if *rssPlain {
		dial = func(i int) (net.Conn, error) { return holdPlainSession(srv.addr("plain"), rssID(i)) }
	}
	for range b.N {
		rss0, heap0, stack0 := serverMemory(srv)
		conns := holdSessions(n, dial)
		rss1, heap1, stack1 := serverMemory(srv)
		b.ReportMetric(float64(n), "sessions")
		b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-KiB/session")
		b.ReportMetric(float64(heap1-heap0)/1024/float64(n), "heap-KiB/session")
		b.ReportMetric(float64(stack1-stack0)/1024/float64(n), "stack-KiB/session")
		if *rssGrow {
			ping, gcs := stackGrowth(srv, conns, pingreq, []byte{0xd0, 0x00}) // PINGRESP
			b.ReportMetric(ping, "ping-stack-growth-KiB/session")
			pub, gcs2 := stackGrowth(srv, conns, publish, []byte{0x40, 0x02, 0x00, 0x02}) // PUBACK of packet 2
			b.ReportMetric(pub, "publish-stack-growth-KiB/session")
			b.ReportMetric(float64(gcs+gcs2), "collections-while-growing")
		}
		if *rssWatch > 0 {
			peak, last, gcs := watchRSS(srv, conns, *rssWatch)
			b.ReportMetric(float64(peak-rss0)/float64(n), "rss-max-KiB/session")
			b.ReportMetric(float64(last-rss0)/float64(n), "rss-last-KiB/session")
			b.ReportMetric(float64(gcs), "collections-while-idle")
		}
		if *rssHeap != "" {
			Expect(fetch(srv.addr("pprof"), "/debug/pprof/heap", *rssHeap)).To(Succeed())
		}
		if *rssCPU != "" {
			cpu0 := srv.cpuTime()
			Expect(fetch(srv.addr("pprof"), "/debug/pprof/profile?seconds=20", *rssCPU)).To(Succeed())
			b.ReportMetric((srv.cpuTime()-cpu0).Seconds()/20, "idle-cpu-cores")
		}
		if *rssStacks != "" {
			Expect(fetch(srv.addr("pprof"), "/debug/pprof/goroutine?debug=2", *rssStacks)).To(Succeed())
			Expect(fetch(srv.addr("pprof"), "/debug/pprof/heap?debug=1", *rssStacks+".mem")).To(Succeed())
			smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", srv.session.Command.Process.Pid))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(*rssStacks+".smaps", smaps, 0o644)).To(Succeed())
		}
		for _, c := range conns {
			c.Close()
		}
	}
	b.ReportMetric(0, "ns/op")
}

// raiseFileLimit raises this process's open-file limit, and its
// children's with it, towards want: the soft limit up to the hard one, and
// the hard one when the process may. It returns the limit it got.
func raiseFileLimit(want uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur >= want {
		return l.Cur, nil
	}
	if l.Max < want {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err == nil {
			return want, nil
		}
	}
	l.Cur = min(want, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raising the open-file limit to %d: %w", l.Cur, err)
	}
	return l.Cur, nil
}

// enrolDevices makes a registry in dir holding n noise devices of their own
// and the server key of a fixture set, and returns the devices' keys.
func enrolDevices(dir string, n int) ([]fnoise.DHKey, *fixtures.Set) {
	set, err := fixtures.Build(fixtures.Options{Seed: "session-rss", DevicesPerProfile: 1})
	Expect(err).NotTo(HaveOccurred())
	keys := make([]fnoise.DHKey, n)
	recs := make([]handshake.DeviceRecord, n)
	for i := range keys {
		k, err := ecdh.X25519().GenerateKey(nil)
		Expect(err).NotTo(HaveOccurred())
		keys[i] = fnoise.DHKey{Private: k.Bytes(), Public: k.PublicKey().Bytes()}
		recs[i] = handshake.DeviceRecord{ID: rssID(i), Profile: handshake.Noise, Key: keys[i].Public}
	}
	ctx := context.Background()
	reg, err := registry.Open(ctx, "sqlite:"+filepath.Join(dir, "registry.db"))
	Expect(err).NotTo(HaveOccurred())
	defer reg.Close()
	_, err = registry.Enrol(ctx, reg, recs, nil, registry.Keypair{Private: set.NoiseCurrent.Private, Public: set.NoiseCurrent.Public})
	Expect(err).NotTo(HaveOccurred())
	return keys, set
}

// rssID is the ID of BenchmarkSessionRSS's device i (enrolDevices).
func rssID(i int) string { return fmt.Sprintf("rss-%06d", i) }

// holdSessions makes n sessions with dial, on a few workers, and returns
// their conns.
func holdSessions(n int, dial func(i int) (net.Conn, error)) []net.Conn {
	conns := make([]net.Conn, n)
	parallel(rssWorkers, n, func(i int) (err error) {
		conns[i], err = dial(i)
		return err
	})
	return conns
}

// rssWorkers is how many of BenchmarkSessionRSS's sessions are worked on
// at once.
const rssWorkers = 16

func holdSession(addr string, key fnoise.DHKey, pins *noise.Pins, id string) (net.Conn, error) {
	dev, err := noise.NewDevice(noise.DeviceConfig{Static: key, Pins: pins, Counter: noise.NewMemCounter(1)})
	if err != nil {
		return nil, err
	}
	return deviceSession(addr, dev, id)
}

// holdPlainSession dials the plain MQTT listener at addr and makes a
// session as id (servertest.MQTTSession), within a minute.
func holdPlainSession(addr, id string) (net.Conn, error) {
	return dialSession(addr, func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		return raw, servertest.MQTTSession(ctx, raw, id)
	})
}

// serverMemory collects the server's garbage (its pprof heap endpoint with
// gc=1, several times) and returns its resident memory in KiB, and the Go heap and stacks
// in use in bytes, as that endpoint reports them.
func serverMemory(srv *serverProc) (rssKiB int, heap, stack uint64) {
	// A collection halves a goroutine's stack at most once: a few let the
	// stacks that grew while the sessions connected come down.
	const shrinks = 5
	for range shrinks - 1 {
		Expect(fetch(srv.addr("pprof"), "/debug/pprof/heap?gc=1", os.DevNull)).To(Succeed())
	}
	st := memStats(srv, true)
	heap, stack = st["HeapInuse"], st["Stack"]
	Expect(heap).NotTo(BeZero(), "no HeapInuse in the heap profile")
	return srv.rssKiB(), heap, stack
}

// memStats returns the server's memory statistics (runtime.MemStats) as
// its pprof heap endpoint lists them, "# Name = value"; collect asks it to
// collect first. A field listing two numbers (Stack: in use / from the
// system) gives its first; a list (PauseNs) is left out.
func memStats(srv *serverProc, collect bool) map[string]uint64 {
	path := "/debug/pprof/heap?debug=1"
	if collect {
		path += "&gc=1"
	}
	resp, err := http.Get("http://" + srv.addr("pprof") + path)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	st := map[string]uint64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var name string
		var v uint64
		if n, _ := fmt.Sscanf(sc.Text(), "# %s = %d", &name, &v); n == 2 {
			st[name] = v
		}
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return st
}

// watchRSS reads the server's resident memory every second for d and
// returns the highest reading and the last (KiB), and how many collections
// the server ran meanwhile. An idle server's memory is not flat: its
// broker's housekeeping makes garbage every second, which stays resident
// until a collection and for a while after it. Meanwhile each session
// pings the server every 30 s, or publishes every 60 s (-rss-watch-publish),
// the sessions spread over the interval as devices' keep-alives are
// (theirs is 60 s; the broker ends a session silent for 1.5 keep-alives).
// A publish grows the session's read loop's stack until a collection
// (stackGrowth); a ping does not.
func watchRSS(srv *serverProc, conns []net.Conn, d time.Duration) (peakKiB, lastKiB, collections int) {
	every, packet := 30, pingreq // seconds
	if *rssWatchPub {
		every, packet = 60, publish
	}
	gc0 := numGC(srv)
	for sec := range int(d / time.Second) {
		time.Sleep(time.Second)
		for i := sec % every; i < len(conns); i += every {
			_, err := conns[i].Write(packet(i)) // the replies are left unread
			Expect(err).NotTo(HaveOccurred(), "a session ended while watched")
		}
		lastKiB = srv.rssKiB()
		peakKiB = max(peakKiB, lastKiB)
	}
	return peakKiB, lastKiB, numGC(srv) - gc0
}

// pingreq is an MQTT 3.1.1 PINGREQ (§3.12), whatever the session.
func pingreq(int) []byte { return []byte{0xc0, 0x00} }

// publish is a QoS 1 PUBLISH of one byte from BenchmarkSessionRSS's session
// i to a topic of its own (packet ID 2: the SUBSCRIBE had 1), as the scale
// fleet's devices send every minute. The server answers it with a PUBACK.
func publish(i int) []byte {
	var b bytes.Buffer
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: 4,
		TopicName: "devices/" + rssID(i) + "/rss", PacketID: 2, Payload: []byte{'x'}}
	Expect(pk.PublishEncode(&b)).To(Succeed())
	return b.Bytes()
}

// stackGrowth has every session send packet and read the server's reply,
// which must be want, then returns how much the server's goroutine stacks
// grew per session (KiB), read without a collection, and how many
// collections the server ran meanwhile. Go grows a stack by doubling it
// when a call needs more than is left, and halves it at most once a
// collection, so what a packet's handling grew shows until the next one.
func stackGrowth(srv *serverProc, conns []net.Conn, packet func(i int) []byte, want []byte) (kib float64, collections int) {
	st0 := memStats(srv, false)
	parallel(rssWorkers, len(conns), func(i int) error {
		c, reply := conns[i], make([]byte, len(want))
		c.SetReadDeadline(time.Now().Add(time.Minute))
		defer c.SetReadDeadline(time.Time{})
		if _, err := c.Write(packet(i)); err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
		if !bytes.Equal(reply, want) {
			return fmt.Errorf("session %d: the server replied % x, not % x", i, reply, want)
		}
		return nil
	})
	st1 := memStats(srv, false)
	grown := float64(memStat(st1, "Stack")) - float64(memStat(st0, "Stack"))
	return grown / 1024 / float64(len(conns)), int(memStat(st1, "NumGC") - memStat(st0, "NumGC"))
}

// numGC returns the collections the server has run, read without
// collecting.
func numGC(srv *serverProc) int { return int(memStat(memStats(srv, false), "NumGC")) }

// memStat returns the statistic name of st (memStats), which must be there.
func memStat(st map[string]uint64, name string) uint64 {
	v, ok := st[name]
	Expect(ok).To(BeTrue(), "no %s in the heap profile", name)
	return v
}

// fetch writes what GET path on addr returns to file.
func fetch(addr, path, file string) error {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = bufio.NewReader(resp.Body).WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
