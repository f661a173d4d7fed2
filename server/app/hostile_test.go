package app_test

// The attackers of issue 13 and the measurements that the hostile specs
// and BenchmarkHostile share.
//
// Every attacker runs in a process of its own: the test binary run again,
// as os/exec's tests run their helpers. Its goroutines then share the
// machine with the server, as an attacker's would, but not a Go scheduler
// with the legitimate devices being timed: in the suite's own process a
// thousand attacking goroutines would queue the devices' goroutines behind
// theirs, and the figures would measure the test's scheduler instead of
// the server.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/credential"
	"shakedown/server/registry"
	"shakedown/simulator"
)

// ---- The server's resources (proc(5)) ----

// statusKiB returns a field of the server's /proc/PID/status in KiB.
func (p *serverProc) statusKiB(field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.session.Command.Process.Pid))
	Expect(err).NotTo(HaveOccurred())
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(b)
	Expect(m).NotTo(BeNil(), field)
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// rssKiB returns the server's resident memory.
func (p *serverProc) rssKiB() int { return p.statusKiB("VmRSS") }

// peakRSSKiB returns the server's resident high-water mark.
func (p *serverProc) peakRSSKiB() int { return p.statusKiB("VmHWM") }

// resetPeakRSS sets the high-water mark to the current RSS (proc(5),
// clear_refs "5"). It reports false where the kernel does not allow it:
// the peak then includes the server's start, an overestimate of growth.
func (p *serverProc) resetPeakRSS() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.session.Command.Process.Pid), []byte("5"), 0) == nil
}

// cpuTime returns the server's user and system CPU time (proc(5) stat,
// fields 14 and 15, in clock ticks of 1/100 s on Linux).
func (p *serverProc) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.session.Command.Process.Pid))
	Expect(err).NotTo(HaveOccurred())
	// The command name, field 2, may hold spaces: count from its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// ---- Legitimate devices ----

// try is one legitimate connection: its time from the start of its TCP
// connect to its end (message 2 of a handshake, or a CONNACK), the TCP
// connect's own share of it, and its error.
type try struct {
	d, connect time.Duration
	err        error
}

// legitimately runs connect(0) to connect(n-1), each in a goroutine of its
// own, starting one every interval (all at once when 0), and returns their
// outcomes in order.
func legitimately(n int, interval time.Duration, connect func(i int) try) []try {
	tries := make([]try, n)
	var wg sync.WaitGroup
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for i := range n {
		if tick != nil {
			<-tick
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tries[i] = connect(i)
		}()
	}
	wg.Wait()
	return tries
}

// noiseTry runs device d's noise handshake from src and measures it from
// the start of its TCP connect to its message 2.
func noiseTry(ctx context.Context, set *fixtures.Set, d fixtures.Device, addr string, src net.IP) try {
	dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
	if err != nil {
		return try{err: err}
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	raw, err := dialer.DialContext(hctx, "tcp", addr)
	connected := time.Since(start)
	if err != nil {
		return try{time.Since(start), connected, handshake.Fail(handshake.Noise, handshake.StageDial, "", err)}
	}
	defer raw.Close()
	conn, err := dev.Handshake(hctx, raw)
	took := time.Since(start)
	if err == nil {
		conn.Close()
	}
	return try{took, connected, err}
}

// tlsTry connects tls device d from src with its client certificate and
// measures it from the start of its TCP connect to its CONNACK.
func tlsTry(ctx context.Context, set *fixtures.Set, d fixtures.Device, addr string, src net.IP) try {
	dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
	if err != nil {
		return try{err: err}
	}
	var steps simulator.ConnectTimings
	start := time.Now()
	c, err := simulator.Connect(ctx, simulator.ClientConfig{Device: dev, Addr: addr, ClientID: d.ID,
		HandshakeTimeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: src}, KeepAlive: -1, Timings: &steps})
	took := time.Since(start)
	if err == nil {
		c.Disconnect(0)
	}
	var connected time.Duration
	if !steps.Dialed.IsZero() {
		connected = steps.Dialed.Sub(steps.DialStart)
	}
	return try{took, connected, err}
}

