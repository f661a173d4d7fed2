package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"shakedown/boards"
	"shakedown/boards/emulated"
	"shakedown/boards/virtual"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	"shakedown/lab"
	"shakedown/lab/labserver"
	"shakedown/mitm"
	"shakedown/reports"
	"shakedown/server"
	"shakedown/server/app"
	"shakedown/simulator"
	"shakedown/suites/measure"
	"shakedown/version"
)

func init() {
	var dir, firmware string
	var devices int
	var noChips bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole story on embedded defaults, ending in an HTML report",
		Long: `Generate a fixture set, start the reference server on loopback (SQLite
registry, embedded broker, every profile), connect one device per profile and
see each message arrive at a backend subscriber; drive the virtual board (and a
virtual Uno as slow as the real chip) through handshakes relayed to the server;
run the firmware's benchmark on the emulated chips when their toolchains and
emulators are present; run a fleet of simulated devices; run the MITM matrix;
and write the results, an HTML report and a Markdown summary. The report's path
is the last line printed. Nothing to install, nothing left running.

Exit status: 1 when a part of the demo failed; 3 when interrupted (the
results so far are written, marked "interrupted": true).`,
		Example: `  shakedown demo --out out/demo
  shakedown demo --devices 200 --no-chips      # quicker`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), demoOptions{dir: dir, firmware: firmware, devices: devices, noChips: noChips}, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dir, "out", "out/demo", "the folder the demo writes its fixtures, registry, results and report into (emptied first)")
	renamed(cmd.Flags(), "dir", "out")
	cmd.Flags().IntVar(&devices, "devices", 1000, "simulated devices in the fleet")
	cmd.Flags().StringVar(&firmware, "firmware", "boards/firmware", "the firmware folder, for the emulated chips")
	cmd.Flags().BoolVar(&noChips, "no-chips", false, "skip the emulated chips")
	root.AddCommand(cmd)
}

