package app_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"shakedown/fixtures"
	"shakedown/handshake"
)

// BenchmarkHostile (make bench-hostile) runs each attack of issue 13
// against a `shakedown serve` of its own, with default settings (only the
// addresses are the benchmark's), and measures the same legitimate load
// before the attack, quiet, and during it: noise handshakes and tls
// devices' CONNACKs (mutual TLS), each from a loopback address of its own.
// It prints one table, Markdown, and reports the figures under attack as
// the sub-benchmarks' metrics. The attackers run in processes of their own
// (hostile_test.go). One run takes about four minutes.
//
//	go test -run '^$' -bench '^BenchmarkHostile$' -benchtime 1x ./server/app
func BenchmarkHostile(b *testing.B) {
	RegisterFailHandler(func(message string, _ ...int) { b.Fatal(message) })
	lab := newBenchLab(b)
	var rows []hostileRow
	for _, a := range hostileAttacks {
		b.Run(a.name, func(b *testing.B) {
			RegisterFailHandler(func(message string, _ ...int) { b.Fatal(message) })
			var r hostileRow
			for range b.N {
				r = lab.run(b, a)
			}
			rows = append(rows, r)
			b.ReportMetric(r.under.noise.okPercent(), "noise-ok-%")
			b.ReportMetric(ms(r.under.noise.p99()), "noise-p99-ms")
			b.ReportMetric(r.under.tls.okPercent(), "tls-ok-%")
			b.ReportMetric(ms(r.under.tls.p99()), "tls-p99-ms")
			b.ReportMetric(float64(r.under.rssGrowthKiB)/1024, "rss-growth-MiB")
			b.ReportMetric(r.under.cores, "server-cores")
		})
	}
	writeHostileTable(os.Stdout, lab.loadBefore, rows)
}

// The benchmark's load. Devices of the fixture set by use, per profile:
// the legitimate ones first, then the attackers'.
const (
	benchDevices    = 500                   // fixture devices per profile
	benchLegitimate = 150                   // noise handshakes, and as many tls CONNACKs, per phase
	benchInterval   = 30 * time.Millisecond // one legitimate connection starts this often, noise and tls in turn
	benchWarmUp     = 5                     // connections of each profile before the quiet phase, not measured
	attackWithin    = 3 * time.Minute       // no attack lasts longer
	attackRoundsMax = 1000                  // attempts per attacker at most

	passwordPool   = 150 // tls devices [150, 200): the machine-password targets
	hostilePool    = 150 // noise devices [150, 170): the compromised devices
	hostileDevices = 20
	noConnectPool  = 200 // noise devices [200, 500), tls devices [200, 230)
	halfOpenSocks  = 2000
	halfOpenSrcs   = 200
	noConnectTLS   = 30 // tls devices, with noConnectEach sessions each
	noConnectEach  = 10
	noConnectSrcs  = 60
)

// hostileAttack is one row pair of the table: an attack, started against
// srv once the quiet phase is over. start returns once the attack is in
// full swing; stop ends it and sums up what the attacker saw.
type hostileAttack struct {
	name  string // the sub-benchmark's
	what  string // the table's
	start func(l *benchLab, b *testing.B, srv *serverProc) (stop func() string)
}

var hostileAttacks = []hostileAttack{
	{"wrong-passwords", fmt.Sprintf("%s wrong-password TLS CONNECT loops, one address each", thousands(attackers)), (*benchLab).wrongPasswords},
	{"one-source-flood", fmt.Sprintf("%s sockets from one address, one byte and a reconnect every %d ms",
		thousands(floodSockets), floodCycle.Milliseconds()), (*benchLab).oneSourceFlood},
	{"half-open", fmt.Sprintf("%s silent sockets from %s addresses, reconnecting when closed",
		thousands(halfOpenSocks), thousands(halfOpenSrcs)), (*benchLab).halfOpen},
	{"hostile-ids", fmt.Sprintf("%s compromised noise devices naming others, and unknown keys", thousands(hostileDevices)), (*benchLab).hostileIDs},
	{"no-connect", fmt.Sprintf("%s sessions that never send CONNECT, from %s addresses",
		thousands(benchDevices-noConnectPool+noConnectTLS*noConnectEach), thousands(noConnectSrcs)), (*benchLab).noConnect},
}

