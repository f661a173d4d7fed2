package simulator

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/tlsprofile"
	"shakedown/reports"
)

// Config is one process's run of a scenario.
type Config struct {
	Scenario Scenario
	// Set holds the device identities of the gateway target; when nil they
	// come from Scenario.Fixtures.
	Set   *fixtures.Set
	Shard Shard // the zero value runs the whole fleet
	// Metrics receives the live Prometheus metrics; nil keeps them private.
	Metrics prometheus.Registerer
	// Progress receives a progress line every ProgressInterval (default 5 s);
	// on a terminal (Terminal) the line is rewritten in place each second.
	Progress         io.Writer
	ProgressInterval time.Duration
	Terminal         bool
}

// disconnectQuiesce is how long a device waits for its DISCONNECT to be
// written, in milliseconds (paho's unit).
const disconnectQuiesce = 100

// fleet is one run in progress. It owns the device goroutines (wg), the
// lean engine's readers (readers), the end-to-end subscriber and the
// sampler.
type fleet struct {
	sc    *Scenario
	shard Shard
	plan  []Slot // the shard's slots, in arrival order
	msgs  int    // messages per device
	run   [runIDLen]byte
	start time.Time

	set     *fixtures.Set
	pools   map[string][]fixtures.Device
	devOpts DeviceOptions
	brkDev  handshake.Device // broker target over TLS
	srcs    []netip.Addr

	rec          *recorder
	acked, recvd *bitset
	wg           sync.WaitGroup // the slots, until each device ends
	readers      sync.WaitGroup // the lean engine's readers, until each session ends
}

// Run runs the shard's part of the scenario and returns its results. It
// returns an error only when the run cannot start (a bad scenario, missing
// identities, an end-to-end subscriber that cannot connect); device
// failures are counted in the results. Cancelling ctx (SIGINT, SIGTERM)
// ends the run early: slots not yet started stay unstarted (NotStarted),
// running devices end (CutShort) without counting as failures, messages
// already acknowledged get their drain, and the results, complete up to
// that moment, say Interrupted.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	f, err := newFleet(cfg)
	if err != nil {
		return nil, err
	}
	base := sampleMemory()
	rxs, err := f.startReceivers(ctx)
	if err != nil {
		return nil, err
	}
	settledBase := settledMemory() // the fixtures loaded, the subscriber up, no device yet
	f.start = time.Now()
	smp := startSampler(f, cfg, base, settledBase)
	started := time.Now().UTC()
	f.schedule(ctx)
	f.wg.Wait()
	f.readers.Wait() // every device has closed its session: its reader is on its way out
	f.drain(len(rxs) > 0)
	interrupted := ctx.Err() != nil
	var rxDone sync.WaitGroup
	for _, rx := range rxs {
		rxDone.Go(rx.close)
	}
	rxDone.Wait()
	marks := smp.stop()
	res := f.results(started, marks, len(rxs) > 0)
	res.Interrupted, res.Shards[0].Interrupted = interrupted, interrupted
	return res, nil
}

func newFleet(cfg Config) (*fleet, error) {
	sc := cfg.Scenario
	if err := sc.Check(); err != nil {
		return nil, err
	}
	sc.Engine = sc.EngineOf() // the results say which engine ran
	shard := cfg.Shard
	if shard.Count == 0 {
		shard = Whole
	}
	if shard.Count < 1 || shard.Index < 0 || shard.Index >= shard.Count {
		return nil, ErrBadShard
	}
	m, err := newMetrics(cfg.Metrics, shard)
	if err != nil {
		return nil, fmt.Errorf("simulator: registering metrics: %w", err)
	}
	f := &fleet{sc: &sc, shard: shard, msgs: sc.Messages(), set: cfg.Set, rec: newRecorder(m)}
	if _, err := rand.Read(f.run[:]); err != nil {
		return nil, fmt.Errorf("simulator: run ID: %w", err)
	}
	all := sc.Plan()
	for _, sl := range all {
		if shard.Owns(sl.N) {
			f.plan = append(f.plan, sl)
		}
	}
	f.acked = newBitset(len(f.plan) * f.msgs)
	f.recvd = newBitset(len(f.plan) * f.msgs)
	if sc.SourceAddrs != "" {
		f.srcs, _ = ParseSourceAddrs(sc.SourceAddrs) // checked with the scenario
	}
	if f.set == nil && (sc.Fixtures.Dir != "" || sc.Fixtures.Seed != "") {
		if f.set, err = LoadFixtures(sc.Fixtures); err != nil {
			return nil, err
		}
	}
	if sc.Target == TargetBroker {
		return f, f.brokerDevice()
	}
	return f, f.identities(all)
}