func runDemo(ctx context.Context, o demoOptions, out io.Writer) error {
	dir := o.dir
	started := time.Now()
	fxDir := filepath.Join(dir, "fixtures")
	if err := os.RemoveAll(dir); err != nil {
		return setupError(err)
	}
	fmt.Fprintf(out, "== fixtures: %s (seed %q)\n", fxDir, "demo")
	sc := demoScenario(o.devices)
	perKind := 2
	for _, n := range simulator.KindCounts(sc.Plan()) {
		perKind = max(perKind, n+2) // the boards take the last two of each kind
	}
	if _, err := fixtures.Generate(fxDir, fixtures.Options{Seed: "demo", DevicesPerProfile: perKind}); err != nil {
		return setupError(err)
	}
	set, err := fixtures.Load(fxDir)
	if err != nil {
		return setupError(err)
	}
	cfg := server.DefaultConfig()
	cfg.Registry = "sqlite:" + filepath.Join(dir, "registry.db")
	for _, p := range handshake.Profiles { // the insecure ones too: the demo reproduces them
		cfg.Listen[p] = "127.0.0.1:0"
	}
	cfg.Backend, cfg.Metrics = "127.0.0.1:0", "127.0.0.1:0"
	cfg.BackendPassword = "demo-backend"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(fxDir, "tls", "broker.crt"), filepath.Join(fxDir, "tls", "broker.key")
	cfg.Drain = time.Second
	if err := importFixtures(ctx, cfg.Registry, set, out); err != nil {
		return err
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	readyc := make(chan app.Ready, 1)
	errc := make(chan error, 1)
	go func() { errc <- app.Run(sctx, cfg, nil, func(r app.Ready) { readyc <- r }) }()
	var ready app.Ready
	select {
	case ready = <-readyc:
	case err := <-errc:
		return setupError(fmt.Errorf("starting the server: %w", err))
	}
	fmt.Fprintln(out, "== server: embedded broker, SQLite registry")
	for _, p := range handshake.Profiles {
		note := ""
		if p.Insecure() {
			note = "  (INSECURE by design: reproduces the seed discussion)"
		}
		fmt.Fprintf(out, "   %-5s listener %s%s\n", p, ready.Listeners[string(p)], note)
	}

	cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	backend, err := simulator.Connect(cctx, simulator.ClientConfig{Addr: ready.Listeners["backend"], ClientID: "demo-dashboard", Username: cfg.BackendUser, Password: cfg.BackendPassword})
	if err != nil {
		return fmt.Errorf("backend subscriber: %w", err)
	}
	defer backend.Disconnect(100)
	var mu sync.Mutex
	got := map[string]string{}
	arrived := make(chan struct{}, 16)
	tok := backend.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		got[m.Topic()] = string(m.Payload())
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("backend subscribe: %v", tok.Error())
	}

	fmt.Fprintln(out, "== one device per profile: handshake, MQTT CONNECT, PUBLISH, received by the backend")
	failures := 0
	for _, p := range handshake.Profiles {
		d := set.DevicesOf(p)[0]
		dev, user, pass, err := simulator.NewDevice(set, d, simulator.DeviceOptions{})
		if err != nil {
			return err
		}
		start := time.Now()
		c, err := simulator.Connect(cctx, simulator.ClientConfig{Device: dev, Addr: ready.Listeners[string(p)], ClientID: d.ID, Username: user, Password: pass})
		if err != nil {
			failures++
			fmt.Fprintf(out, "   %-5s %-20s FAILED: %v\n", p, d.ID, err)
			continue
		}
		connected := time.Since(start)
		topic := "devices/" + d.ID + "/telemetry"
		payload := fmt.Sprintf("temperature=21.5 from %s", d.ID)
		pt := c.Publish(topic, 1, false, payload)
		pt.WaitTimeout(10 * time.Second)
		received := false
		deadline := time.After(5 * time.Second)
	wait:
		for {
			mu.Lock()
			received = got[topic] == payload
			mu.Unlock()
			if received {
				break
			}
			select {
			case <-arrived:
			case <-deadline:
				break wait
			}
		}
		c.Disconnect(50)
		status := "received by the backend"
		if !received || pt.Error() != nil {
			status, failures = "NOT received", failures+1
		}
		fmt.Fprintf(out, "   %-5s %-20s connected in %6.1f ms, published %q: %s\n", p, d.ID, float64(connected.Microseconds())/1000, topic, status)
	}
	run := &reports.Run{Title: "shakedown demo", Generated: started, ShakedownVersion: version.String()}
	bds := &reports.Boards{Format: reports.BoardsFormat, ShakedownVersion: version.String()}
	var sim *reports.Sim
	var mres *reports.MITM
	// interrupted writes what the demo has so far, marked interrupted.
	interrupted := func() error {
		run.Interrupted, bds.Interrupted = true, true
		run.Boards, run.Sim, run.MITM = bds, sim, mres
		if _, err := writeDemoResults(dir, run, bds, sim, mres); err != nil {
			fmt.Fprintf(out, "   writing the results so far: %v\n", err)
		}
		return interruptedError(fmt.Errorf("interrupted: the results so far are in %s, marked interrupted", dir))
	}
	if ctx.Err() != nil {
		return interrupted()
	}
	backendGot := func(topic, payload string) bool {
		deadline := time.After(5 * time.Second)
		for {
			mu.Lock()
			ok := got[topic] == payload
			mu.Unlock()
			if ok {
				return true
			}
			select {
			case <-arrived:
			case <-deadline:
				return false
			}
		}
	}

	fmt.Fprintln(out, "== boards: the virtual board and a virtual Uno as slow as an ATmega328P, handshakes relayed to the server")
	for i, vb := range []struct {
		profile  string
		slow     bool
		profiles []handshake.Name
		bench    bool
	}{{"virtual", false, handshake.Profiles, true}, {"uno", true, []handshake.Name{handshake.Noise, handshake.PSK}, false}} {
		b, err := demoBoard(cctx, out, vb.profile, vb.slow, vb.bench, vb.profiles, set, i+1, ready.Listeners, backendGot)
		if ctx.Err() != nil {
			return interrupted()
		}
		if err != nil {
			failures++
			fmt.Fprintf(out, "   %s board FAILED: %v\n", vb.profile, err)
			run.Notes = append(run.Notes, fmt.Sprintf("the %s board failed: %v", vb.profile, err))
			continue
		}
		bds.Boards = append(bds.Boards, b)
	}
	if o.noChips {
		run.Notes = append(run.Notes, "emulated chips skipped (--no-chips)")
	} else {
		fmt.Fprintln(out, "== emulated chips: the firmware's benchmark under simavr and QEMU")
		chips, note := demoChips(ctx, o.firmware, out)
		bds.Boards = append(bds.Boards, chips...)
		if note != "" {
			fmt.Fprintf(out, "   skipped: %s\n", note)
			run.Notes = append(run.Notes, "emulated chips skipped: "+note)
		} else {
			fmt.Fprintln(out, "== emulated boards: the agent firmware on each chip, noise and seed handshakes relayed to the server")
			agents, notes := demoAgents(cctx, out, o.firmware, set, ready.Listeners, backendGot)
			bds.Boards = append(bds.Boards, agents...)
			for _, n := range notes {
				fmt.Fprintf(out, "   skipped: %s\n", n)
				run.Notes = append(run.Notes, "emulated board skipped: "+n)
			}
		}
	}
	run.Boards = bds
	stop()
	if err := <-errc; err != nil {
		return err
	}
	if ctx.Err() != nil {
		return interrupted()
	}

	// The fleet gets a server of its own: one without the demo's earlier
	// sessions, whose SQLite registry already holds every identity.
	fmt.Fprintf(out, "== fleet: %d simulated devices (%s)\n", sc.Devices, describeMix(sc.Mix))
	// A registry of its own too: the devices above moved their counters.
	cfg.Registry = "sqlite:" + filepath.Join(dir, "fleet.db")
	if err := importFixtures(ctx, cfg.Registry, set, io.Discard); err != nil {
		return err
	}
	sc.Fixtures.Dir = fxDir
	sim, err = demoFleet(ctx, cfg, sc, set, out)
	if ctx.Err() != nil {
		return interrupted()
	}
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	run.Sim = sim

	fmt.Fprintln(out, "== MITM matrix: every scenario on every profile, against the server in process")
	mres, err = demoMITM(ctx, set, out)
	if ctx.Err() != nil {
		return interrupted()
	}
	if err != nil {
		return fmt.Errorf("mitm: %w", err)
	}
	run.MITM = mres

	paths, err := writeDemoResults(dir, run, bds, sim, mres)
	if err != nil {
		return err
	}
	sum := reports.Summarise(run)
	for _, l := range sum.Lines {
		fmt.Fprintf(out, "   %-16s %s\n", l.Section+":", l.Text)
	}
	fmt.Fprintf(out, "== results in %s; Markdown summary %s (%s)\n", dir, paths.markdown, time.Since(started).Round(time.Second))
	fmt.Fprintln(out, paths.html)
	switch {
	case failures > 0:
		return checkFailed(fmt.Errorf("%d parts of the demo failed", failures))
	case !sum.OK:
		// The verdict and the exit status agree: a fleet whose devices
		// failed to connect is no demo that went as expected.
		return checkFailed(errors.New("the demo's verdict: needs attention (see the summary above)"))
	}
	return nil
}

