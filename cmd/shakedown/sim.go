package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shakedown/simulator"
	"shakedown/version"
)

// simField is a flag that sets one scenario field: copy moves the flag's
// value from the flag-bound scenario into the one being run.
type simField struct {
	flag string
	copy func(dst, src *simulator.Scenario)
}

// simLong is the help of `shakedown sim`.
const simLong = `Run a fleet of simulated devices. Each device is a goroutine with its own
identity from a fixture set, speaking MQTT (paho) over its profile's handshake
to the reference server (--target gateway), or plain MQTT or MQTT over TLS to any
broker (--target broker).

Arrivals are open loop: device i starts at its scheduled time (--rate per second
after a linear --ramp) whether or not earlier devices are done, and every latency
counts from the scheduled time, so a stalled server shows as latency. Each device
subscribes, publishes every --publish-interval for --hold, and disconnects; a
subscriber in this process receives every message for the end-to-end latency
(the gateway's backend listener, or the broker itself). A --hostile-share of the
slots sends garbage frames, replays its own earlier first flight, or opens a
connection and stays silent, and the results say what the server did with each.

Timings per stage (TCP connect, handshake, CONNACK, SUBACK, publish to ack, end
to end) go into HDR histograms; failures are counted by stage and reason code.
A progress line shows while it runs, with rates per second and the current p99s
(--metrics-addr serves Prometheus metrics; deploy/grafana has a dashboard); at
the end a summary prints, the ramp apart from the steady state, and --out
writes the results JSON, which holds the histograms themselves and the run
second by second (counts and latencies per wall-clock second), so that shard
results merge exactly (shakedown results merge) and report draws the timeline.
--hold 0 holds the devices until SIGINT. QoS 0 has no publish_ack stage (no
acknowledgement), plain MQTT no handshake stage. Shorthands with
emqtt-bench's flags: sim conn, sim pub, sim sub.

Two engines run the devices' MQTT (--engine): paho, the paho.mqtt.golang
client (ten goroutines a device), and lean, paho's packet codec under one
reader goroutine a device, for fleets of tens of thousands. Both run the same
stages, reconnects and results; a fleet of more than 1,000 devices runs lean
unless the scenario says paho.

A scenario file (--scenario, YAML) holds the same settings as the flags; flags
win over it. Its keys: target, devices, mix, rate, ramp, hold, publish_interval,
qos, payload_size, topic, subscriptions, keepalive, engine, reconnect {policy,
max_attempts, backoff}, hostile {share, kinds, timeout}, timeouts {handshake,
ack, drain}, noise_pattern, tls_mode, tls_auth, fixtures {dir, seed, devices_per_profile,
now}, gateway {noise, seed, psk, tls}, backend {addr, username, password},
broker {addr, tls, ca_file, server_name, insecure, username, password,
client_id}, source_addrs, metrics_addr, thresholds.
--shard i/n runs slots i, i+n, i+2n, ... of the fleet; inside a Kubernetes
Indexed Job the shard comes from JOB_COMPLETION_INDEX and JOB_COMPLETIONS.

Thresholds make the verdict, in the manner of k6's: --threshold EXPR
(repeatable), or the scenario's thresholds list; the flags replace the file's
list. EXPR is METRIC OP VALUE, OP one of < <= > >= == !=, and METRIC
  STAGE.AGG  a latency, VALUE a duration with its unit (2s, 150ms, 500us).
             STAGE: start_lag, tcp_connect, handshake, connack, connect,
             suback, publish_ack, end_to_end, halfopen_close. AGG: p50, p90,
             p95, p99, p99.9 (any pNN, or k6's p(NN)), mean, min, max.
  a count    any key of the results' "counts": connected, connect_failed,
             devices_lost, sessions_lost (also lost_sessions), reconnects,
             publish_failed, unpublished, missing, duplicates, received, ...
  a ratio    connect_failed_ratio, devices_lost_ratio (of the legitimate
             devices), sessions_lost_ratio (of the sessions),
             publish_failed_ratio (of the published), missing_ratio (of the
             acknowledged).
  a rate     connects_per_s, handshakes_per_s, publishes_per_s.
Defaults: missing==0, publish_failed==0 and devices_lost==0 hold unless the
scenario sets a threshold of the same family; one on devices_lost,
connect_failed or sessions_lost (or their ratios) replaces devices_lost==0,
and that is how a scenario says how much loss it expects. A device is lost
when it never connects, or its session ends for good before its hold is
over; one that reconnects by the --reconnect policy is not. A threshold on
something the run did not measure (no samples, no end-to-end subscriber)
fails; a default one is n/a. The summary lists every threshold with the
run's value.

Exit status: 0 every threshold held; 1 a threshold failed (the summary and
the error say which); 2 a bad flag, scenario or threshold, or a run that
could not start (for example an unreachable end-to-end subscriber); 3
interrupted by SIGINT or SIGTERM: the devices stop, messages acknowledged
before the signal still get their --drain-timeout to arrive, the results
written cover the run up to the signal and say "interrupted": true, and
thresholds are not judged.`

