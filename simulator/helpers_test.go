package simulator_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/server"
	"shakedown/server/servertest"
	"shakedown/simulator"
)

// Backend credentials of the in-process gateways.
const (
	backendUser = "backend"
	backendPass = "s3cret"
)

// gateway is an in-process reference server: every profile's listener and
// the embedded broker with a backend listener.
type gateway struct{ *servertest.Server }

func startGateway(set *fixtures.Set, limits server.Limits) gateway {
	srv, err := servertest.Start(servertest.Options{Devices: set.Records(), Passwords: set.Passwords(),
		NoiseCurrent: set.NoiseCurrent, Certificate: set.Broker, Limits: limits,
		BackendUser: backendUser, BackendPassword: backendPass})
	Expect(err).NotTo(HaveOccurred())
	return gateway{srv}
}

// addrs returns the listeners' addresses as a scenario names them.
func (g gateway) addrs() map[string]string {
	out := map[string]string{}
	for p, a := range g.Addrs() {
		out[string(p)] = a
	}
	return out
}

// scenario is a small gateway fleet with end-to-end measurement. Its
// deadlines are a minute: the specs count what happens, and a loaded
// machine may take seconds for what takes milliseconds on a quiet one. The
// drain ends as soon as every acknowledged message has arrived.
func (g gateway) scenario(devices int) simulator.Scenario {
	sc := simulator.DefaultScenario()
	sc.Devices = devices
	sc.Rate = 400
	sc.Hold = 600 * time.Millisecond
	sc.PublishInterval = 200 * time.Millisecond
	sc.Gateway = g.addrs()
	sc.Backend = simulator.Backend{Addr: g.Backend(), Username: backendUser, Password: backendPass}
	sc.Fixtures = simulator.Fixtures{Seed: "unused: Config.Set is given"}
	sc.Timeouts = simulator.Timeouts{Handshake: time.Minute, Ack: time.Minute, Drain: time.Minute}
	return sc
}

// proxy forwards TCP connections to a target, records the source address
// of each, and can cut every connection at once.
type proxy struct {
	ln     net.Listener
	target string

	admit func() bool // nil: every connection

	mu      sync.Mutex
	sources map[string]int
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func startProxy(target string) *proxy { return startProxyWith(target, nil) }

// startProxyWith is a proxy that closes a connection at once unless admit
// lets it through.
func startProxyWith(target string, admit func() bool) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	p := &proxy{ln: ln, target: target, admit: admit, sources: map[string]int{}, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.admit != nil && !p.admit() {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.sources[c.RemoteAddr().(*net.TCPAddr).IP.String()]++
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut closes every connection in progress.
func (p *proxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	return len(p.conns) / 2
}

func (p *proxy) seen() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.sources {
		out[k] = v
	}
	return out
}

func (p *proxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// tlsBroker is a plain mochi broker with an MQTT-over-TLS listener that
// lets every client in: a stand-in for "any broker".
func tlsBroker(cert tls.Certificate) (addr string, stop func()) {
	srv := mqttserver.New(&mqttserver.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	Expect(srv.AddHook(new(allowAll), nil)).To(Succeed())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr = ln.Addr().String()
	ln.Close()
	l := listeners.NewTCP(listeners.Config{ID: "tls", Address: addr,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}})
	Expect(srv.AddListener(l)).To(Succeed())
	Expect(srv.Serve()).To(Succeed())
	return addr, func() { Expect(srv.Close()).To(Succeed()) }
}

// freeAddr is an address where nothing listens.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	a := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return a
}

// canBind reports whether this host answers on ip (loopback aliases).
func canBind(ip string) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func run(ctx context.Context, cfg simulator.Config) *simulator.Results {
	res, err := simulator.Run(ctx, cfg)
	Expect(err).NotTo(HaveOccurred())
	return res
}

// runAsync runs the fleet in a goroutine and hands its results over.
func runAsync(ctx context.Context, cfg simulator.Config) <-chan *simulator.Results {
	done := make(chan *simulator.Results, 1)
	go func() {
		defer GinkgoRecover()
		done <- run(ctx, cfg)
	}()
	return done
}

// interrupt cancels a run of runAsync and returns its interrupted results.
func interrupt(cancel context.CancelFunc, done <-chan *simulator.Results) *simulator.Results {
	cancel()
	var res *simulator.Results
	Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&res))
	Expect(res.Interrupted).To(BeTrue())
	return res
}

func total(r *simulator.Results, st simulator.Stage) int64 {
	if s, ok := r.Histograms[string(st)]; ok {
		return s.Total
	}
	return 0
}

// allowAll lets every client connect and use every topic.
type allowAll struct{ mqttserver.HookBase }

func (*allowAll) ID() string { return "allow-all" }

func (*allowAll) Provides(b byte) bool {
	return b == mqttserver.OnConnectAuthenticate || b == mqttserver.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mqttserver.Client, packets.Packet) bool { return true }
func (*allowAll) OnACLCheck(*mqttserver.Client, string, bool) bool              { return true }
