package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/app"
	"shakedown/simulator"
)

// fixtureDir makes a temporary directory under parent ("" for the
// default), removed when the spec or container ends, with a fixture set of
// perProfile devices per profile in its fx folder, and returns both.
func fixtureDir(parent, name, seed string, perProfile int) (string, *fixtures.Set) {
	GinkgoHelper()
	dir, err := os.MkdirTemp(parent, name)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	_, err = fixtures.Generate(filepath.Join(dir, "fx"), fixtures.Options{Seed: seed, DevicesPerProfile: perProfile})
	Expect(err).NotTo(HaveOccurred())
	set, err := fixtures.Load(filepath.Join(dir, "fx"))
	Expect(err).NotTo(HaveOccurred())
	return dir, set
}

// serverProc is a running `shakedown serve` process.
type serverProc struct {
	session *gexec.Session
	ready   app.Ready
	dir     string
	args    []string
}

const backendPassword = "process-test"

func startServer(dir string, extra ...string) *serverProc {
	args := append([]string{"serve", "--fixtures", filepath.Join(dir, "fx"), "--registry", "sqlite:" + filepath.Join(dir, "registry.db"),
		"--listen-noise", "127.0.0.1:0", "--listen-seed", "127.0.0.1:0", "--listen-psk", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0",
		"--backend", "127.0.0.1:0", "--backend-password", backendPassword, "--metrics", "127.0.0.1:0",
		"--drain", "3s", "--log-level", "warn"}, extra...)
	return launchServer(dir, GinkgoWriter, args...)
}

// launchServer runs the shakedown binary with args (a serve command) and
// a ready file in dir, and waits until it listens. Its output goes to out.
func launchServer(dir string, out io.Writer, args ...string) *serverProc {
	readyFile := filepath.Join(dir, "ready.json")
	os.Remove(readyFile)
	args = append(args, "--ready-file", readyFile)
	s, err := gexec.Start(exec.Command(binary, args...), out, out)
	Expect(err).NotTo(HaveOccurred())
	p := &serverProc{session: s, dir: dir, args: args}
	Eventually(func() error {
		if s.ExitCode() != -1 {
			return StopTrying("shakedown serve exited")
		}
		b, err := os.ReadFile(readyFile)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &p.ready)
	}).WithTimeout(time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
	return p
}

func (p *serverProc) addr(name string) string { return p.ready.Listeners[name] }

// sample is one line of the server's /metrics: the metric's name with its
// labels, as the server prints them, and its value.
type sample struct {
	series string
	value  float64
}

// scrape returns the samples of the server's /metrics, in its order.
func (p *serverProc) scrape() ([]sample, error) {
	resp, err := http.Get("http://" + p.addr("metrics") + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var samples []sample
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		v, _ := strconv.ParseFloat(line[i+1:], 64)
		samples = append(samples, sample{line[:i], v})
	}
	return samples, sc.Err()
}

// metric returns the value of one sample of the server's /metrics.
func (p *serverProc) metric(name string, labels ...string) float64 {
	samples, err := p.scrape()
	if err != nil {
		return -1
	}
	for _, s := range samples {
		if !strings.HasPrefix(s.series, name+"{") && s.series != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(s.series, l)
		}
		if ok {
			return s.value
		}
	}
	return 0
}