// handshakes are the outcomes of a run of legitimate connections.
type handshakes struct {
	n, ok     int
	durations []time.Duration // of the successful ones, sorted
	connect   time.Duration   // the longest TCP connect of them
	failures  map[string]int
}

// summarize gathers tries into their outcomes.
func summarize(tries []try) handshakes {
	h := handshakes{failures: map[string]int{}}
	for _, r := range tries {
		h.n++
		if r.err != nil {
			// A handshake's reason code; "mqtt" for a session that got
			// no CONNACK after its handshake.
			reason := "mqtt"
			if he := (*handshake.Error)(nil); errors.As(r.err, &he) {
				reason = string(he.Reason)
			}
			h.failures[reason]++
			continue
		}
		h.ok++
		h.durations = append(h.durations, r.d)
		h.connect = max(h.connect, r.connect)
	}
	slices.Sort(h.durations)
	return h
}

func (h handshakes) p(q float64) time.Duration {
	if len(h.durations) == 0 {
		return time.Hour
	}
	return h.durations[min(len(h.durations)-1, int(q*float64(len(h.durations))))]
}

func (h handshakes) p99() time.Duration { return h.p(0.99) }

func (h handshakes) String() string {
	return fmt.Sprintf("%d of %d handshakes succeeded (%.1f %%), p50 %v, p99 %v, max %v (of which TCP connect at most %v), failures %v",
		h.ok, h.n, 100*float64(h.ok)/float64(h.n), h.p(0.5).Round(time.Millisecond), h.p99().Round(time.Millisecond),
		h.p(1).Round(time.Millisecond), h.connect.Round(time.Millisecond), h.failures)
}

// legitimateHandshakes runs one noise handshake per device, from source
// loopback addresses 127.0.0.2 onwards, starting one every interval (all
// at once when 0), and measures each from the start of its TCP connect to
// its message 2.
func legitimateHandshakes(ctx context.Context, set *fixtures.Set, devs []fixtures.Device, addr string, sources int, interval time.Duration) handshakes {
	return summarize(legitimately(len(devs), interval, func(i int) try {
		return noiseTry(ctx, set, devs[i], addr, net.IPv4(127, 0, 0, byte(2+i%sources)))
	}))
}

// legitSource hands out a source address of its own to every legitimate
// connection, in 127.1.0.0/16: none of them shares an address with the
// attack or, should per-source limits count them, with each other.
var legitSource = func() func() net.IP {
	var mu sync.Mutex
	n := 0
	return func() net.IP {
		mu.Lock()
		defer mu.Unlock()
		n++
		return net.IPv4(127, 1, byte(n/250), byte(1+n%250))
	}
}()

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// ---- Passwords ----

// connectPacket is an MQTT 3.1.1 CONNECT as id with password.
func connectPacket(id string, password []byte) ([]byte, error) {
	pk := mochi.Packet{FixedHeader: mochi.FixedHeader{Type: mochi.Connect}, ProtocolVersion: 4,
		Connect: mochi.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30,
			ClientIdentifier: id, UsernameFlag: true, Username: []byte(id), PasswordFlag: true, Password: password}}
	var b bytes.Buffer
	err := pk.ConnectEncode(&b)
	return b.Bytes(), err
}

// connackLen is a CONNACK of MQTT 3.1.1 (§3.2): 1B type, 1B remaining
// length 2, 1B flags, 1B return code.
const connackLen = 4

// passwordClient speaks TLS without a client certificate from a source
// address of its own, as a device that logs in with a password does.
type passwordClient struct {
	addr   string
	source net.IP
}