// simExample is the examples of `shakedown sim`.
const simExample = `  # 2,000 noise devices against a local server, addresses from its ready file
  shakedown fixtures gen fx --seed demo --devices 2000
  shakedown serve --fixtures fx --registry sqlite:fx/reg.db --backend-password s3cret --ready-file ready.json &
  shakedown sim --fixtures fx --gateway-ready ready.json --backend-password s3cret \
      --devices 2000 --rate 500 --hold 5s --publish-interval 1s --out out.json

  # the same fleet, failing (exit 1) when a threshold breaks
  shakedown sim --fixtures fx --gateway-ready ready.json --backend-password s3cret \
      --devices 2000 --rate 500 --hold 5s --publish-interval 1s \
      --threshold 'connect.p99<2s' --threshold 'missing==0' --threshold 'lost_sessions==0'

  # a mixed fleet with 5% hostile devices, from a scenario file
  shakedown sim --scenario fleet.yaml --backend-password s3cret --hostile-share 0.05

  # plain MQTT straight to mosquitto, spread over 19 loopback source addresses
  shakedown sim --target broker --broker-addr 127.0.0.1:1883 --devices 50000 \
      --rate 2000 --source-addrs 127.0.0.2-127.0.0.20

  # fleet.yaml
  target: gateway
  devices: 10000
  mix: {noise: 8, tls: 2}
  rate: 1000
  ramp: 5s
  hold: 30s
  publish_interval: 5s
  qos: 1
  subscriptions: ["devices/{id}/cmd"]   # quote {id} inside [ ] and { }
  hostile: {share: 0.01, kinds: [garbage, replay, halfopen]}
  fixtures: {seed: demo, devices_per_profile: 9999}
  gateway: {noise: gw:8885, tls: gw:8883}
  backend: {addr: gw:1884, username: backend}
  thresholds: ["connect.p99<2s", "end_to_end.p(99)<500ms", "devices_lost_ratio<0.001"]`

// simOptions are the flags of `shakedown sim`: the scenario fields they
// set, and what the command does around the run.
type simOptions struct {
	fs         simulator.Scenario // the scenario flags write here
	fields     []simField
	file       string
	readyFile  string
	shardFlag  string
	resultsOut string
	progress   time.Duration
	quiet      bool
	cpuProfile string
	capacity   capacityOptions
}

// newSimCmd is `shakedown sim`.
func newSimCmd() *cobra.Command {
	o := &simOptions{fs: simulator.DefaultScenario()}
	cmd := &cobra.Command{
		Use:     "sim",
		Short:   "Run a fleet of simulated devices against the gateway or any MQTT broker",
		Long:    simLong + capacityHelp,
		Example: simExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := buildScenario(cmd, o.file, o.readyFile, &o.fs, o.fields)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if o.cpuProfile != "" {
				stop, err := startCPUProfile(o.cpuProfile)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("sim: --cpuprofile: %w", err)}
				}
				defer stop()
			}
			if o.capacity.vary != "" {
				return runCapacity(cmd, &o.capacity, sc, o.resultsOut)
			}
			shard, err := simShard(cmd, o.shardFlag)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return runSim(cmd, sc, shard, o.resultsOut, o.progress, o.quiet)
		},
	}
	o.bind(cmd.Flags())
	cmd.AddCommand(newSimBenchCmds()...)
	return cmd
}