var _ = Describe("shakedown serve as a process, embedded broker and SQLite", Ordered, func() {
	var (
		dir string
		set *fixtures.Set
		srv *serverProc
		ctx context.Context
	)

	BeforeAll(func() {
		dir, set = fixtureDir("", "shakedown-serve", "process-test", 100)
		srv = startServer(dir)
		DeferCleanup(func() { srv.session.Kill().Wait(5 * time.Second) })
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Minute)
		DeferCleanup(cancel)
	})

	It("serves 100 paho devices per profile, and the backend receives every message", func() {
		fleetDelivers(ctx, set, srv, srv.addr("backend"), "backend", backendPassword)
		for _, p := range handshake.Profiles {
			Expect(srv.metric("shakedown_handshakes_total", `profile="`+string(p)+`"`, `result="ok"`)).To(BeNumerically(">=", 100), string(p))
		}
	})

	It("lets 100 devices in while 1,000 garbage and half-open connections hit the listeners, with bounded memory", func() {
		before := srv.rssKiB()
		var hostile []net.Conn
		defer func() {
			for _, c := range hostile {
				c.Close()
			}
		}()
		garbage := bytes.Repeat([]byte{0xee}, 300)
		for i := 0; i < 1000; i++ {
			p := handshake.Profiles[i%len(handshake.Profiles)]
			// From 200 addresses, so that they fill the half-open table
			// rather than one address's handshake budget (per-source rate).
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 3, byte(1+i%200))}}
			c, err := d.Dial("tcp", srv.addr(string(p)))
			Expect(err).NotTo(HaveOccurred())
			hostile = append(hostile, c)
			switch i % 3 {
			case 0: // half-open: a frame header promising more, then silence
				c.Write([]byte{0x00, 0x68, 0x01})
			case 1: // garbage
				c.Write(garbage)
			case 2: // connects and says nothing
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for _, d := range set.DevicesOf(handshake.Noise) {
			wg.Add(1)
			go func(d fixtures.Device) {
				defer wg.Done()
				dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
				if err == nil {
					var c mqtt.Client
					// From another address than the hostile connections,
					// which spent their address's handshake budget (the
					// server's per-source rate).
					c, err = simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.addr("noise"), ClientID: d.ID,
						LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}})
					if err == nil {
						c.Disconnect(20)
					}
				}
				errs <- err
			}(d)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		after := srv.rssKiB()
		GinkgoWriter.Printf("server RSS %d KiB before, %d KiB with 1,000 hostile connections open\n", before, after)
		Expect(after-before).To(BeNumerically("<", 64*1024), "RSS grew by more than 64 MiB")
		Eventually(func() float64 {
			return srv.metric("shakedown_handshakes_total", `result="malformed"`) + srv.metric("shakedown_handshakes_total", `result="oversize_frame"`)
		}).Should(BeNumerically(">", 0))
	})

	It("keeps counters and revocations across kill -9", func() {
		d := set.DevicesOf(handshake.Noise)[5]
		revoked := set.DevicesOf(handshake.Noise)[6]
		counter := noise.NewMemCounter(2 * uint64(time.Now().UnixNano())) // above the clock-based counters of earlier specs
		connect := func(s *serverProc, d fixtures.Device, ctr noise.Counter) error {
			dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{Counter: ctr})
			Expect(err).NotTo(HaveOccurred())
			c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: s.addr("noise"), ClientID: d.ID, HandshakeTimeout: 5 * time.Second})
			if err == nil {
				c.Disconnect(20)
			}
			return err
		}
		for i := 0; i < 5; i++ {
			Expect(connect(srv, d, counter)).To(Succeed())
		}
		last, _ := counter.Next() // the device's next value; the server stored last-1
		out, err := exec.Command(binary, "devices", "revoke", revoked.ID, "--registry", "sqlite:"+filepath.Join(dir, "registry.db")).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))

		Expect(srv.session.Command.Process.Signal(syscall.SIGKILL)).To(Succeed())
		Eventually(srv.session).WithTimeout(5 * time.Second).Should(gexec.Exit())
		srv = startServer(dir)

		// The same counter as the last accepted one is refused; a device
		// that lost its counter cannot get in either.
		Expect(connect(srv, d, noise.NewMemCounter(last-2))).NotTo(Succeed())
		Eventually(func() float64 { return srv.metric("shakedown_handshakes_total", `result="counter_replay"`) }).Should(Equal(1.0))
		Expect(connect(srv, d, noise.NewMemCounter(last))).To(Succeed())
		Expect(connect(srv, revoked, nil)).NotTo(Succeed())
		Eventually(func() float64 { return srv.metric("shakedown_handshakes_total", `result="revoked"`) }).Should(Equal(1.0))
	})

	It("refuses a device revoked while it runs, though the device connected before (the noise key cache)", func() {
		d := set.DevicesOf(handshake.Noise)[8]
		connect := func() error {
			dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
			Expect(err).NotTo(HaveOccurred())
			c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.addr("noise"), ClientID: d.ID, HandshakeTimeout: 5 * time.Second})
			if err == nil {
				c.Disconnect(20)
			}
			return err
		}
		Expect(connect()).To(Succeed())
		Expect(connect()).To(Succeed()) // the second lookup is the cache's
		before := srv.metric("shakedown_handshakes_total", `result="revoked"`)
		out, err := exec.Command(binary, "devices", "revoke", d.ID, "--registry", "sqlite:"+filepath.Join(dir, "registry.db")).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(connect()).NotTo(Succeed())
		Eventually(func() float64 { return srv.metric("shakedown_handshakes_total", `result="revoked"`) }).Should(Equal(before + 1))
	})

	It("drains on SIGTERM and exits 0", func() {
		d := set.DevicesOf(handshake.Noise)[7]
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		Expect(err).NotTo(HaveOccurred())
		lost := make(chan error, 1)
		c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.addr("noise"), ClientID: d.ID, OnConnectionLost: func(err error) { lost <- err }})
		Expect(err).NotTo(HaveOccurred())
		defer c.Disconnect(0)
		start := time.Now()
		Expect(srv.session.Command.Process.Signal(syscall.SIGTERM)).To(Succeed())
		Eventually(srv.session).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		Expect(time.Since(start)).To(BeNumerically("<", 8*time.Second))
		Eventually(lost).WithTimeout(5 * time.Second).Should(Receive())
	})
})