// LoadFixtures loads the fixture set a scenario names.
func LoadFixtures(fx Fixtures) (*fixtures.Set, error) {
	if fx.Dir != "" {
		return fixtures.Load(fx.Dir)
	}
	o := fixtures.Options{Seed: fx.Seed, DevicesPerProfile: fx.DevicesPerProfile}
	if fx.Now != "" {
		t, err := time.Parse(time.RFC3339, fx.Now)
		if err != nil {
			return nil, bad("fixtures.now", "want RFC 3339")
		}
		o.Now = t
	}
	return fixtures.Build(o)
}

// ErrIdentities is a fixture set with fewer devices of a kind than the
// fleet needs.
var ErrIdentities = errors.New("simulator: the fixture set has too few devices")

// identities checks that the set holds a device for every slot of the whole
// fleet (identities are dealt fleet-wide so shards never share one) and
// prepares the device options.
func (f *fleet) identities(all []Slot) error {
	if f.set == nil {
		return bad("fixtures", "the gateway target needs a fixture set")
	}
	f.pools = map[string][]fixtures.Device{}
	for _, d := range f.set.Devices {
		k := string(d.Profile)
		f.pools[k] = append(f.pools[k], d)
		if d.Profile == handshake.Seed {
			f.pools[k+"-"+d.Curve] = append(f.pools[k+"-"+d.Curve], d)
		}
	}
	for k, n := range KindCounts(all) {
		if have := len(f.pools[k]); have < n {
			more := fmt.Sprintf("more devices per profile (at most %d)", fixtures.MaxDevicesPerProfile)
			if k == string(handshake.Noise) {
				more = fmt.Sprintf("more noise devices (fixtures gen --noise-devices, at most %d)", fixtures.MaxNoiseDevices)
			}
			return fmt.Errorf("%w: the fleet needs %d %s devices and the set has %d; generate it with %s", ErrIdentities, n, k, have, more)
		}
	}
	pins, err := noise.NewPins(f.set.NoiseCurrent.Public)
	if err != nil {
		return fmt.Errorf("simulator: pinning the server key: %w", err)
	}
	// One Pins for the fleet: every device learns the same announcements.
	f.devOpts = DeviceOptions{NoisePattern: noise.Pattern(f.sc.NoisePattern), Pins: pins, TLSMode: tlsprofile.Mode(f.sc.TLSMode),
		TLSPassword: f.sc.TLSAuth == TLSAuthPassword}
	if tls := f.pools[string(handshake.TLS)]; len(tls) > 0 {
		// Each tls device has its own certificate: check the options once here.
		if _, _, _, err = NewDevice(f.set, tls[0], f.devOpts); err != nil {
			return fmt.Errorf("simulator: tls device: %w", err)
		}
	}
	return nil
}