// bind adds the flags of sim to f: the run's own, then one per scenario
// field.
func (o *simOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.file, "scenario", "", "YAML scenario file; flags win over it")
	f.StringVar(&o.readyFile, "gateway-ready", "", "fill the listener, backend and (broker target) plain-MQTT addresses left empty from `shakedown serve --ready-file`")
	f.StringVar(&o.shardFlag, "shard", "", "run shard i of n (i/n); default from JOB_COMPLETION_INDEX and JOB_COMPLETIONS, else 0/1")
	f.StringVarP(&o.resultsOut, "out", "o", "", "write the results JSON here (- for stdout; the summary then goes to stderr)")
	renamed(f, "results", "out")
	f.DurationVar(&o.progress, "progress-interval", 0, "progress line period (default 1s on a terminal, 5s otherwise)")
	f.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write the simulator's own CPU profile here (go tool pprof reads it): where a load generator sharing the machine with its target spends")
	o.bindFleet(f)
	o.bindEnds(f)
	o.capacity.bind(f)
}

// add records that flag sets one scenario field, copied by cp.
func (o *simOptions) add(flag string, cp func(dst, src *simulator.Scenario)) {
	o.fields = append(o.fields, simField{flag, cp})
}

// bindFleet adds the flags of the fleet's behaviour: target, arrivals,
// messages, reconnects, hostile devices, timeouts, profiles' settings.
func (o *simOptions) bindFleet(f *pflag.FlagSet) {
	fs, add := &o.fs, o.add
	target := string(fs.Target)
	f.StringVar(&target, "target", target, "gateway (the reference server's profiles) or broker (plain MQTT or MQTT over TLS)")
	add("target", func(d, _ *simulator.Scenario) { d.Target = simulator.Target(target) })
	f.IntVar(&fs.Devices, "devices", fs.Devices, "number of devices in the whole fleet")
	add("devices", func(d, s *simulator.Scenario) { d.Devices = s.Devices })
	mix := mixValue{m: &fs.Mix}
	f.Var(&mix, "mix", "profile mix as kind=weight,...: noise, seed, seed-p256, seed-secp160r1, psk, tls")
	add("mix", func(d, s *simulator.Scenario) { d.Mix = s.Mix })
	f.Float64Var(&fs.Rate, "rate", fs.Rate, "arrivals (connections) per second after the ramp; 0: all at once")
	add("rate", func(d, s *simulator.Scenario) { d.Rate = s.Rate })
	f.DurationVar(&fs.Ramp, "ramp", fs.Ramp, "the arrival rate rises linearly from 0 to --rate over this time")
	add("ramp", func(d, s *simulator.Scenario) { d.Ramp = s.Ramp })
	f.DurationVar(&fs.Hold, "hold", fs.Hold, "how long each device stays connected; 0: until interrupted (exit 3, results complete up to the signal)")
	add("hold", func(d, s *simulator.Scenario) { d.Hold = s.Hold })
	f.DurationVar(&fs.PublishInterval, "publish-interval", fs.PublishInterval, "time between a device's publishes (0: none); hold/interval messages each")
	add("publish-interval", func(d, s *simulator.Scenario) { d.PublishInterval = s.PublishInterval })
	f.Uint8Var(&fs.QoS, "qos", fs.QoS, "QoS of publishes and subscriptions: 0, 1 or 2")
	add("qos", func(d, s *simulator.Scenario) { d.QoS = s.QoS })
	f.IntVar(&fs.PayloadSize, "payload-size", fs.PayloadSize, fmt.Sprintf("bytes per message (at least %d)", simulator.PayloadHeaderLen))
	add("payload-size", func(d, s *simulator.Scenario) { d.PayloadSize = s.PayloadSize })
	f.StringVar(&fs.Topic, "topic", fs.Topic, "publish topic; {id} is the client ID")
	add("topic", func(d, s *simulator.Scenario) { d.Topic = s.Topic })
	f.StringSliceVar(&fs.Subscriptions, "subscribe", fs.Subscriptions, "topic filters each device subscribes to ({id} as in --topic; \"\" for none)")
	add("subscribe", func(d, s *simulator.Scenario) { d.Subscriptions = nonEmpty(s.Subscriptions) })
	f.DurationVar(&fs.KeepAlive, "keepalive", fs.KeepAlive, "MQTT keep-alive (0: off)")
	add("keepalive", func(d, s *simulator.Scenario) { d.KeepAlive = s.KeepAlive })
	f.StringVar(&fs.Engine, "engine", fs.Engine, fmt.Sprintf("device engine: paho (the reference client) or lean (paho's packet codec, one goroutine a device); default lean above %d devices", simulator.LeanAbove))
	add("engine", func(d, s *simulator.Scenario) { d.Engine = s.Engine })
	f.IntVar(&fs.Receivers, "receivers", fs.Receivers, fmt.Sprintf("end-to-end subscribers sharing the fleet's messages ($share subscription when above 1); 0: 1 up to %d devices, %d above", simulator.LeanAbove, simulator.ReceiversAbove))
	add("receivers", func(d, s *simulator.Scenario) { d.Receivers = s.Receivers })
	f.StringVar(&fs.Reconnect.Policy, "reconnect", fs.Reconnect.Policy, "after a failed connect or a lost session: none, immediate or backoff")
	add("reconnect", func(d, s *simulator.Scenario) { d.Reconnect.Policy = s.Reconnect.Policy })
	f.IntVar(&fs.Reconnect.MaxAttempts, "reconnect-attempts", fs.Reconnect.MaxAttempts, "retries per device")
	add("reconnect-attempts", func(d, s *simulator.Scenario) { d.Reconnect.MaxAttempts = s.Reconnect.MaxAttempts })
	f.DurationVar(&fs.Reconnect.Backoff, "reconnect-backoff", fs.Reconnect.Backoff, "first backoff delay, doubling each retry")
	add("reconnect-backoff", func(d, s *simulator.Scenario) { d.Reconnect.Backoff = s.Reconnect.Backoff })
	f.Float64Var(&fs.Hostile.Share, "hostile-share", fs.Hostile.Share, "fraction of the slots that are hostile (0..1)")
	add("hostile-share", func(d, s *simulator.Scenario) { d.Hostile.Share = s.Hostile.Share })
	f.StringSliceVar(&fs.Hostile.Kinds, "hostile-kinds", fs.Hostile.Kinds, "hostile kinds dealt in turn: garbage, replay, halfopen")
	add("hostile-kinds", func(d, s *simulator.Scenario) { d.Hostile.Kinds = s.Hostile.Kinds })
	f.DurationVar(&fs.Hostile.Timeout, "hostile-timeout", fs.Hostile.Timeout, "how long a hostile device waits for the server to answer or close")
	add("hostile-timeout", func(d, s *simulator.Scenario) { d.Hostile.Timeout = s.Hostile.Timeout })
	f.DurationVar(&fs.Timeouts.Handshake, "handshake-timeout", fs.Timeouts.Handshake, "deadline of TCP connect, handshake and CONNACK")
	add("handshake-timeout", func(d, s *simulator.Scenario) { d.Timeouts.Handshake = s.Timeouts.Handshake })
	f.DurationVar(&fs.Timeouts.Ack, "ack-timeout", fs.Timeouts.Ack, "deadline of SUBACK, PUBACK and PUBCOMP")
	add("ack-timeout", func(d, s *simulator.Scenario) { d.Timeouts.Ack = s.Timeouts.Ack })
	f.DurationVar(&fs.Timeouts.Drain, "drain-timeout", fs.Timeouts.Drain, "how long to wait at the end for messages still on their way")
	add("drain-timeout", func(d, s *simulator.Scenario) { d.Timeouts.Drain = s.Timeouts.Drain })
	f.StringVar(&fs.NoisePattern, "noise-pattern", fs.NoisePattern, "noise devices' pattern: IK, XK or KK (the server's must match)")
	add("noise-pattern", func(d, s *simulator.Scenario) { d.NoisePattern = s.NoisePattern })
	f.StringVar(&fs.TLSMode, "tls-mode", fs.TLSMode, "tls devices' certificate check: none, fingerprint, spki, ca or ca-noclock")
	add("tls-mode", func(d, s *simulator.Scenario) { d.TLSMode = s.TLSMode })
	f.StringVar(&fs.TLSAuth, "tls-auth", fs.TLSAuth, "how tls devices prove themselves: certificate (mutual TLS) or password (MQTT CONNECT)")
	add("tls-auth", func(d, s *simulator.Scenario) { d.TLSAuth = s.TLSAuth })
}