// dial opens a TLS session to the tls listener. It offers X25519 alone,
// as an attacker who pays for its own handshakes would (crypto/tls would
// add an ML-KEM-768 key share): the spec measures the password check, not
// a handshake flood, and its attackers share the server's two cores.
func (c passwordClient) dial(ctx context.Context) (*tls.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: c.source}}
	raw, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519}})
	if dl, ok := ctx.Deadline(); ok {
		tc.SetDeadline(dl)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

// login sends a CONNECT on tc and returns the CONNACK's return code and
// the time from the CONNECT's write to the CONNACK.
func login(tc *tls.Conn, id string, password []byte) (byte, time.Duration, error) {
	pkt, err := connectPacket(id, password)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if _, err := tc.Write(pkt); err != nil {
		return 0, 0, err
	}
	var ack [connackLen]byte
	if _, err := io.ReadFull(tc, ack[:]); err != nil {
		return 0, 0, err
	}
	took := time.Since(start)
	if ack[0] != mochi.Connack<<4 || ack[1] != 2 {
		return 0, took, errors.New("not a CONNACK")
	}
	return ack[3], took, nil
}

// attackStepBudget bounds one attacker's connect, handshake and CONNECT.
const attackStepBudget = 10 * time.Second

// attempt is one wrong-password CONNECT on a new TLS session.
func attempt(c passwordClient, id string, password []byte) string {
	ctx, cancel := context.WithTimeout(context.Background(), attackStepBudget)
	defer cancel()
	tc, err := c.dial(ctx)
	if err != nil {
		return "no answer"
	}
	defer tc.Close()
	code, _, err := login(tc, id, password)
	switch {
	case err != nil:
		return "no answer"
	case code == mochi.CodeSuccess.Code:
		return "ACCEPTED"
	}
	return "refused"
}

// humanPassword is the password of every imported argon2id account.
const humanPassword = "a human password"

// importHumanAccounts imports n argon2id accounts (human-NN, the costly
// kind: 19 MiB and two passes each) and mosquitto_passwd's file into the
// registry, as an operator imports human-chosen passwords, and returns the
// accounts' IDs. dir holds the accounts' file.
func importHumanAccounts(dir, reg string, n int) []string {
	hash, err := credential.HashArgon2id([]byte(humanPassword))
	Expect(err).NotTo(HaveOccurred())
	var ids []string
	var jsonl bytes.Buffer
	for i := range n {
		id := fmt.Sprintf("human-%02d", i)
		ids = append(ids, id)
		b, err := json.Marshal(registry.Device{ID: id, Profile: handshake.TLS, PasswordHash: hash})
		Expect(err).NotTo(HaveOccurred())
		jsonl.Write(append(b, '\n'))
	}
	accounts := filepath.Join(dir, "humans.jsonl")
	Expect(os.WriteFile(accounts, jsonl.Bytes(), 0o600)).To(Succeed())
	for _, args := range [][]string{
		{"devices", "import", accounts, "--registry", reg},
		{"devices", "import", "--mosquitto", filepath.Join("..", "credential", "testdata", "mosquitto.passwd"), "--registry", reg},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	}
	return ids
}

// passwordTargets are the IDs of n password attackers: half imported
// argon2id accounts (the slow path), a quarter known machine-password
// devices, a quarter unknown IDs.
func passwordTargets(n int, humans []string, machine []fixtures.Device) []string {
	var ids []string
	for i := range n {
		switch i % 4 {
		case 0, 1:
			ids = append(ids, humans[i%len(humans)])
		case 2:
			ids = append(ids, machine[i%len(machine)].ID)
		default:
			ids = append(ids, fmt.Sprintf("nobody-%03d", i))
		}
	}
	return ids
}

// ---- The attacker's process ----

// The attacker's process is the test binary run again for
// TestHostileAttacker with its attackPlan in the environment.
const (
	attackerEnv   = "SHAKEDOWN_HOSTILE_ATTACK" // the attackPlan, JSON
	attackStarted = "every attacker has made its first attempt"
)

// Kinds of attack (attackPlan.Kind).
const (
	// attackPasswords: wrong-password CONNECTs, a new TLS session each.
	attackPasswords = "passwords"
	// attackHalfOpen: silent sockets, each held until the server closes it.
	attackHalfOpen = "half-open"
	// attackHostileIDs: noise handshakes with unknown static keys, and a
	// compromised device's sessions naming other devices or wildcards.
	attackHostileIDs = "hostile-ids"
	// attackNoConnect: sessions that finish their handshake and never
	// send a CONNECT, each held until the server closes it.
	attackNoConnect = "no-connect"
)

// attackPlan is what the attacker's process does: its attackers, each from
// a loopback address, make at most Rounds attempts each, until the attack
// has lasted Within or its stdin closes.
type attackPlan struct {
	Kind string
	// Listeners are the server's addresses attacked, by profile.
	Listeners map[handshake.Name]string
	// Targets are the IDs of the attackers, one each: the ID whose
	// password is guessed (passwords), the compromised device
	// (hostile-ids), or the device whose handshake is run (no-connect; a
	// tls device may stand several times).
	Targets []string
	// Sockets is how many half-open attackers there are, over the
	// listeners in turn.
	Sockets int
	// Victims are the IDs a compromised device names (hostile-ids).
	Victims []string
	// Fixtures is the fixture set of the devices' keys (hostile-ids,
	// no-connect).
	Fixtures string
	// Sources: attacker i comes from loopback(i % Sources); one address
	// each when 0.
	Sources int
	Rounds  int
	// Cycle: an attacker starts an attempt at most this often (0: the
	// next at once).
	Cycle time.Duration
	// Within bounds the attack's time (0: until stdin closes).
	Within time.Duration
}

// attacker makes one attempt of its attack and returns its outcome. It
// calls contact once it has done its harm (connected a socket, finished a
// handshake); returning counts as contact too. ctx ends with the attack.
type attacker func(ctx context.Context, round int, contact func()) string

// loopback returns the i-th source address of an attack, 127.0.1.0/24 and on.
func loopback(i int) net.IP { return net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)) }

