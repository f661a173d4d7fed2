package app_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	fnoise "github.com/flynn/noise"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
	"shakedown/handshake/noise"
)

var serverProfile = flag.String("server-cpuprofile", "", "BenchmarkServerCPU: after the measurement, write a CPU profile of the serve process (its --pprof) under the same load here")

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
		parallel(runtime.GOMAXPROCS(0), n, func() error {
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
		parallel(16*runtime.GOMAXPROCS(0), n, func() error {
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
	b.StopTimer()
	b.ReportMetric(float64(c.Microseconds()), "crypto-cpu-µs/hs")
	b.ReportMetric(float64(s.Microseconds()), "server-cpu-µs/hs")
	b.ReportMetric(c.Seconds()/s.Seconds(), "ratio")
	b.ReportMetric(0, "ns/op")
	if *serverProfile != "" {
		profileServer(srv.addr("pprof"), *serverProfile, func(round uint64) { fullPath(cpuDevices*16, epoch+(2+round)<<32) })
	}
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
// (at most maxProfileRounds).
func profileServer(addr, path string, load func(round uint64)) {
	const maxProfileRounds = 10000
	done := make(chan error, 1)
	go func() { done <- fetch(addr, fmt.Sprintf("/debug/pprof/profile?seconds=%d", profileSeconds), path) }()
	for round := range uint64(maxProfileRounds) {
		select {
		case err := <-done:
			Expect(err).To(Succeed())
			return
		default:
			load(round)
		}
	}
	Expect(<-done).To(Succeed())
}

// parallel runs fn n times on workers goroutines and fails on the first error.
func parallel(workers, n int, fn func() error) {
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range jobs {
				if err := fn(); err != nil {
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