// bindEnds adds the flags of what the fleet talks to and with: fixtures,
// gateway and backend, broker, source addresses, metrics, thresholds.
func (o *simOptions) bindEnds(f *pflag.FlagSet) {
	fs, add := &o.fs, o.add
	f.StringVar(&fs.Fixtures.Dir, "fixtures", "", "fixture directory holding the devices' identities (as given to serve --fixtures)")
	add("fixtures", func(d, s *simulator.Scenario) { d.Fixtures.Dir = s.Fixtures.Dir })
	f.StringVar(&fs.Fixtures.Seed, "fixture-seed", "", "build the fixture set in memory from this seed instead of a directory")
	add("fixture-seed", func(d, s *simulator.Scenario) { d.Fixtures.Seed = s.Fixtures.Seed })
	f.IntVar(&fs.Fixtures.DevicesPerProfile, "fixture-devices", 0, "devices per profile of --fixture-seed (as fixtures gen --devices)")
	add("fixture-devices", func(d, s *simulator.Scenario) { d.Fixtures.DevicesPerProfile = s.Fixtures.DevicesPerProfile })
	f.StringVar(&fs.Fixtures.Now, "fixture-now", "", "--now of the fixture set built from --fixture-seed (RFC 3339)")
	add("fixture-now", func(d, s *simulator.Scenario) { d.Fixtures.Now = s.Fixtures.Now })
	f.StringToStringVar(&fs.Gateway, "gateway", nil, "gateway listeners as profile=host:port,... (noise, seed, psk, tls)")
	add("gateway", func(d, s *simulator.Scenario) { d.Gateway = s.Gateway })
	f.StringVar(&fs.Backend.Addr, "backend-addr", "", "the gateway's backend listener, for the end-to-end subscriber (empty: no end-to-end)")
	add("backend-addr", func(d, s *simulator.Scenario) { d.Backend.Addr = s.Backend.Addr })
	f.StringVar(&fs.Backend.Username, "backend-user", fs.Backend.Username, "backend listener username")
	add("backend-user", func(d, s *simulator.Scenario) { d.Backend.Username = s.Backend.Username })
	f.StringVar(&fs.Backend.Password, "backend-password", "", "backend listener password (or SHAKEDOWN_BACKEND_PASSWORD)")
	add("backend-password", func(d, s *simulator.Scenario) { d.Backend.Password = s.Backend.Password })
	f.StringVar(&fs.Broker.Addr, "broker-addr", "", "broker target: host:port")
	add("broker-addr", func(d, s *simulator.Scenario) { d.Broker.Addr = s.Broker.Addr })
	f.BoolVar(&fs.Broker.TLS, "broker-tls", false, "broker target: MQTT over TLS 1.3")
	add("broker-tls", func(d, s *simulator.Scenario) { d.Broker.TLS = s.Broker.TLS })
	f.StringVar(&fs.Broker.CAFile, "broker-ca", "", "broker target: CA certificates (PEM) to verify it (default: the fixture CA)")
	add("broker-ca", func(d, s *simulator.Scenario) { d.Broker.CAFile = s.Broker.CAFile })
	f.StringVar(&fs.Broker.ServerName, "broker-server-name", "", "broker target: the name to verify (default: the host of --broker-addr)")
	add("broker-server-name", func(d, s *simulator.Scenario) { d.Broker.ServerName = s.Broker.ServerName })
	f.BoolVar(&fs.Broker.Insecure, "broker-insecure", false, "broker target: accept any certificate")
	add("broker-insecure", func(d, s *simulator.Scenario) { d.Broker.Insecure = s.Broker.Insecure })
	f.StringVar(&fs.Broker.Username, "broker-user", "", "broker target: MQTT username of every device")
	add("broker-user", func(d, s *simulator.Scenario) { d.Broker.Username = s.Broker.Username })
	f.StringVar(&fs.Broker.Password, "broker-password", "", "broker target: MQTT password of every device")
	add("broker-password", func(d, s *simulator.Scenario) { d.Broker.Password = s.Broker.Password })
	f.StringVar(&fs.Broker.ClientID, "client-id", fs.Broker.ClientID, "broker target: client ID template, {n} the slot number")
	add("client-id", func(d, s *simulator.Scenario) { d.Broker.ClientID = s.Broker.ClientID })
	f.StringVar(&fs.SourceAddrs, "source-addrs", "", "spread connections over these local addresses: 127.0.0.2-127.0.0.20,10.0.0.5")
	add("source-addrs", func(d, s *simulator.Scenario) { d.SourceAddrs = s.SourceAddrs })
	f.StringVar(&fs.MetricsAddr, "metrics-addr", "", "serve Prometheus /metrics here while running (empty: off)")
	add("metrics-addr", func(d, s *simulator.Scenario) { d.MetricsAddr = s.MetricsAddr })
	f.StringArrayVar(&fs.Thresholds, "threshold", nil, "pass/fail criterion METRIC OP VALUE, repeatable: 'connect.p99<2s', 'missing==0' (see above); replaces the scenario's thresholds")
	add("threshold", func(d, s *simulator.Scenario) { d.Thresholds = s.Thresholds })
}