func (p attackPlan) source(i int) net.IP {
	if p.Sources > 0 {
		i %= p.Sources
	}
	return loopback(i)
}

// attackers returns the plan's attackers.
func (p attackPlan) attackers() ([]attacker, error) {
	var set *fixtures.Set
	if p.Fixtures != "" {
		var err error
		if set, err = fixtures.Load(p.Fixtures); err != nil {
			return nil, err
		}
	}
	device := func(id string) (fixtures.Device, handshake.Device, error) {
		if set == nil {
			return fixtures.Device{}, nil, errors.New("the plan names no fixture set")
		}
		d, ok := set.Device(id)
		if !ok {
			return d, nil, fmt.Errorf("no device %q in the fixture set", id)
		}
		dev, _, _, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		return d, dev, err
	}
	var as []attacker
	switch p.Kind {
	case attackPasswords:
		for i, id := range p.Targets {
			c := passwordClient{addr: p.Listeners[handshake.TLS], source: p.source(i)}
			as = append(as, func(_ context.Context, round int, _ func()) string {
				return attempt(c, id, []byte(fmt.Sprintf("guess %d", round)))
			})
		}
	case attackHalfOpen:
		var addrs []string
		for _, name := range handshake.Profiles {
			if a, ok := p.Listeners[name]; ok {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return nil, errors.New("the plan names no listener")
		}
		for i := range p.Sockets {
			dialer, addr := net.Dialer{LocalAddr: &net.TCPAddr{IP: p.source(i)}}, addrs[i%len(addrs)]
			as = append(as, silent(func(ctx context.Context) (net.Conn, error) { return dialer.DialContext(ctx, "tcp", addr) }))
		}
	case attackHostileIDs:
		if len(p.Victims) == 0 {
			return nil, errors.New("the plan names no victims")
		}
		for i, id := range p.Targets {
			d, dev, err := device(id)
			if err != nil {
				return nil, err
			}
			as = append(as, hostileIDs(set, d, dev, p.Listeners[handshake.Noise], p.source(i), p.Victims))
		}
	case attackNoConnect:
		for i, id := range p.Targets {
			d, dev, err := device(id)
			if err != nil {
				return nil, err
			}
			addr, src := p.Listeners[d.Profile], p.source(i)
			as = append(as, silent(func(ctx context.Context) (net.Conn, error) { return handshakeFrom(ctx, dev, addr, src) }))
		}
	default:
		return nil, fmt.Errorf("no attack of kind %q", p.Kind)
	}
	return as, nil
}

// attack is a running attacker's process.
type attack struct {
	session *gexec.Session
	stdin   io.WriteCloser
}

// startAttack starts the attacker's process; out receives its output. The
// caller stops it (attack.stop, or a kill at cleanup).
func startAttack(plan attackPlan, out io.Writer) *attack {
	b, err := json.Marshal(plan)
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileAttacker$")
	cmd.Env = append(os.Environ(), attackerEnv+"="+string(b))
	stdin, err := cmd.StdinPipe()
	Expect(err).NotTo(HaveOccurred())
	s, err := gexec.Start(cmd, out, out)
	Expect(err).NotTo(HaveOccurred())
	return &attack{session: s, stdin: stdin}
}

// started waits until every attacker has made its first attempt.
func (a *attack) started() {
	Eventually(a.session).WithTimeout(time.Minute).Should(gbytes.Say(attackStarted))
}

// stop ends the attack and returns its outcomes: how many attempts had
// each outcome.
func (a *attack) stop() map[string]int {
	a.stdin.Close()
	Eventually(a.session).WithTimeout(time.Minute).Should(gexec.Exit(0))
	// The outcomes are the JSON line; the test binary adds its verdict.
	for _, l := range bytes.Split(a.session.Out.Contents(), []byte("\n")) {
		if bytes.HasPrefix(l, []byte("{")) {
			var out map[string]int
			Expect(json.Unmarshal(l, &out)).To(Succeed(), "the attacker's outcomes")
			return out
		}
	}
	Expect(a.session.Out.Contents()).To(ContainSubstring("{"), "the attacker wrote no outcomes")
	return nil
}

// kill ends the attacker's process at once. Safe after stop.
func (a *attack) kill() { a.session.Kill().Wait(5 * time.Second) }

// TestHostileAttacker is the attacker's process of the hostile specs and
// BenchmarkHostile; run by itself it has nothing to do.
func TestHostileAttacker(t *testing.T) {
	raw := os.Getenv(attackerEnv)
	if raw == "" {
		t.Skip("the attacker's process of the hostile specs")
	}
	var plan attackPlan
	if err := json.Unmarshal([]byte(raw), &plan); err != nil {
		t.Fatal(err)
	}
	attackers, err := plan.attackers()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if plan.Within > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), plan.Within)
	}
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin) // until the spec closes it
		cancel()
	}()
	var mu sync.Mutex
	outcomes := map[string]int{}
	first := make(chan struct{}, len(attackers))
	var wg sync.WaitGroup
	for _, a := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			contact := func() { once.Do(func() { first <- struct{}{} }) }
			defer contact() // an attacker stopped before its first attempt
			for round := range plan.Rounds {
				if ctx.Err() != nil {
					return
				}
				next := time.Now().Add(plan.Cycle)
				outcome := a(ctx, round, contact)
				contact()
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
				if wait := time.Until(next); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-ctx.Done():
					case <-t.C:
					}
					t.Stop()
				}
			}
		}()
	}
	for range attackers {
		<-first
	}
	fmt.Println(attackStarted)
	wg.Wait()
	b, _ := json.Marshal(outcomes)
	fmt.Printf("%s\n", b)
}