// benchLab is what every attack's run shares: the binary, the fixture set
// and a registry holding it and the imported human accounts.
type benchLab struct {
	dir, reg   string
	set        *fixtures.Set
	humans     []string
	ctx        context.Context
	logs       io.Writer // the servers' and attackers' output
	loadBefore string
}

func newBenchLab(b *testing.B) *benchLab {
	l := &benchLab{dir: b.TempDir(), loadBefore: loadAverage()}
	binary = buildBinary(b.TempDir())
	_, err := fixtures.Generate(filepath.Join(l.dir, "fx"), fixtures.Options{Seed: "bench-hostile", DevicesPerProfile: benchDevices})
	Expect(err).NotTo(HaveOccurred())
	l.set, err = fixtures.Load(filepath.Join(l.dir, "fx"))
	Expect(err).NotTo(HaveOccurred())
	l.reg = "sqlite:" + filepath.Join(l.dir, "registry.db")
	l.humans = importHumanAccounts(l.dir, l.reg, humanAccounts)
	out, err := os.Create(filepath.Join(l.dir, "output.log"))
	Expect(err).NotTo(HaveOccurred())
	b.Cleanup(func() { out.Close() })
	l.logs = out
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	b.Cleanup(cancel)
	l.ctx = ctx
	return l
}

// hostileRow is one attack's measurements.
type hostileRow struct {
	attack       hostileAttack
	quiet, under phase
	attacker     string // what the attacker saw
	counted      string // what the server counted during the attack
}

// phase is the legitimate load's outcomes during a phase, and the
// server's resources.
type phase struct {
	noise, tls   handshakes
	rssGrowthKiB int
	exactPeak    bool // the peak is of the phase alone (resetPeakRSS)
	cores        float64
	load         string // the machine's load average over a minute, at the phase's end
}

// run runs attack a against a server of its own.
func (l *benchLab) run(b *testing.B, a hostileAttack) hostileRow {
	srv := launchServer(l.dir, l.logs, "serve", "--fixtures", filepath.Join(l.dir, "fx"), "--registry", l.reg,
		"--listen-noise", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--backend", "127.0.0.1:0",
		"--backend-password", backendPassword, "--metrics", "127.0.0.1:0")
	defer func() { srv.session.Kill().Wait(5 * time.Second) }()
	l.legitimate(srv, benchWarmUp, 0)

	r := hostileRow{attack: a}
	w := openWindow(srv)
	noise, tls := l.legitimate(srv, benchLegitimate, benchInterval)
	r.quiet = w.close(noise, tls)

	before := refusals(srv)
	w = openWindow(srv)
	stop := a.start(l, b, srv)
	noise, tls = l.legitimate(srv, benchLegitimate, benchInterval)
	r.attacker = stop()
	r.under = w.close(noise, tls)
	r.counted = countsString(diffCounts(refusals(srv), before))
	return r
}

// legitimate runs n noise handshakes and n tls CONNACKs, in turn, one
// every interval, each from a source address of its own.
func (l *benchLab) legitimate(srv *serverProc, n int, interval time.Duration) (noise, tls handshakes) {
	noiseDevs, tlsDevs := l.set.DevicesOf(handshake.Noise), l.set.DevicesOf(handshake.TLS)
	tries := legitimately(2*n, interval, func(i int) try {
		if i%2 == 0 {
			return noiseTry(l.ctx, l.set, noiseDevs[i/2], srv.addr("noise"), legitSource())
		}
		return tlsTry(l.ctx, l.set, tlsDevs[i/2], srv.addr("tls"), legitSource())
	})
	var n0, t0 []try
	for i, t := range tries {
		if i%2 == 0 {
			n0 = append(n0, t)
		} else {
			t0 = append(t0, t)
		}
	}
	return summarize(n0), summarize(t0)
}

func (l *benchLab) plan(b *testing.B, p attackPlan) func() string {
	p.Within = attackWithin
	p.Rounds = attackRoundsMax
	atk := startAttack(p, l.logs)
	b.Cleanup(atk.kill)
	atk.started()
	return func() string { return outcomesString(atk.stop()) }
}

func (l *benchLab) wrongPasswords(b *testing.B, srv *serverProc) func() string {
	machine := l.set.DevicesOf(handshake.TLS)[passwordPool:noConnectPool]
	return l.plan(b, attackPlan{Kind: attackPasswords, Listeners: map[handshake.Name]string{handshake.TLS: srv.addr("tls")},
		Targets: passwordTargets(attackers, l.humans, machine)})
}

