// Package simulator runs fleets of simulated devices: MQTT clients (paho's,
// or the lean engine's) whose network connection is the device side of a
// shakedown handshake profile, each with its own identity from a fixture
// set, against the reference gateway or, over plain MQTT or MQTT over TLS,
// any broker.
// It is `shakedown sim`.
//
// One device:
//
//	c, err := simulator.Connect(ctx, simulator.ClientConfig{
//		Device: dev, Addr: "gw:8885", ClientID: "noise-0001",
//	})
//	c.Publish("devices/noise-0001/telemetry", 1, false, payload).Wait()
//
// A fleet:
//
//	sc, err := simulator.LoadScenario("fleet.yaml") // or DefaultScenario() and fields
//	res, err := simulator.Run(ctx, simulator.Config{Scenario: sc, Shard: simulator.Whole})
//	simulator.WriteSummary(os.Stdout, res)
//	res.Encode(file)
//
// # Load
//
// Arrivals are open loop (Scenario.Arrival): slot i of the fleet starts at
// its scheduled time whether or not earlier devices are done, at Rate per
// second after a linear Ramp. Each device connects (TCP, the profile's
// handshake, MQTT CONNECT), subscribes, publishes every PublishInterval for
// Hold, and disconnects; a Hold of 0 keeps it until the run is cancelled. A
// failed connect or a lost session is retried by the Reconnect policy. A Hostile share of the slots sends a garbage frame,
// replays its own earlier first flight (noise: message 1), or opens a
// connection and stays silent, and the results count what the server did:
// closed, answered or held.
//
// # Measurements
//
// Every stage (Stages) goes into an HDR histogram of 1 µs to 10 minutes at
// three significant figures, measured from the stage's scheduled time where
// it has one, so a stalled server shows as latency rather than as missing
// samples (coordinated omission). End-to-end latency comes from a
// subscriber in the same process (the gateway's backend listener, or the
// broker itself), with the scheduled publish time in the payload's header:
// one clock, no skew. The subscriber runs on the fleet's engine: paho's
// client on the paho engine; on the lean engine, paho's codec in one
// goroutine that acknowledges, in one write, every message one read
// brought (leanRx). Failures are counted by stage and reason code
// (handshake.ReasonOf, and the device reasons of package handshake). While
// a run goes, Prometheus metrics and a progress line show it: rates per
// second since the last line and the p99s of the seconds since. Every run
// also records its seconds (reports.SimSecond): what completed in each
// wall-clock second and each stage's latencies in a sparse HDR histogram,
// which merge exactly across shards; the summary splits the ramp from the
// steady state with them (reports.Sim.Phases). QoS 0 publishes have no
// acknowledgement and no publish_ack stage, and plain MQTT no handshake
// stage. The Results
// are the reports' results model (reports.Sim) with the whole scenario:
// they hold the histograms themselves (hdrhistogram Export), so Merge
// combines the results of shards exactly, and a report takes &Results.Sim
// as it is.
//
// # Capacity
//
// Capacity runs the scenario as steps at a rising offered rate (connects or
// publishes per second), each judged by the thresholds, and bisects between
// the highest rate that held and the lowest that failed: the knee, and the
// curve of rate against p99 and failures, go into Results.Capacity.
//
// # Verdict
//
// Thresholds (Scenario.Thresholds, k6 style: "connect.p99<2s",
// "missing==0", "devices_lost_ratio<0.01") are judged by Evaluate on the
// results, together with the DefaultThresholds the scenario does not
// replace: no acknowledged message missing, no publish unacknowledged, no
// legitimate device lost. A run whose context is cancelled (SIGINT,
// SIGTERM) ends early with its results complete up to that moment and
// Results.Interrupted set; the devices it cut short and the slots it kept
// from starting are counted as such, not as failures.
//
// # Engines
//
// Two engines speak the devices' MQTT (Scenario.Engine). paho runs each
// device as a paho.mqtt.golang client, the reference that every fidelity
// spec runs. lean speaks MQTT 3.1.1 with paho's packet codec
// (github.com/eclipse/paho.mqtt.golang/packets) and no client around it: a
// connected device has one goroutine, its reader, and writes its PUBLISH,
// PUBACK and PINGREQ in the goroutine that has them to say (a timer or the
// reader). Both run the same handshakes, CONNECT, SUBSCRIBE, publishes of
// QoS 0, 1 and 2 with their acknowledgements, keep-alive, reconnects,
// stages and results, and a spec holds their counts equal on one gateway. A
// fleet of more than LeanAbove devices runs lean unless the scenario names
// paho. The lean engine reads a packet's remaining length before anything
// else and refuses one over its limit, a malformed one or one a server
// never sends with a counted reason (oversize_packet, malformed,
// protocol_violation), never echoing what it read.
//
// # Scale
//
// A connected device owns no goroutine of the simulator: its publishes and
// the end of its hold are timers, and only its engine's goroutines remain:
// paho's nine per client (ten with a keep-alive), or the lean engine's one
// reader. Connections spread over several
// local addresses (Scenario.SourceAddrs) to pass the ephemeral ports of one
// address pair; RaiseFileLimit lifts RLIMIT_NOFILE; and Shard splits a fleet
// over processes or Kubernetes pods (deploy/k8s), each running slots
// index, index+n, … on the common schedule. Identities are dealt over the
// whole fleet, so shards never share a device.
package simulator