// holdUntilClosed reads from c until the server closes it or ctx ends,
// and says which came first.
func holdUntilClosed(ctx context.Context, c net.Conn) string {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	// Nothing comes before the server closes: a silent client gets no
	// bytes of any profile's server.
	_, err := c.Read(make([]byte, 1))
	if ctx.Err() != nil {
		return "held until the end of the attack"
	}
	if err == nil {
		return "answered"
	}
	return "closed by the server"
}

// silent opens a connection with open, sends nothing on it, and holds it
// until the server closes it.
func silent(open func(ctx context.Context) (net.Conn, error)) attacker {
	return func(ctx context.Context, _ int, contact func()) string {
		octx, cancel := context.WithTimeout(ctx, attackStepBudget)
		c, err := open(octx)
		cancel()
		if err != nil {
			return failed(ctx, "failed to connect or to finish its handshake")
		}
		defer c.Close()
		contact()
		return holdUntilClosed(ctx, c)
	}
}

// failed is the outcome of an attempt that failed: outcome, or that the
// attack's end cut it short.
func failed(ctx context.Context, outcome string) string {
	if ctx.Err() != nil {
		return "stopped by the end of the attack"
	}
	return outcome
}

// handshakeFrom dials addr from src and runs dev's handshake.
func handshakeFrom(ctx context.Context, dev handshake.Device, addr string, src net.IP) (net.Conn, error) {
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	raw, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := dev.Handshake(ctx, raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// hostileIDs is a compromised noise device d (dev) from src that, round
// after round, tries another device's identity or namespace: a handshake
// with an unknown static key, a CONNECT naming a victim or a wildcard as
// client ID or username, and its own session's SUBSCRIBE and PUBLISH
// outside its namespace.
func hostileIDs(set *fixtures.Set, d fixtures.Device, dev handshake.Device, addr string, src net.IP, victims []string) attacker {
	const wildcards = "+#"
	return func(ctx context.Context, round int, contact func()) string {
		victim := victims[round%len(victims)]
		wildcard := string(wildcards[round%len(wildcards)])
		sctx, cancel := context.WithTimeout(ctx, attackStepBudget)
		defer cancel()
		if round%6 == 0 {
			kp, err := noise.GenerateKeypair(nil)
			if err != nil {
				return "no key"
			}
			stranger, _, _, err := simulator.NewDevice(set, fixtures.Device{ID: "stranger", Profile: handshake.Noise, Private: kp.Private, Public: kp.Public}, simulator.DeviceOptions{})
			if err != nil {
				return "no key"
			}
			conn, err := handshakeFrom(sctx, stranger, addr, src)
			if err != nil {
				return failed(ctx, "unknown static key: refused")
			}
			conn.Close()
			return "unknown static key: ACCEPTED"
		}
		conn, err := handshakeFrom(sctx, dev, addr, src)
		if err != nil {
			return failed(ctx, "its own handshake failed")
		}
		defer conn.Close()
		contact()
		r := rawMQTT{conn}
		var what string
		var cp *packets.ConnectPacket
		switch round % 6 {
		case 1:
			what, cp = "client ID of another device", rawConnect(victim, "", "")
		case 2:
			what, cp = "username of another device", rawConnect(d.ID, victim, "")
		case 3:
			what, cp = "wildcard client ID", rawConnect(wildcard, "", "")
		case 4:
			what, cp = "wildcard username", rawConnect(d.ID, wildcard, "")
		default:
			what, cp = "own CONNECT", rawConnect(d.ID, "", "")
		}
		code, err := sendConnect(r, cp)
		switch {
		case err != nil:
			return what + ": no answer"
		case code != packets.Accepted:
			return what + ": refused"
		case what != "own CONNECT":
			return what + ": ACCEPTED"
		}
		return outsideNamespace(r, victim)
	}
}

// sendConnect sends cp on r and returns the CONNACK's return code.
func sendConnect(r rawMQTT, cp *packets.ConnectPacket) (byte, error) {
	if err := r.send(cp); err != nil {
		return 0, err
	}
	pk, err := r.receive()
	if err != nil {
		return 0, err
	}
	ack, ok := pk.(*packets.ConnackPacket)
	if !ok {
		return 0, errors.New("not a CONNACK")
	}
	return ack.ReturnCode, nil
}

// outsideNamespace subscribes to filters reaching victim's topics and
// every device's, publishes into victim's topics, and disconnects; the
// outcome is the SUBACK's.
func outsideNamespace(r rawMQTT, victim string) string {
	const what = "SUBSCRIBE outside its namespace"
	sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sp.MessageID, sp.Topics, sp.Qoss = 1, []string{"devices/+/#", "#", "devices/" + victim + "/#"}, []byte{0, 0, 0}
	if err := r.send(sp); err != nil {
		return what + ": no answer"
	}
	pk, err := r.receive()
	if err != nil {
		return what + ": no answer"
	}
	ack, ok := pk.(*packets.SubackPacket)
	if !ok {
		return what + ": no answer"
	}
	pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pp.TopicName, pp.Payload = "devices/"+victim+"/cmd", []byte("hostile")
	r.send(pp)
	r.send(packets.NewControlPacket(packets.Disconnect))
	for _, code := range ack.ReturnCodes {
		if code != 0x80 { // [MQTT-3.9.3] 0x80: failure
			return what + ": ACCEPTED"
		}
	}
	return what + ": refused"
}

// ---- The one-source flood ----

// Issue 13's one-source flood.
const (
	floodSockets = 1100                   // one source's sockets
	floodCycle   = 500 * time.Millisecond // each sends one byte and reconnects this often
)

// floodEnv, when set in the environment of this test binary, makes it the
// one-source flood's process instead of the suite: "addr from sockets
// cycle".
const floodEnv = "SHAKEDOWN_TEST_FLOOD"

func init() {
	if spec := os.Getenv(floodEnv); spec != "" {
		os.Exit(runFlood(spec))
	}
}

// flood is the attacker's process: one source's sockets, each connecting,
// sending one byte, waiting for the end of its cycle, and connecting again.
type flood struct {
	session *gexec.Session
}

// startFlood starts the attacker's process; its standard error goes to
// errOut. The caller stops it (flood.stop).
func startFlood(addr, from string, sockets int, cycle time.Duration, errOut io.Writer) *flood {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d %s", floodEnv, addr, from, sockets, cycle))
	s, err := gexec.Start(cmd, nil, errOut)
	Expect(err).NotTo(HaveOccurred())
	return &flood{session: s}
}

// connects returns how many connections the flood has opened so far.
func (f *flood) connects() int64 {
	out := strings.Fields(string(f.session.Out.Contents()))
	if len(out) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(out[len(out)-1], 10, 64)
	return n
}

// inFullSwing waits until the flood of sockets against srv is in full
// swing: every socket went round once and the server has been refusing
// the source's excess.
func (f *flood) inFullSwing(srv *serverProc, sockets int) {
	Eventually(f.connects).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 2*sockets))
	Eventually(func() float64 {
		return srv.metric("shakedown_handshakes_total", `result="rate_limited"`)
	}).WithTimeout(30 * time.Second).Should(BeNumerically(">", sockets))
}