// demoOptions are the demo's flags.
type demoOptions struct {
	dir, firmware string
	devices       int
	noChips       bool
}

// demoScenario is the demo's fleet: every profile, a few hostile devices,
// arrivals at 200 per second, each device publishing once a second for a
// few seconds.
func demoScenario(devices int) simulator.Scenario {
	sc := simulator.DefaultScenario()
	sc.Devices = devices
	sc.Mix = map[string]float64{string(handshake.Noise): 5, simulator.KindSeedP256: 1, simulator.KindSeedSecp160r1: 1,
		string(handshake.PSK): 1, string(handshake.TLS): 2}
	sc.Rate, sc.Ramp = 200, time.Second
	sc.Hold, sc.PublishInterval = 4*time.Second, time.Second
	sc.KeepAlive = 0
	sc.Hostile.Share = 0.02
	sc.Hostile.Timeout = 6 * time.Second
	sc.Timeouts.Drain = 3 * time.Second
	sc.Timeouts.Handshake = 20 * time.Second // a loaded 2-core machine is slow, not broken
	return sc
}

func describeMix(m map[string]float64) string {
	var total float64
	for _, w := range m {
		total += w
	}
	var parts []string
	for _, k := range simulator.Kinds {
		if w, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", k, w/total*100))
		}
	}
	return strings.Join(parts, ", ")
}

// demoBoard starts a virtual board presenting board profile name, asks who
// it is, benchmarks it (bench), and runs a relayed handshake of each
// profile against the server; over the noise session it publishes an MQTT
// message that the backend must receive.
func demoBoard(ctx context.Context, out io.Writer, name string, slow, bench bool, profiles []handshake.Name,
	set *fixtures.Set, fromEnd int, listeners map[string]string, backendGot func(topic, payload string) bool) (reports.Board, error) {
	prof, err := boards.Lookup(name)
	if err != nil {
		return reports.Board{}, err
	}
	vcfg := virtual.FromProfile(prof, "DEMO-"+strings.ToUpper(name), slow)
	vb, err := virtual.Start(vcfg)
	if err != nil {
		return reports.Board{}, err
	}
	defer vb.Close()
	opts := prof.Options()
	opts.SerialNumber = vb.Serial()
	b, err := harness.Open(ctx, vb.Path(), opts)
	if err != nil {
		return reports.Board{}, err
	}
	defer b.Close()
	label := name
	if slow {
		label = name + " (virtual, slow)"
	}
	return demoRunBoard(ctx, out, b, prof, label, reports.KindVirtual, bench, profiles, set, fromEnd, listeners, backendGot)
}

