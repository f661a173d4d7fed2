package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shakedown/reports"
	"shakedown/simulator"
)

// capacityOptions are the flags of `shakedown sim --capacity`.
type capacityOptions struct {
	vary      string
	start     float64
	step      time.Duration
	factor    float64
	precision float64
	maxSteps  int
}

// capacityHelp is the part of sim's help on the capacity search.
const capacityHelp = `

Capacity search (--capacity connect|publish): instead of one run, steps of
--capacity-step each, the offered rate rising by --capacity-factor while
every threshold holds for the whole step, then bisected between the highest
rate that held and the lowest that failed until they are --capacity-precision
apart. connect offers arrivals per second (each step's devices: the rate
times the step; --hold defaults to 1s and --publish-interval to 0 unless
given); publish offers publishes per second from --devices devices (each
step holds them for the step). Without a latency threshold of your own the
steps are judged by connect.p99<1s (publish: publish_ack.p99<1s, or
end_to_end.p99<1s for QoS 0) besides the defaults. It prints a line per step
and the knee, the highest rate that held for a whole step; --out writes the
knee's step with the curve (rate -> p99, failed steps) under "capacity", and
report --sim draws it. Exit status 0 with a knee, 1 when no step held, 3
when interrupted (the steps so far are written).`

func (o *capacityOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.vary, "capacity", "", "search the capacity: step the offered connect or publish rate up while the thresholds hold, then bisect (connect|publish)")
	f.Float64Var(&o.start, "capacity-start", 100, "the search's first offered rate per second")
	f.DurationVar(&o.step, "capacity-step", 5*time.Second, "how long each step offers its rate")
	f.Float64Var(&o.factor, "capacity-factor", simulator.DefaultCapacityFactor, "rate multiplier while the steps hold")
	f.Float64Var(&o.precision, "capacity-precision", simulator.DefaultCapacityPrecision, "bisect until the held and the failed rate are this fraction apart")
	f.IntVar(&o.maxSteps, "capacity-max-steps", simulator.DefaultCapacitySteps, "most steps of the search")
}

// capacityScenario adapts the scenario to the search: the defaults of
// connect mode where the flags did not set them, and a latency threshold
// when the user gave none.
func (o *capacityOptions) capacityScenario(cmd *cobra.Command, sc *simulator.Scenario) {
	changed := cmd.Flags().Changed
	if o.vary == reports.VaryConnect {
		if !changed("hold") {
			sc.Hold = time.Second
		}
		if !changed("publish-interval") {
			sc.PublishInterval = 0
		}
	}
	for _, e := range sc.Thresholds {
		if t, err := simulator.ParseThreshold(e); err == nil && strings.Contains(t.Metric, ".") {
			return // a latency threshold of the user's
		}
	}
	stage := string(simulator.StageConnect)
	switch {
	case o.vary == reports.VaryPublish && sc.QoS == 0:
		stage = string(simulator.StageEndToEnd)
	case o.vary == reports.VaryPublish:
		stage = string(simulator.StagePublish)
	}
	sc.Thresholds = append(sc.Thresholds, stage+".p99<1s")
}

// runCapacity runs the search and prints its steps, the knee and the
// knee's summary.
func runCapacity(cmd *cobra.Command, o *capacityOptions, sc simulator.Scenario, resultsOut string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.vary != reports.VaryConnect && o.vary != reports.VaryPublish {
		return &exitError{code: exitUsage, err: errors.New("sim: --capacity: want connect or publish")}
	}
	if cmd.Flags().Changed("shard") {
		return &exitError{code: exitUsage, err: errors.New("sim: --capacity runs in one process: no --shard")}
	}
	o.capacityScenario(cmd, &sc)
	if err := sc.Check(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if _, err := simulator.RaiseFileLimit(uint64(o.start*o.step.Seconds()*32) + fdMargin); err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
	summaryOut := stdout
	if resultsOut == "-" {
		summaryOut = stderr
	}
	fmt.Fprintf(summaryOut, "capacity search: %s rate from %g/s, steps of %s, judged by %s\n",
		o.vary, o.start, o.step, strings.Join(append(sc.Thresholds, "and the defaults"), ", "))
	ctx := cmd.Context()
	res, err := simulator.Capacity(ctx, simulator.CapacityConfig{Config: simulator.Config{Scenario: sc}, Vary: o.vary,
		Start: o.start, Step: o.step, Factor: o.factor, Precision: o.precision, MaxSteps: o.maxSteps, Out: summaryOut})
	switch {
	case err != nil && ctx.Err() != nil:
		return &exitError{code: exitInterrupted, err: fmt.Errorf("sim: interrupted before the search started: %w", err)}
	case err != nil:
		return &exitError{code: exitUsage, err: err}
	}
	if err := writeResults(res, resultsOut, stdout); err != nil {
		return err
	}
	cp := res.Capacity
	if cp.Note != "" {
		fmt.Fprintln(summaryOut, "note:", cp.Note)
	}
	if res.Interrupted {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("sim: capacity search interrupted after %d steps; the knee so far %g %s", len(cp.Steps), cp.Knee, reports.RateUnit(o.vary))}
	}
	if cp.Knee == 0 {
		return &exitError{code: exitCheckFailed, err: fmt.Errorf("sim: capacity search: no step held, down to %g/s", cp.Steps[len(cp.Steps)-1].Rate)}
	}
	fmt.Fprintf(summaryOut, "\nknee: %.1f %s, the highest offered rate whose thresholds held for a whole %s step (%d steps); its run:\n\n",
		cp.Knee, reports.RateUnit(o.vary), o.step, len(cp.Steps))
	return simulator.WriteSummary(summaryOut, res)
}