func (l *benchLab) oneSourceFlood(b *testing.B, srv *serverProc) func() string {
	f := startFlood(srv.addr("noise"), "127.0.0.1", floodSockets, floodCycle, l.logs)
	b.Cleanup(f.stop)
	f.inFullSwing(srv, floodSockets)
	n0, t0 := f.connects(), time.Now()
	return func() string {
		rate := float64(f.connects()-n0) / time.Since(t0).Seconds()
		f.stop()
		return fmt.Sprintf("%s connections, %s a second while measured", thousands(int(f.connects())), thousands(int(rate)))
	}
}

func (l *benchLab) halfOpen(b *testing.B, srv *serverProc) func() string {
	stop := l.plan(b, attackPlan{Kind: attackHalfOpen, Sockets: halfOpenSocks, Sources: halfOpenSrcs, Cycle: time.Second,
		Listeners: map[handshake.Name]string{handshake.Noise: srv.addr("noise"), handshake.TLS: srv.addr("tls")}})
	// The table is full (serve's default --max-half-open, 1,024).
	Eventually(func() float64 { return srv.metric("shakedown_half_open_handshakes") }).
		WithTimeout(30 * time.Second).Should(BeNumerically(">=", 1000))
	return stop
}

func (l *benchLab) hostileIDs(b *testing.B, srv *serverProc) func() string {
	var compromised, victims []string
	for _, d := range l.set.DevicesOf(handshake.Noise)[hostilePool : hostilePool+hostileDevices] {
		compromised = append(compromised, d.ID)
	}
	// The legitimate devices of both profiles, which connect meanwhile.
	for _, p := range []handshake.Name{handshake.Noise, handshake.TLS} {
		for _, d := range l.set.DevicesOf(p)[:10] {
			victims = append(victims, d.ID)
		}
	}
	return l.plan(b, attackPlan{Kind: attackHostileIDs, Targets: compromised, Victims: victims, Fixtures: filepath.Join(l.dir, "fx"),
		Cycle: 100 * time.Millisecond, Listeners: map[handshake.Name]string{handshake.Noise: srv.addr("noise")}})
}

func (l *benchLab) noConnect(b *testing.B, srv *serverProc) func() string {
	var targets []string
	for _, d := range l.set.DevicesOf(handshake.Noise)[noConnectPool:] {
		targets = append(targets, d.ID)
	}
	for _, d := range l.set.DevicesOf(handshake.TLS)[noConnectPool : noConnectPool+noConnectTLS] {
		for range noConnectEach {
			targets = append(targets, d.ID) // a tls session needs no counter: one device may hold many
		}
	}
	return l.plan(b, attackPlan{Kind: attackNoConnect, Targets: targets, Sources: noConnectSrcs, Fixtures: filepath.Join(l.dir, "fx"),
		Cycle: time.Second, Listeners: map[handshake.Name]string{handshake.Noise: srv.addr("noise"), handshake.TLS: srv.addr("tls")}})
}

// window measures the server's resources from its opening to its close.
type window struct {
	srv   *serverProc
	rss0  int
	exact bool
	cpu0  time.Duration
	t0    time.Time
}

func openWindow(srv *serverProc) window {
	return window{srv: srv, rss0: srv.rssKiB(), exact: srv.resetPeakRSS(), cpu0: srv.cpuTime(), t0: time.Now()}
}

func (w window) close(noise, tls handshakes) phase {
	// The peak is at least the RSS at the opening; the RSS read just before
	// the reset may be a little above it.
	return phase{noise: noise, tls: tls, rssGrowthKiB: max(0, w.srv.peakRSSKiB()-w.rss0), exactPeak: w.exact,
		cores: (w.srv.cpuTime() - w.cpu0).Seconds() / time.Since(w.t0).Seconds(), load: strings.Fields(loadAverage())[0]}
}