// stop ends the flood. Safe to call twice.
func (f *flood) stop() {
	if f.session.ExitCode() == -1 {
		f.session.Interrupt()
	}
	Eventually(f.session).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
}

// maxFloodCycles bounds each socket's loop.
const maxFloodCycles = 1000

// runFlood is the attacker's process: it floods until interrupted,
// printing its count of connections every tenth of a second, and returns
// the exit code.
func runFlood(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 4 {
		fmt.Fprintf(os.Stderr, "flood: want %s=\"addr from sockets cycle\"\n", floodEnv)
		return 2
	}
	addr, from := f[0], f[1]
	sockets, err := strconv.Atoi(f[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood: sockets:", err)
		return 2
	}
	cycle, err := time.ParseDuration(f[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood: cycle:", err)
		return 2
	}
	done := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() { <-sig; close(done) }()

	var connects atomic.Int64
	var wg sync.WaitGroup
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: cycle}
	for range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every socket starts at once, as a simple flood script's do:
			// waves of arrivals fill a table at once.
			for range maxFloodCycles {
				next := time.NewTimer(cycle)
				if c, err := dialer.Dial("tcp", addr); err == nil {
					connects.Add(1)
					c.Write([]byte{0x00})
					select {
					case <-done:
					case <-next.C:
					}
					c.(*net.TCPConn).SetLinger(0) // an attacker keeps no TIME_WAIT
					c.Close()
				} else {
					select {
					case <-done:
					case <-next.C:
					}
				}
				next.Stop()
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			fmt.Println(connects.Load())
		case <-done:
			wg.Wait()
			fmt.Println(connects.Load())
			return 0
		}
	}
}