// demoAgents runs the agent firmware on each emulated chip whose emulator
// and image are there: a relayed noise and seed handshake against the
// server, and MQTT over the noise session. A missing tool skips the chip
// with a note.
func demoAgents(ctx context.Context, out io.Writer, fw string, set *fixtures.Set, listeners map[string]string,
	backendGot func(topic, payload string) bool) ([]reports.Board, []string) {
	var got []reports.Board
	var notes []string
	for i, chip := range emulated.Chips() {
		image := filepath.Join(fw, "build", "agent-"+chip+".elf")
		if _, err := os.Stat(image); err != nil {
			notes = append(notes, chip+": no agent image (make -C boards/firmware agents)")
			continue
		}
		rb, err := demoAgent(ctx, out, chip, image, set, 3+i, listeners, backendGot)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s agent: %v", chip, err))
			continue
		}
		got = append(got, rb)
	}
	return got, notes
}

func demoAgent(ctx context.Context, out io.Writer, chip, image string, set *fixtures.Set, fromEnd int,
	listeners map[string]string, backendGot func(topic, payload string) bool) (reports.Board, error) {
	eb, err := emulated.Start(ctx, emulated.Config{Chip: chip, Image: image})
	if err != nil {
		return reports.Board{}, err
	}
	defer eb.Close()
	prof, err := boards.Lookup(eb.ProfileName())
	if err != nil {
		return reports.Board{}, err
	}
	b, err := harness.Open(ctx, eb.Path(), prof.Options())
	if err != nil {
		return reports.Board{}, err
	}
	defer b.Close()
	return demoRunBoard(ctx, out, b, prof, chip+" (agent)", reports.KindEmulated, false,
		[]handshake.Name{handshake.Noise, handshake.Seed}, set, fromEnd, listeners, backendGot)
}

// demoRunBoard asks an open board who it is, benchmarks it (bench), and
// runs a relayed handshake of each profile against the server; over the
// noise session it publishes an MQTT message that the backend must receive.
func demoRunBoard(ctx context.Context, out io.Writer, b *harness.Board, prof boards.Profile, label, kind string, bench bool,
	profiles []handshake.Name, set *fixtures.Set, fromEnd int, listeners map[string]string,
	backendGot func(topic, payload string) bool) (reports.Board, error) {
	in, err := b.Info(ctx)
	if err != nil {
		return reports.Board{}, err
	}
	rb := reports.Board{Name: label, Board: in.Board, Chip: in.Chip, Kind: kind, ClockHz: in.ClockHz, Exact: kind == reports.KindEmulated}
	fmt.Fprintf(out, "   %s on %s: %s, %s at %s, firmware %s\n", label, b.PortName(), in.Board, in.Chip, mhz(in.ClockHz), in.Firmware)
	if bench {
		plan, err := measure.BenchPlan(in, measure.BenchSpec{Sizes: []int{64}, Iterations: 4})
		if err != nil {
			return rb, err
		}
		for _, it := range plan {
			res, err := b.Bench(ctx, it.Request)
			if err != nil {
				return rb, fmt.Errorf("bench %s: %w", it.Label, err)
			}
			rb.Bench = append(rb.Bench, it.Report(res))
		}
		fmt.Fprintf(out, "   %s: %d bench figures\n", label, len(rb.Bench))
	}
	for _, p := range profiles {
		d, err := measure.DeviceFor(set, p, "", fromEnd) // identities that no other part of the demo uses
		if err != nil {
			return rb, err
		}
		pv, err := measure.Provisioning(set, d)
		if err != nil {
			return rb, err
		}
		if err := b.Provision(ctx, pv); err != nil {
			return rb, fmt.Errorf("provisioning %s: %w", p, err)
		}
		h, s, err := measure.Handshake(ctx, b, harness.HandshakeOptions{Profile: p, Server: listeners[string(p)], Timeout: 2*prof.Limit(p) + 10*time.Second}, in, prof.Limit(p))
		if err != nil {
			rb.Handshakes = append(rb.Handshakes, h)
			fmt.Fprintf(out, "   %-5s handshake FAILED: %s\n", p, h.Reason)
			continue
		}
		if p == handshake.Noise {
			h.Message = demoBoardMQTT(ctx, s, d.ID, backendGot)
		}
		s.Close()
		verdict := "within"
		if !h.WithinLimit() {
			verdict = "OVER"
		}
		fmt.Fprintf(out, "   %-5s handshake ok: board %s, wall %s, %s the %s limit %s\n", p, msOrDash(h.BoardMS), msOrDash(h.WallMS), verdict, prof.Name, prof.Limit(p))
		rb.Handshakes = append(rb.Handshakes, h)
	}
	return rb, nil
}