// brokerDevice prepares the TLS check of the broker target.
func (f *fleet) brokerDevice() error {
	b := f.sc.Broker
	if !b.TLS {
		return nil
	}
	name := b.ServerName
	if name == "" {
		host, _, err := net.SplitHostPort(b.Addr)
		if err != nil {
			return bad("broker.addr", "want host:port")
		}
		name = host
	}
	cfg := tlsprofile.DeviceConfig{Mode: tlsprofile.CA, ServerName: name}
	switch {
	case b.Insecure:
		cfg.Mode = tlsprofile.None
	case b.CAFile != "":
		pem, err := os.ReadFile(b.CAFile)
		if err != nil {
			return fmt.Errorf("simulator: reading the broker CA: %w", err)
		}
		cfg.Roots = x509.NewCertPool()
		if !cfg.Roots.AppendCertsFromPEM(pem) {
			return bad("broker.ca_file", "no PEM certificate")
		}
	case f.set != nil:
		cfg.Roots = f.set.Roots
	default:
		return bad("broker.ca_file", "TLS needs a CA file, fixtures, or insecure")
	}
	dev, err := tlsprofile.NewDevice(cfg)
	if err != nil {
		return fmt.Errorf("simulator: broker TLS: %w", err)
	}
	f.brkDev = dev
	return nil
}

// endpoint is where and as whom a slot connects.
type endpoint struct {
	dev                  handshake.Device // nil: plain MQTT
	addr                 string
	clientID, user, pass string
}

func (f *fleet) endpoint(sl Slot) (endpoint, error) {
	if f.sc.Target == TargetBroker {
		id := strings.ReplaceAll(f.sc.Broker.ClientID, "{n}", strconv.Itoa(sl.N))
		return endpoint{dev: f.brkDev, addr: f.sc.Broker.Addr, clientID: id, user: f.sc.Broker.Username, pass: f.sc.Broker.Password}, nil
	}
	d := f.pools[sl.Kind][sl.Index]
	p := profileOfKind(sl.Kind)
	ep := endpoint{addr: f.sc.Gateway[string(p)], clientID: d.ID}
	var err error
	ep.dev, ep.user, ep.pass, err = NewDevice(f.set, d, f.devOpts)
	return ep, err
}

// clientConfig is the configuration of a slot's connection, on either engine.
func (f *fleet) clientConfig(sl Slot, ep endpoint) ClientConfig {
	ka := f.sc.KeepAlive
	if ka == 0 {
		ka = -1 // off
	}
	return ClientConfig{Device: ep.dev, Addr: ep.addr, ClientID: ep.clientID, Username: ep.user, Password: ep.pass,
		HandshakeTimeout: f.sc.Timeouts.Handshake, LocalAddr: localAddr(f.srcs, sl.N), KeepAlive: ka}
}

// schedule starts each slot at its time, whether or not earlier ones are
// done (open loop). It returns after the last start or when ctx ends.
func (f *fleet) schedule(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i, sl := range f.plan {
		if d := time.Until(f.start.Add(sl.At)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			f.rec.notStarted.Add(int64(len(f.plan) - i))
			if f.sc.Hold > 0 { // a fleet held until interrupted had no schedule to miss
				f.rec.unpublished.Add(int64(f.msgs * f.remaining(sl)))
			}
			return
		}
		f.wg.Add(1)
		go f.runSlot(ctx, sl)
	}
}

// remaining counts the legitimate slots from sl on (for the unpublished
// count when the run is cut short).
func (f *fleet) remaining(sl Slot) int {
	n := 0
	for _, s := range f.plan {
		if s.N >= sl.N && s.Hostile == "" {
			n++
		}
	}
	return n
}

func (f *fleet) runSlot(ctx context.Context, sl Slot) {
	f.rec.observe(StageStartLag, time.Since(f.start.Add(sl.At)))
	inc(&f.rec.started, f.rec.m.started)
	f.rec.slots.Add(1)
	if sl.Hostile != "" {
		defer f.wg.Done()
		f.rec.hostileDevices.Add(1)
		f.runHostile(ctx, sl)
		return
	}
	f.rec.legit.Add(1)
	ep, err := f.endpoint(sl)
	if err != nil {
		defer f.wg.Done()
		f.rec.fail(FailHandshake, handshake.ReasonInternal)
		f.rec.connectFailed.Add(1)
		f.rec.devicesLost.Add(1)
		f.rec.unpublished.Add(int64(f.msgs))
		return
	}
	d := &device{f: f, sl: sl, ep: ep, local: sl.N / f.shard.Count}
	d.start(ctx) // releases f.wg when the device ends
}

