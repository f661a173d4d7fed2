package app_test

import (
	"bufio"
	"context"
	"crypto/ecdh"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fnoise "github.com/flynn/noise"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/registry"
	"shakedown/server/servertest"
)

var (
	rssSessions = flag.Int("rss-sessions", 20000, "BenchmarkSessionRSS: noise sessions held at once")
	rssHeap     = flag.String("rss-heap", "", "BenchmarkSessionRSS: write the serve process's heap profile here while the sessions are held")
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
//
// Both processes need an open file per session: the benchmark raises its
// soft limit to the hard one, and the hard one too when it may (root), and
// the server inherits them.
//
//	go test -run '^$' -bench '^BenchmarkSessionRSS$' -benchtime 1x -timeout 30m ./server/app
func BenchmarkSessionRSS(b *testing.B) {
	RegisterFailHandler(func(message string, _ ...int) { b.Fatal(message) })
	n := *rssSessions
	Expect(raiseFileLimit(uint64(n + rssFiles))).To(Succeed())
	dir := b.TempDir()
	binary = buildBinary(b.TempDir())
	keys, set := enrolDevices(dir, n)
	out, err := os.Create(filepath.Join(dir, "serve.log"))
	Expect(err).NotTo(HaveOccurred())
	b.Cleanup(func() { out.Close() })
	srv := launchServer(dir, out, "serve", "--registry", "sqlite:"+filepath.Join(dir, "registry.db"),
		"--listen-noise", "127.0.0.1:0", "--listen-tls", "", "--backend", "", "--metrics", "", "--pprof", "127.0.0.1:0",
		"--per-source-rate", "0", "--max-half-open", "4096", "--log-level", "warn")
	b.Cleanup(func() { srv.session.Kill().Wait(5 * time.Second) })
	pins, err := noise.NewPins(set.NoiseCurrent.Public)
	Expect(err).NotTo(HaveOccurred())
	for range b.N {
		rss0, heap0, stack0 := serverMemory(srv)
		conns := holdSessions(srv.addr("noise"), keys, pins)
		rss1, heap1, stack1 := serverMemory(srv)
		b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-KiB/session")
		b.ReportMetric(float64(heap1-heap0)/1024/float64(n), "heap-KiB/session")
		b.ReportMetric(float64(stack1-stack0)/1024/float64(n), "stack-KiB/session")
		if *rssHeap != "" {
			Expect(fetch(srv.addr("pprof"), "/debug/pprof/heap", *rssHeap)).To(Succeed())
		}
		for _, c := range conns {
			c.Close()
		}
	}
	b.ReportMetric(0, "ns/op")
}

// raiseFileLimit makes this process's open-file limit at least want, and
// its children's with it.
func raiseFileLimit(want uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur >= want {
		return nil
	}
	l.Cur = max(l.Cur, min(want, l.Max))
	if l.Max < want {
		l.Cur, l.Max = want, want // only root may raise the hard limit
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("raising the open-file limit to %d (ulimit -n): %w", want, err)
	}
	return nil
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
		recs[i] = handshake.DeviceRecord{ID: fmt.Sprintf("rss-%06d", i), Profile: handshake.Noise, Key: keys[i].Public}
	}
	ctx := context.Background()
	reg, err := registry.Open(ctx, "sqlite:"+filepath.Join(dir, "registry.db"))
	Expect(err).NotTo(HaveOccurred())
	defer reg.Close()
	_, err = registry.Enrol(ctx, reg, recs, nil, registry.Keypair{Private: set.NoiseCurrent.Private, Public: set.NoiseCurrent.Public})
	Expect(err).NotTo(HaveOccurred())
	return keys, set
}

// holdSessions connects a device for each of keys, on a few workers, and
// returns their conns.
func holdSessions(addr string, keys []fnoise.DHKey, pins *noise.Pins) []net.Conn {
	const workers = 16
	conns := make([]net.Conn, len(keys))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				c, err := holdSession(addr, keys[i], pins, fmt.Sprintf("rss-%06d", i))
				if err != nil {
					errs <- err
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errs)
	Expect(<-errs).To(Succeed())
	return conns
}

func holdSession(addr string, key fnoise.DHKey, pins *noise.Pins, id string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dev, err := noise.NewDevice(noise.DeviceConfig{Static: key, Pins: pins, Counter: noise.NewMemCounter(1)})
	if err != nil {
		return nil, err
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := servertest.Session(ctx, raw, dev, id)
	if err != nil {
		raw.Close()
	}
	return c, err
}

// serverMemory collects the server's garbage (its pprof heap endpoint with
// gc=1) and returns its resident memory in KiB, and the Go heap and stacks
// in use in bytes, as that endpoint reports them.
func serverMemory(srv *serverProc) (rssKiB int, heap, stack uint64) {
	resp, err := http.Get("http://" + srv.addr("pprof") + "/debug/pprof/heap?gc=1&debug=1")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HeapInuse = "):
			fmt.Sscanf(line, "# HeapInuse = %d", &heap)
		case strings.HasPrefix(line, "# Stack = "):
			fmt.Sscanf(line, "# Stack = %d", &stack)
		}
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	Expect(heap).NotTo(BeZero(), "no HeapInuse in the heap profile")
	return srv.rssKiB(), heap, stack
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