func msOrDash(ms float64) string {
	if ms <= 0 {
		return "-"
	}
	return reports.FormatMicros(ms * 1e3)
}

// demoBoardMQTT runs MQTT over the board's noise session: CONNECT, a
// PUBLISH that the backend must receive.
func demoBoardMQTT(ctx context.Context, s *harness.Session, id string, backendGot func(topic, payload string) bool) string {
	o := mqtt.NewClientOptions().AddBroker("tcp://board-session").SetClientID(id).SetAutoReconnect(false).
		SetConnectRetry(false).SetConnectTimeout(10 * time.Second).
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) { return s.Conn(), nil })
	c := mqtt.NewClient(o)
	t := c.Connect()
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return "MQTT CONNECT over the board's session failed"
	}
	defer c.Disconnect(50)
	topic, payload := "devices/"+id+"/telemetry", "temperature=19.0 from the board "+id
	pt := c.Publish(topic, 1, false, payload)
	if !pt.WaitTimeout(10*time.Second) || pt.Error() != nil || !backendGot(topic, payload) {
		return "MQTT PUBLISH over the board's session not received"
	}
	return "MQTT PUBLISH over the board's session received by the backend"
}

// demoChips builds the firmware's images and runs its benchmark on the
// three emulated chips, in parallel. A missing toolchain or emulator skips
// them with a note.
func demoChips(ctx context.Context, fw string, out io.Writer) ([]reports.Board, string) {
	if _, err := os.Stat(filepath.Join(fw, "emu", "board.sh")); err != nil {
		return nil, "no firmware folder at " + fw + " (run from the repository's root, or give --firmware)"
	}
	for _, tool := range []string{"make", "avr-gcc", "simavr", "arm-none-eabi-gcc", "qemu-system-arm", "riscv64-unknown-elf-gcc", "qemu-system-riscv32"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, tool + " is not installed (make deps installs the toolchains and emulators)"
		}
	}
	bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(bctx, "make", "-s", "-C", fw, "chips", "agents").CombinedOutput(); err != nil {
		return nil, "building the chip images failed: " + lastLine(b)
	}
	bctx, cancel = context.WithTimeout(ctx, 3*time.Minute) // the runs, apart from the build
	defer cancel()
	chips := emulated.Chips()
	res := make([]reports.Board, len(chips))
	errs := make([]error, len(chips))
	var wg sync.WaitGroup
	for i, c := range chips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = emulated.RunBench(bctx, fw, c)
		}()
	}
	wg.Wait()
	var got []reports.Board
	var notes []string
	for i, c := range chips {
		if errs[i] != nil {
			notes = append(notes, errs[i].Error())
			continue
		}
		got = append(got, res[i])
		for _, x := range res[i].Bench {
			if x.Op == "x25519" {
				fmt.Fprintf(out, "   %-11s X25519 %s %s (exact: the emulator counts them)\n", c, reports.FormatCount(x.Mean), x.Unit)
			}
		}
	}
	return got, strings.Join(notes, "; ")
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// demoFleet starts the server again and runs the fleet against it,
// sampling the fleet's counters twice a second for the timeline.
func demoFleet(ctx context.Context, cfg server.Config, sc simulator.Scenario, set *fixtures.Set, out io.Writer) (*reports.Sim, error) {
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	readyc := make(chan app.Ready, 1)
	errc := make(chan error, 1)
	go func() { errc <- app.Run(sctx, cfg, nil, func(r app.Ready) { readyc <- r }) }()
	var ready app.Ready
	select {
	case ready = <-readyc:
	case err := <-errc:
		return nil, err
	}
	for _, p := range handshake.Profiles {
		sc.Gateway[string(p)] = ready.Listeners[string(p)]
	}
	sc.Backend = simulator.Backend{Addr: ready.Listeners["backend"], Username: cfg.BackendUser, Password: cfg.BackendPassword}
	if _, err := simulator.RaiseFileLimit(uint64(sc.Devices) + 512); err != nil {
		fmt.Fprintln(out, "   warning:", err)
	}
	reg := prometheus.NewRegistry()
	started := time.Now()
	tl := &reports.Timeline{Format: reports.TimelineFormat}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			tl.Samples = append(tl.Samples, sampleFleet(reg, time.Since(started)))
			select {
			case <-done:
				tl.Samples = append(tl.Samples, sampleFleet(reg, time.Since(started)))
				return
			case <-t.C:
			}
		}
	}()
	res, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Set: set, Metrics: reg, Progress: out, ProgressInterval: 2 * time.Second})
	close(done)
	wg.Wait()
	stop()
	if serr := <-errc; err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	res.ShakedownVersion = version.String()
	sim := &res.Sim // the report's section as the simulator filled it
	sim.Timeline = tl
	r := res.Rates()
	fmt.Fprintf(out, "   %d connected, %d failed; %.0f connects/s, %.0f publishes/s; %d of %d messages received\n",
		res.Counts.Connected, res.Counts.ConnectFailed, r.ConnectsPerSecond, r.PublishesPerSecond, res.Counts.Received, res.Counts.Acked)
	return sim, nil
}

