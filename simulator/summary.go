package simulator

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Quantiles of the summary table.
var summaryQuantiles = []struct {
	name string
	q    float64
}{{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}, {"max", 1}}

// WriteSummary prints the summary table of r: counts, rates, memory, one
// line of quantiles per stage, failures by stage and reason, and the
// hostile outcomes.
func WriteSummary(w io.Writer, r *Results) error {
	c := r.Counts
	started, ended := r.Span()
	peak := 0
	for _, s := range r.Shards {
		peak += s.PeakActive
	}
	shards := "1 process"
	if len(r.Shards) > 0 && r.Shards[0].Count > 1 {
		shards = fmt.Sprintf("shards %d of %d", len(r.Shards), r.Shards[0].Count)
	}
	fmt.Fprintf(w, "fleet %s: %d devices (%s), target %s, %s, %s\n", r.FleetID, c.Slots, fleetText(&r.Scenario),
		r.Scenario.Target, shards, ended.Sub(started).Round(time.Millisecond))
	if r.Interrupted {
		fmt.Fprintf(w, "INTERRUPTED: the results cover the run up to the signal; %d devices not started, %d cut short\n",
			c.NotStarted, c.CutShort)
	}
	fmt.Fprintf(w, "devices:  connected %d of %d legitimate, never connected %d, lost %d, reconnects %d, sessions lost %d, subscribed %d, hostile %d\n",
		c.Connected, c.Legit, c.ConnectFailed, c.DevicesLost, c.Reconnects, c.SessionsLost, c.Subscribed, c.HostileDevices)
	received := "no end-to-end subscriber"
	for _, s := range r.Shards {
		if s.EndToEnd {
			received = fmt.Sprintf("received %d, missing %d, duplicates %d, malformed %d", c.Received, c.Missing, c.Duplicates, c.Malformed)
		}
	}
	acked := "acknowledged"
	if r.Scenario.QoS == 0 {
		acked = "written (QoS 0: no acknowledgement)"
	}
	fmt.Fprintf(w, "messages: published %d, %s %d, failed %d, not published %d, %s\n",
		c.Published, acked, c.Acked, c.PublishFailed, c.Unpublished, received)
	if c.Delivered > 0 {
		fmt.Fprintf(w, "          delivered to the devices' own subscriptions %d\n", c.Delivered)
	}
	rt := r.Rates()
	fmt.Fprintf(w, "rates:    %.1f connects/s", rt.ConnectsPerSecond)
	if c.Handshakes > 0 {
		fmt.Fprintf(w, ", %.1f handshakes/s", rt.HandshakesPerSecond)
	}
	fmt.Fprintf(w, ", %.1f publishes/s\n", rt.PublishesPerSecond) // over the whole run: the phases follow
	writePhases(w, r)
	if len(r.Shards) == 1 && r.Shards[0].KiBPerDevice > 0 {
		s := r.Shards[0]
		fmt.Fprintf(w, "memory:   %.1f KiB/device resident, %.1f KiB/device Go heap+stacks, at %d devices connected (%d goroutines)\n",
			s.KiBPerDevice, s.GoKiBPerDevice, peak, s.GoroutinesPeak)
	} else if len(r.Shards) > 1 && peak > 0 {
		fmt.Fprintf(w, "memory:   per shard: ")
		for i, s := range r.Shards {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%d: %.1f KiB/device at %d", s.Index, s.KiBPerDevice, s.PeakActive)
		}
		fmt.Fprintln(w)
	}
	writeSettled(w, r)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "stage\tcount\t")
	for _, q := range summaryQuantiles {
		fmt.Fprintf(tw, "%s\t", q.name)
	}
	fmt.Fprintln(tw)
	for _, st := range Stages {
		snap, ok := r.Histograms[string(st)]
		if !ok || snap.Total == 0 {
			continue
		}
		h := snap.HDR()
		fmt.Fprintf(tw, "%s\t%d\t", st, snap.Total)
		for _, q := range summaryQuantiles {
			fmt.Fprintf(tw, "%s\t", FormatLatency(time.Duration(h.ValueAtQuantile(q.q*100))*time.Microsecond))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeNested(w, "failures", r.Failures)
	if r.Counts.Missing > 0 && r.Scenario.Target == TargetBroker {
		fmt.Fprintln(w, "  (missing: acknowledged by the broker, never delivered to the end-to-end subscriber,\n"+
			"   one client in this process; a broker drops what it queues for a slow subscriber past\n"+
			"   its limit: mosquitto's max_queued_messages, 1000 by default)")
	}
	writeNested(w, "hostile", r.Hostile)
	return nil
}

// writeSettled prints the settled memory per device and the most devices
// connected throughout one second.
func writeSettled(w io.Writer, r *Results) {
	if kib, n := settledPerDevice(r); n > 0 {
		fmt.Fprintf(w, "settled:  %.1f KiB/device resident after GC and FreeOSMemory, over the baseline with the fixtures loaded, at %d devices (%d shards)\n",
			kib, n, settledShards(r))
	}
	if n, at := r.ConnectedAtOnce(); n > 0 {
		fmt.Fprintf(w, "at once:  %d devices connected throughout the second %s\n", n, time.Unix(at, 0).UTC().Format(time.RFC3339))
	}
}

// settledPerDevice is the settled resident memory per device over the
// shards that have one: their growth over their baselines, summed, over
// their devices, summed; and those devices.
func settledPerDevice(r *Results) (float64, int) {
	var grown uint64
	n := 0
	for _, s := range r.Shards {
		if s.SettledActive > 0 && s.SettledRSS > s.SettledBaselineRSS {
			grown += s.SettledRSS - s.SettledBaselineRSS
			n += s.SettledActive
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(grown) / float64(n) / 1024, n
}

func settledShards(r *Results) int {
	n := 0
	for _, s := range r.Shards {
		if s.SettledActive > 0 {
			n++
		}
	}
	return n
}

// writePhases prints the rates of the ramp and of the steady state
// (reports.Sim.Phases), from the run's seconds.
func writePhases(w io.Writer, r *Results) {
	ramp, steady, ok := r.Phases()
	if ramp.Seconds == 0 {
		return
	}
	fmt.Fprintf(w, "ramp:     %gs, until every device had connected: %.1f connects/s, %.1f publishes/s, %.1f received/s, %.1f failures/s\n",
		ramp.Seconds, ramp.Connects, ramp.Publishes, ramp.Received, ramp.Failures)
	if !ok {
		fmt.Fprintln(w, "steady:   none: no whole second had every device connected and holding")
		return
	}
	fmt.Fprintf(w, "steady:   %gs, every device connected: %.1f publishes/s", steady.Seconds, steady.Publishes)
	if r.Scenario.QoS > 0 {
		fmt.Fprintf(w, ", %.1f acks/s", steady.Acks)
	}
	fmt.Fprintf(w, ", %.1f received/s, %.1f connects/s, %.1f failures/s\n", steady.Received, steady.Connects, steady.Failures)
}

func writeNested(w io.Writer, title string, m map[string]map[string]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range sortedKeys(m) {
		for _, r := range sortedKeys(m[k]) {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", k, r, m[k][r])
		}
	}
	tw.Flush()
}

// fleetText describes the devices: the profile mix, or the broker target's protocol.
func fleetText(sc *Scenario) string {
	if sc.Target == TargetBroker {
		if sc.Broker.TLS {
			return "MQTT over TLS"
		}
		return "plain MQTT"
	}
	return mixText(sc.Mix)
}

func mixText(mix map[string]float64) string {
	var total float64
	for _, w := range mix {
		total += w
	}
	var parts []string
	for _, k := range sortedKeys(mix) {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*mix[k]/total))
	}
	return strings.Join(parts, ", ")
}

// FormatLatency prints d with three significant figures in µs, ms or s.
func FormatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// Figures are a run's headline numbers, for scripts: rates, latency
// quantiles in milliseconds, and memory per device.
func Figures(r *Results) map[string]float64 {
	rt := r.Rates()
	out := map[string]float64{
		"connects_per_s":   rt.ConnectsPerSecond,
		"handshakes_per_s": rt.HandshakesPerSecond,
		"publishes_per_s":  rt.PublishesPerSecond,
		"connected":        float64(r.Counts.Connected),
		"connect_failed":   float64(r.Counts.ConnectFailed),
		"devices_lost":     float64(r.Counts.DevicesLost),
		"reconnects":       float64(r.Counts.Reconnects),
		"acked":            float64(r.Counts.Acked),
		"received":         float64(r.Counts.Received),
		"missing":          float64(r.Counts.Missing),
	}
	if ramp, steady, ok := r.Phases(); ramp.Seconds > 0 {
		out["ramp_connects_per_s"] = ramp.Connects
		if ok {
			out["steady_publishes_per_s"] = steady.Publishes
			out["steady_received_per_s"] = steady.Received
		}
	}
	for _, st := range []Stage{StageHandshake, StageConnect, StagePublish, StageEndToEnd} {
		if s, ok := r.Histograms[string(st)]; ok && s.Total > 0 {
			out[string(st)+"_p50_ms"] = float64(s.Quantile(0.5)) / float64(time.Millisecond)
			out[string(st)+"_p99_ms"] = float64(s.Quantile(0.99)) / float64(time.Millisecond)
		}
	}
	var peak int
	for _, s := range r.Shards {
		peak += s.PeakActive
	}
	if len(r.Shards) == 1 && r.Shards[0].KiBPerDevice > 0 {
		out["kib_per_device"] = r.Shards[0].KiBPerDevice
		out["go_kib_per_device"] = r.Shards[0].GoKiBPerDevice
	}
	out["peak_connected"] = float64(peak)
	if n, _ := r.ConnectedAtOnce(); n > 0 {
		out["connected_at_once"] = float64(n)
	}
	if kib, n := settledPerDevice(r); n > 0 {
		out["settled_kib_per_device"] = kib
		out["settled_devices"] = float64(n)
	}
	return out
}

// WriteFigures prints Figures as name=value lines, sorted by name.
func WriteFigures(w io.Writer, r *Results) error {
	f := Figures(r)
	for _, k := range sortedKeys(f) {
		if _, err := fmt.Fprintf(w, "%s=%.6g\n", k, f[k]); err != nil {
			return err
		}
	}
	return nil
}