// drain waits, up to timeouts.drain, for the subscriber to receive every
// acknowledged message, then counts the missing ones. An interrupted run
// drains too: a message acknowledged before the signal and still on its
// way is not missing, and a live broker delivers it within milliseconds.
func (f *fleet) drain(measured bool) {
	if !measured {
		return
	}
	deadline := time.Now().Add(f.sc.Timeouts.Drain)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	// The counts first (cheap), then the messages themselves: an
	// interruption can deliver a message whose acknowledgement it cut off,
	// so equal counts do not mean every acknowledged message arrived.
	for time.Now().Before(deadline) {
		if f.rec.received.Load() >= f.rec.acked.Load() && f.acked.countAndNot(f.recvd) == 0 {
			break
		}
		<-tick.C
	}
	if n := f.acked.countAndNot(f.recvd); n > 0 {
		f.rec.failN(FailReceive, handshake.ReasonNotReceived, n)
		f.rec.missing.Add(n)
	}
}

// msgIndex is the flag of message seq of the shard's slot local in the
// acked and received sets: by sequence number first, so that the flags of
// the messages sent so far lie together.
func (f *fleet) msgIndex(local, seq int) int { return seq*len(f.plan) + local }

func (f *fleet) results(started time.Time, marks memoryMarks, measured bool) *Results {
	base, peak, settled := marks.base, marks.peak, marks.settled
	failures, hostile := f.rec.nested()
	host, _ := os.Hostname()
	run := reports.SimShard{
		Index: f.shard.Index, Count: f.shard.Count, Host: host, Started: started, Ended: time.Now().UTC(),
		Slots: len(f.plan), PeakActive: peak.active,
		RampEnd: unixTime(f.rec.rampEnd.Load()), SteadyEnd: unixTime(f.rec.steadyEnd.Load()),
		FirstConnect: unixTime(f.rec.firstConnect.Load()), LastConnect: unixTime(f.rec.lastConnect.Load()),
		FirstHandshake: unixTime(f.rec.firstHandshake.Load()), LastHandshake: unixTime(f.rec.lastHandshake.Load()),
		FirstPublish: unixTime(f.rec.firstPublish.Load()), LastAck: unixTime(f.rec.lastAck.Load()),
		BaselineRSS: base.rss, RSSAtPeak: peak.rss, BaselineGo: base.goBytes, GoAtPeak: peak.goBytes,
		GoroutinesPeak: peak.goroutines, FDLimit: FileLimit(), Clamped: f.rec.clamped(), EndToEnd: measured,
	}
	if peak.active >= MinMemoryDevices {
		run.KiBPerDevice = perDevice(peak.rss, base.rss, peak.active)
		run.GoKiBPerDevice = perDevice(peak.goBytes, base.goBytes, peak.active)
	}
	if settled.active >= MinMemoryDevices {
		run.SettledBaselineRSS, run.SettledRSS, run.SettledActive = marks.settledBase.rss, settled.rss, settled.active
		run.SettledKiBPerDevice = perDevice(settled.rss, marks.settledBase.rss, settled.active)
	}
	hist := f.rec.snapshots()
	if !measured {
		delete(hist, string(StageEndToEnd))
	}
	counts := f.rec.counts()
	counts.Missing = f.rec.missing.Load()
	return newResults(&reports.Sim{Version: ResultsVersion, FleetID: f.sc.FleetID(), Shards: []reports.SimShard{run},
		Counts: counts, Failures: failures, Hostile: hostile, Histograms: hist, Seconds: f.rec.sec.all()}, *f.sc)
}

func perDevice(at, base uint64, n int) float64 {
	if at <= base {
		return 0
	}
	return float64(at-base) / float64(n) / 1024
}