// sampleFleet reads the fleet's counters from its metrics.
func sampleFleet(reg *prometheus.Registry, at time.Duration) reports.Sample {
	s := reports.Sample{AtMS: at.Milliseconds()}
	mfs, err := reg.Gather()
	if err != nil {
		return s
	}
	for _, mf := range mfs {
		var v float64
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				v += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				v += g.GetValue()
			}
		}
		switch mf.GetName() {
		case "shakedown_sim_connects_total":
			s.Connects = int64(v)
		case "shakedown_sim_handshakes_total":
			s.Handshakes = int64(v)
		case "shakedown_sim_acked_total":
			s.Acked = int64(v)
		case "shakedown_sim_received_total":
			s.Received = int64(v)
		case "shakedown_sim_devices_connected":
			s.Connected = int64(v)
		}
	}
	return s
}

// demoMITM runs the whole matrix against the lab's in-process server.
func demoMITM(ctx context.Context, set *fixtures.Set, out io.Writer) (*reports.MITM, error) {
	srv, err := labserver.Start(set, nil)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	n := 0
	l := &lab.Lab{Set: set, Target: srv, TargetName: "in-process", Progress: func(reports.Verdict) { n++ }}
	res, err := l.Run(ctx, mitm.Selection{})
	if err != nil && (res == nil || !res.Interrupted) {
		return nil, err
	}
	succeeded := 0
	for _, v := range res.Verdicts {
		if v.Outcome == reports.Succeeded {
			succeeded++
		}
	}
	fmt.Fprintf(out, "   %d cells, %d attacks succeeded, %d outcomes other than expected\n", n, succeeded, res.Mismatches)
	return res, nil
}

type demoPaths struct{ html, markdown string }

// writeDemoResults writes each section's results, the run's JSON (a
// baseline for later runs), the Markdown summary and the HTML report.
func writeDemoResults(dir string, run *reports.Run, bds *reports.Boards, sim *reports.Sim, m *reports.MITM) (demoPaths, error) {
	p := demoPaths{html: filepath.Join(dir, "report.html"), markdown: filepath.Join(dir, "report.md")}
	write := func(name string, f func(io.Writer) error) error {
		var buf bytes.Buffer
		if err := f(&buf); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		return os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
	}
	js := func(v any) func(io.Writer) error {
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	var errs []error
	for name, v := range map[string]any{"boards.json": bds, "sim.json": sim, "mitm.json": m} {
		if !reflect.ValueOf(v).IsNil() { // an interrupted demo has what ran
			errs = append(errs, write(name, js(v)))
		}
	}
	if err := errors.Join(append(errs,
		write("run.json", func(w io.Writer) error { return reports.WriteJSON(w, run) }),
		write("report.md", func(w io.Writer) error { return reports.WriteMarkdown(w, run) }),
		write("report.html", func(w io.Writer) error { return reports.WriteHTML(w, run) }),
	)...); err != nil {
		return p, err
	}
	abs, err := filepath.Abs(p.html)
	if err == nil {
		p.html = abs
	}
	return p, nil
}