// fleetDelivers connects every device of the set through srv, publishes one
// message from each, and requires a backend subscriber on backendAddr to
// receive every one.
func fleetDelivers(ctx context.Context, set *fixtures.Set, srv *serverProc, backendAddr, user, pass string) {
	var mu sync.Mutex
	received := map[string]bool{}
	b, err := simulator.Connect(ctx, simulator.ClientConfig{Addr: backendAddr, ClientID: "backend-" + strconv.FormatInt(time.Now().UnixNano(), 36), Username: user, Password: pass})
	Expect(err).NotTo(HaveOccurred())
	defer b.Disconnect(100)
	tok := b.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		received[m.Topic()+" "+string(m.Payload())] = true
		mu.Unlock()
	})
	Expect(tok.WaitTimeout(10 * time.Second)).To(BeTrue())
	Expect(tok.Error()).NotTo(HaveOccurred())

	want := map[string]bool{}
	errs := make(chan error, len(set.Devices))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for _, d := range set.Devices {
		want["devices/"+d.ID+"/telemetry hello from "+d.ID] = true
		wg.Add(1)
		go func(d fixtures.Device) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
			if err != nil {
				errs <- err
				return
			}
			c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: srv.addr(string(d.Profile)), ClientID: d.ID, Username: user, Password: pass})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", d.ID, err)
				return
			}
			defer c.Disconnect(20)
			t := c.Publish("devices/"+d.ID+"/telemetry", 1, false, "hello from "+d.ID)
			if !t.WaitTimeout(20*time.Second) || t.Error() != nil {
				errs <- fmt.Errorf("%s: publish: %v", d.ID, t.Error())
			}
		}(d)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			GinkgoWriter.Println("server exit code:", srv.session.ExitCode())
			resp, herr := http.Get("http://" + srv.addr("metrics") + "/metrics")
			GinkgoWriter.Println("metrics:", herr)
			if herr == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for _, l := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(l, "shakedown_") && !strings.Contains(l, "_bucket") {
						GinkgoWriter.Println(l)
					}
				}
			}
		}
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(want).To(HaveLen(len(set.Devices)))
	Eventually(func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		return maps(received)
	}).WithTimeout(20 * time.Second).Should(Equal(want))
}

var _ = Describe("shakedown serve as a process, bridged into a real mosquitto", Ordered, func() {
	It("serves 100 paho devices per profile, and a subscriber on mosquitto receives every message", func() {
		// The shared broker's address says that mosquitto is there; the
		// spec runs one of its own (below).
		if os.Getenv("SHAKEDOWN_MOSQUITTO_ADDR") == "" {
			if os.Getenv("SHAKEDOWN_REQUIRE_MOSQUITTO") == "1" {
				Fail("SHAKEDOWN_MOSQUITTO_ADDR is empty but SHAKEDOWN_REQUIRE_MOSQUITTO=1")
			}
			Skip("no mosquitto: run through scripts/with-services.sh (make test does)")
		}
		dir, err := os.MkdirTemp("", "shakedown-bridge")
		Expect(err).NotTo(HaveOccurred())
		defer os.RemoveAll(dir)
		// A mosquitto of this spec's own: the bridge package's specs
		// connect the same fixture device IDs to the shared one at the same
		// time, and mosquitto disconnects a client when another connects
		// with its client ID.
		addr := ownMosquitto()
		_, err = fixtures.Generate(filepath.Join(dir, "fx"), fixtures.Options{Seed: "bridge-process", DevicesPerProfile: 100})
		Expect(err).NotTo(HaveOccurred())
		set, err := fixtures.Load(filepath.Join(dir, "fx"))
		Expect(err).NotTo(HaveOccurred())
		srv := startServer(dir, "--broker", "tcp://"+addr, "--backend", "")
		defer func() { srv.session.Kill().Wait(5 * time.Second) }()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		fleetDelivers(ctx, set, srv, addr, "", "")
		Expect(srv.session.Command.Process.Signal(syscall.SIGTERM)).To(Succeed())
		Eventually(srv.session).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
	})
})

func maps(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ownMosquitto starts a mosquitto broker with scripts/mosquitto.sh under a
// state file of its own, stops it when the spec ends, and returns its
// address.
func ownMosquitto() string {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "mosquitto.sh"))
	Expect(err).NotTo(HaveOccurred())
	stateDir, err := os.MkdirTemp("", "shakedown-own-mosquitto")
	Expect(err).NotTo(HaveOccurred())
	state := filepath.Join(stateDir, "mosquitto.state")
	env := append(os.Environ(), "SHAKEDOWN_MOSQUITTO_STATE="+state)
	DeferCleanup(func() {
		defer os.RemoveAll(stateDir)
		if _, err := os.Stat(state); err != nil {
			return // never started
		}
		stop := exec.Command(script, "stop")
		stop.Env, stop.Stdout, stop.Stderr = env, GinkgoWriter, GinkgoWriter
		Expect(stop.Run()).To(Succeed())
		_, err := os.Stat(state)
		Expect(err).To(MatchError(os.ErrNotExist), "the stopped broker's state file is gone")
	})
	start := exec.Command(script, "start")
	start.Env, start.Stderr = env, GinkgoWriter
	out, err := start.Output()
	Expect(err).NotTo(HaveOccurred(), "starting a mosquitto of the spec's own")
	return strings.TrimSpace(string(out))
}