// loadAverage returns the machine's load averages over 1, 5 and 15
// minutes (proc(5) loadavg).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// refusals returns the server's counts of what it refused or failed, and
// why: handshakes, MQTT packets and sessions, transport records, password
// checks and accepts, each by profile (or scheme, or listener) and reason.
func refusals(srv *serverProc) map[string]float64 {
	samples, err := srv.scrape()
	Expect(err).NotTo(HaveOccurred())
	kinds := map[string]string{
		"shakedown_handshakes_total":           "handshake",
		"shakedown_mqtt_refused_total":         "mqtt",
		"shakedown_transport_failures_total":   "transport",
		"shakedown_mqtt_password_checks_total": "password",
		"shakedown_accept_errors_total":        "accept error",
	}
	counts := map[string]float64{}
	for _, s := range samples {
		name, labels := parseSeries(s.series)
		kind, ok := kinds[name]
		if !ok || labels["result"] == "ok" {
			continue
		}
		key := kind
		for _, l := range []string{"profile", "scheme", "listener", "result", "reason"} {
			if v := labels[l]; v != "" {
				key += " " + v
			}
		}
		counts[key] += s.value
	}
	return counts
}

// parseSeries splits a sample's series, name{label="value",...}, into the
// name and the labels. Label values of these metrics hold no '"' or ','.
func parseSeries(series string) (string, map[string]string) {
	name, rest, ok := strings.Cut(series, "{")
	labels := map[string]string{}
	if !ok {
		return name, labels
	}
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			labels[k] = strings.Trim(v, `"`)
		}
	}
	return name, labels
}

func diffCounts(after, before map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		if v-before[k] > 0 {
			d[k] = v - before[k]
		}
	}
	return d
}

// countsString lists counts, the largest first.
func countsString(c map[string]float64) string {
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c[a] != c[b] {
			if c[a] > c[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+thousands(int(c[k])))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func outcomesString(o map[string]int) string {
	c := map[string]float64{}
	for k, v := range o {
		c[k] = float64(v)
	}
	return countsString(c)
}

func (h handshakes) okPercent() float64 {
	if h.n == 0 {
		return 0
	}
	return 100 * float64(h.ok) / float64(h.n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latency formats a duration for the table: milliseconds, tenths below 10.
func latency(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return "-" // no success to measure
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", ms(d))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", ms(d))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// writeHostileTable prints the rows as a Markdown table, then what each
// attacker saw and what the server counted.
func writeHostileTable(w io.Writer, loadBefore string, rows []hostileRow) {
	fmt.Fprintf(w, "\n%s, %d CPUs, load average before (1, 5, 15 min): %s. Per phase, %d legitimate noise handshakes and %d tls CONNACKs (mutual TLS), one every %d ms in turn.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), loadBefore, benchLegitimate, benchLegitimate, benchInterval.Milliseconds())
	fmt.Fprintln(w, "| attack | phase | noise ok | noise p50 / p99 | tls ok | tls CONNACK p50 / p99 | server RSS growth | server CPU | load (1 min) |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for i, r := range rows {
		for _, p := range []struct {
			name string
			ph   phase
		}{{"quiet", r.quiet}, {"attack", r.under}} {
			what := ""
			if p.name == "quiet" {
				what = fmt.Sprintf("%d. %s", i+1, r.attack.what)
			}
			growth := fmt.Sprintf("%.0f MiB", float64(p.ph.rssGrowthKiB)/1024)
			if !p.ph.exactPeak {
				growth = "≤ " + growth
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s / %s | %s | %s / %s | %s | %.2f cores | %s |\n", what, p.name,
				okString(p.ph.noise), latency(p.ph.noise.p(0.5)), latency(p.ph.noise.p99()),
				okString(p.ph.tls), latency(p.ph.tls.p(0.5)), latency(p.ph.tls.p99()),
				growth, p.ph.cores, p.ph.load)
		}
	}
	fmt.Fprintln(w)
	for i, r := range rows {
		fmt.Fprintf(w, "%d. %s\n   attacker: %s\n   server counted: %s\n", i+1, r.attack.name, r.attacker, r.counted)
		for _, h := range []struct {
			name string
			h    handshakes
		}{{"noise", r.under.noise}, {"tls", r.under.tls}} {
			if len(h.h.failures) > 0 {
				fmt.Fprintf(w, "   legitimate %s failures under attack: %v\n", h.name, h.h.failures)
			}
		}
	}
}

// thousands writes n with a comma between thousands.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func okString(h handshakes) string {
	return fmt.Sprintf("%d/%d", h.ok, h.n)
}