// buildScenario is the defaults, then the scenario file, then the flags
// given on the command line; the ready file fills the addresses still empty.
func buildScenario(cmd *cobra.Command, file, ready string, fs *simulator.Scenario, fields []simField) (simulator.Scenario, error) {
	sc := simulator.DefaultScenario()
	if file != "" {
		var err error
		if sc, err = simulator.LoadScenario(file); err != nil {
			return sc, err
		}
	}
	for _, fl := range fields {
		if cmd.Flags().Changed(fl.flag) {
			fl.copy(&sc, fs)
		}
	}
	if ready != "" {
		if err := applyReady(&sc, ready); err != nil {
			return sc, err
		}
	}
	if sc.Backend.Password == "" {
		sc.Backend.Password = os.Getenv("SHAKEDOWN_BACKEND_PASSWORD")
	}
	return sc, sc.Check()
}

// applyReady fills the addresses the scenario leaves empty from the ready
// file of `shakedown serve --ready-file`: the profiles' listeners, the
// backend listener, and for the broker target the plain-MQTT baseline.
func applyReady(sc *simulator.Scenario, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--gateway-ready: %w", err)
	}
	var r struct {
		Listeners map[string]string `json:"listeners"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("--gateway-ready: not a ready file: %w", err)
	}
	if len(sc.Gateway) == 0 {
		sc.Gateway = map[string]string{}
		for _, p := range []string{"noise", "seed", "psk", "tls"} {
			if a := r.Listeners[p]; a != "" {
				sc.Gateway[p] = a
			}
		}
	}
	if sc.Backend.Addr == "" {
		sc.Backend.Addr = r.Listeners["backend"]
	}
	if sc.Target == simulator.TargetBroker && sc.Broker.Addr == "" {
		sc.Broker.Addr = r.Listeners["plain"]
	}
	return nil
}

// simShard is --shard, else the Kubernetes environment, else the whole fleet.
func simShard(cmd *cobra.Command, flag string) (simulator.Shard, error) {
	if cmd.Flags().Changed("shard") {
		return simulator.ParseShard(flag)
	}
	s, _, err := simulator.ShardFromEnv(os.Getenv)
	return s, err
}

func runSim(cmd *cobra.Command, sc simulator.Scenario, shard simulator.Shard, resultsOut string, progress time.Duration, quiet bool) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	summaryOut := stdout
	if resultsOut == "-" {
		summaryOut = stderr
	}
	slots := shard.Slots(sc.Devices)
	if _, err := simulator.RaiseFileLimit(uint64(slots) + fdMargin); err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if sc.MetricsAddr != "" {
		stop, addr, err := serveMetrics(sc.MetricsAddr, reg)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stderr, "metrics on http://%s/metrics\n", addr)
	}
	cfg := simulator.Config{Scenario: sc, Shard: shard, Metrics: reg, ProgressInterval: progress, Terminal: isTerminal(os.Stderr)}
	if !quiet {
		cfg.Progress = stderr
	}
	fmt.Fprintf(stderr, "shard %s: %d of %d devices, target %s\n", shard, slots, sc.Devices, sc.Target)
	ctx := cmd.Context()
	res, err := simulator.Run(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: exitInterrupted, err: fmt.Errorf("sim: interrupted before the run started: %w", err)}
		}
		return &exitError{code: exitUsage, err: err}
	}
	if err := writeResults(res, resultsOut, stdout); err != nil {
		return err
	}
	if err := simulator.WriteSummary(summaryOut, res); err != nil {
		return err
	}
	return judge("sim", summaryOut, res)
}

// fdMargin is the descriptors a run needs besides one per device: the
// subscriber, hostile and replay connections, metrics, files.
const fdMargin = 256

// judge prints the thresholds' verdicts on r and returns the exit status
// they make: interrupted results are not judged (3), a failed threshold is
// 1 and names every one that failed.
func judge(cmdName string, w io.Writer, r *simulator.Results) error {
	if r.Interrupted {
		fmt.Fprintln(w, "\nthresholds: not judged, the run was interrupted")
		return &exitError{code: exitInterrupted, err: fmt.Errorf("%s: interrupted: the results cover the run up to the signal", cmdName)}
	}
	vs, err := simulator.Evaluate(r)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := simulator.WriteVerdicts(w, vs); err != nil {
		return err
	}
	failed := simulator.Failed(vs)
	if len(failed) == 0 {
		return nil
	}
	names := make([]string, len(failed))
	for i, v := range failed {
		names[i] = v.String()
	}
	return &exitError{code: exitCheckFailed, err: fmt.Errorf("%s: %d of %d thresholds failed: %s",
		cmdName, len(failed), len(vs), strings.Join(names, ", "))}
}

func writeResults(r *simulator.Results, path string, stdout io.Writer) error {
	r.ShakedownVersion = version.String()
	switch path {
	case "":
		return nil
	case "-":
		return r.Encode(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if err := r.Encode(f); err != nil {
		f.Close()
		return fmt.Errorf("writing results: %w", err)
	}
	return f.Close()
}

func serveMetrics(addr string, reg *prometheus.Registry) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return func() { srv.Close(); <-done }, ln.Addr().String(), nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// mixValue is --mix: kind=weight,... into a map.
type mixValue struct{ m *map[string]float64 }

func (v *mixValue) String() string {
	if v.m == nil || *v.m == nil {
		return ""
	}
	keys := make([]string, 0, len(*v.m))
	for k := range *v.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat((*v.m)[k], 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (v *mixValue) Set(s string) error {
	out := map[string]float64{}
	for part := range strings.SplitSeq(s, ",") {
		k, w, hasWeight := strings.Cut(strings.TrimSpace(part), "=")
		weight := 1.0
		if hasWeight {
			var err error
			if weight, err = strconv.ParseFloat(w, 64); err != nil {
				return errors.New("want kind=weight,... (weights are numbers)")
			}
		}
		out[k] = weight
	}
	*v.m = out
	return nil
}

func (v *mixValue) Type() string { return "kind=weight,..." }

var _ pflag.Value = (*mixValue)(nil)

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// startCPUProfile profiles this process's CPU into path until the
// returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
