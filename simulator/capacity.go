package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"shakedown/reports"
)

// CapacityConfig is a capacity search: the scenario's fleet run again and
// again at a rising offered rate, each run a step judged by the scenario's
// thresholds (Evaluate, defaults included).
type CapacityConfig struct {
	// Config is the fleet of every step: its scenario, less what Vary
	// sets, and its identities. Steps run unsharded and without metrics.
	Config
	// Vary is what a step offers: reports.VaryConnect sets the arrival
	// rate (and Devices to the rate times Step: every device arrives within
	// the step); reports.VaryPublish sets the publish interval of the
	// scenario's Devices so that they publish the rate together, and Hold
	// to Step.
	Vary string
	// Start is the first step's rate per second; Step how long a step
	// offers it.
	Start float64
	Step  time.Duration
	// Factor multiplies the rate while every step holds (default 2);
	// once a step fails, the search bisects between the highest rate that
	// held and the lowest that did not until they are within Precision of
	// each other (default 0.05: 5 %).
	Factor, Precision float64
	// MaxSteps bounds the search (default 24).
	MaxSteps int
	// Out receives a line per step; nil prints nothing.
	Out io.Writer
}

// Defaults of a capacity search.
const (
	DefaultCapacityFactor    = 2
	DefaultCapacityPrecision = 0.05
	DefaultCapacitySteps     = 24
	minCapacityRate          = 0.1 // per second: a search that fails below it has no knee
)

// ErrCapacity is a capacity search that cannot start.
var ErrCapacity = errors.New("simulator: capacity search")

func (c *CapacityConfig) check() error {
	if c.Factor == 0 {
		c.Factor = DefaultCapacityFactor
	}
	if c.Precision == 0 {
		c.Precision = DefaultCapacityPrecision
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultCapacitySteps
	}
	switch {
	case c.Vary != reports.VaryConnect && c.Vary != reports.VaryPublish:
		return fmt.Errorf("%w: vary connect or publish", ErrCapacity)
	case !finite(c.Start) || c.Start < minCapacityRate:
		return fmt.Errorf("%w: the start rate must be at least %g per second", ErrCapacity, minCapacityRate)
	case c.Step < time.Second:
		return fmt.Errorf("%w: a step lasts at least 1s", ErrCapacity)
	case !finite(c.Factor) || c.Factor <= 1 || c.Factor > 100:
		return fmt.Errorf("%w: the factor must be above 1 and at most 100", ErrCapacity)
	case !finite(c.Precision) || c.Precision <= 0 || c.Precision >= 1:
		return fmt.Errorf("%w: the precision must lie between 0 and 1", ErrCapacity)
	case c.MaxSteps < 2 || c.MaxSteps > 256:
		return fmt.Errorf("%w: want 2-256 steps", ErrCapacity)
	case c.Vary == reports.VaryPublish && c.Scenario.PayloadSize == 0:
		return fmt.Errorf("%w: publishing needs a payload size", ErrCapacity)
	}
	return nil
}

// stepScenario is the scenario of a step offering rate.
func (c *CapacityConfig) stepScenario(rate float64) Scenario {
	sc := c.Scenario
	if c.Vary == reports.VaryConnect {
		sc.Rate, sc.Ramp = rate, 0
		sc.Devices = min(MaxDevices, max(1, int(math.Ceil(rate*c.Step.Seconds()))))
		return sc
	}
	sc.Hold = c.Step
	sc.PublishInterval = max(time.Microsecond, time.Duration(float64(sc.Devices)/rate*float64(time.Second)))
	return sc
}

// curveStage is the stage whose p99 the curve shows.
func (c *CapacityConfig) curveStage() Stage {
	switch {
	case c.Vary == reports.VaryConnect:
		return StageConnect
	case c.Scenario.QoS == 0:
		return StageEndToEnd
	}
	return StagePublish
}

// search is the state of the bisection: lo held, hi failed (0: none yet).
type search struct {
	lo, hi float64
	best   *Results // the results of lo's step
}

// next is the rate after a step at rate, or false when the search is done.
func (s *search) next(c *CapacityConfig, rate float64, held bool) (float64, bool) {
	if held {
		s.lo = rate
	} else {
		s.hi = rate
	}
	switch {
	case s.hi == 0:
		return rate * c.Factor, true
	case s.lo == 0:
		r := rate / c.Factor
		return r, r >= minCapacityRate
	case s.hi/s.lo-1 <= c.Precision:
		return 0, false
	}
	return (s.lo + s.hi) / 2, true
}

// Capacity runs the search and returns the results of the highest step
// that held (of the last step when none did) with the search in
// Results.Capacity: the knee and the curve. A cancelled ctx ends the
// search with its results so far, Interrupted. It returns an error only
// when the search cannot start or a step cannot run.
func Capacity(ctx context.Context, c CapacityConfig) (*Results, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	c.Metrics, c.Shard = nil, Whole
	if c.Set == nil && c.Scenario.Target == TargetGateway && (c.Scenario.Fixtures.Dir != "" || c.Scenario.Fixtures.Seed != "") {
		set, err := LoadFixtures(c.Scenario.Fixtures) // once, not per step
		if err != nil {
			return nil, err
		}
		c.Set = set
	}
	cp := &reports.SimCapacity{Vary: c.Vary, Stage: string(c.curveStage()), StepSeconds: c.Step.Seconds(),
		Thresholds: effectiveThresholds(c.Scenario.Thresholds)}
	var s search
	var last *Results
	rate := c.Start
	for range c.MaxSteps {
		cfg := c.Config
		cfg.Scenario = c.stepScenario(rate)
		res, err := Run(ctx, cfg)
		if err != nil {
			if len(cp.Steps) == 0 {
				return nil, err
			}
			cp.Note = fmt.Sprintf("stopped at %g/s: %v", rate, err)
			break
		}
		last = res
		if res.Interrupted {
			break
		}
		step, err := judgeStep(res, rate, c.curveStage())
		if err != nil {
			return nil, err
		}
		cp.Steps = append(cp.Steps, step)
		c.printStep(len(cp.Steps), step, res.Failures)
		if step.Held {
			s.best = res
		}
		var more bool
		if rate, more = s.next(&c, rate, step.Held); !more {
			break
		}
	}
	if len(cp.Steps) == c.MaxSteps && s.hi > 0 && s.lo > 0 && s.hi/s.lo-1 > c.Precision {
		cp.Note = fmt.Sprintf("stopped after %d steps, the knee between %g/s and %g/s", c.MaxSteps, s.lo, s.hi)
	}
	cp.Knee = s.lo
	out := s.best
	if out == nil || last.Interrupted {
		out = last
	}
	if last.Interrupted {
		out.Interrupted = true
	}
	out.Capacity = cp
	return out, nil
}

// judgeStep is a step's point of the curve.
func judgeStep(res *Results, rate float64, st Stage) (reports.SimStep, error) {
	vs, err := Evaluate(res)
	if err != nil {
		return reports.SimStep{}, err
	}
	step := reports.SimStep{Rate: rate, Held: len(Failed(vs)) == 0}
	for _, v := range Failed(vs) {
		step.Failed = append(step.Failed, v.String())
	}
	if h, ok := res.Histograms[string(st)]; ok && h.Total > 0 {
		step.P99US = h.Quantile(0.99).Microseconds()
	}
	for _, m := range res.Failures {
		for _, n := range m {
			step.Errors += n
		}
	}
	rt := res.Rates()
	step.Achieved = rt.ConnectsPerSecond
	if st != StageConnect {
		step.Achieved = rt.PublishesPerSecond
		if _, steady, ok := res.Phases(); ok {
			step.Achieved = steady.Publishes
		}
	}
	return step, nil
}

func (c *CapacityConfig) printStep(n int, st reports.SimStep, failures map[string]map[string]int64) {
	if c.Out == nil {
		return
	}
	verdict := "held"
	if !st.Held {
		verdict = "FAILED"
	}
	fmt.Fprintf(c.Out, "step %2d: %8.1f %s offered for %s: %s; %.1f/s achieved, %s p99 %s, %d failed steps\n",
		n, st.Rate, reports.RateUnit(c.Vary), c.Step, verdict, st.Achieved, c.curveStage(), FormatLatency(time.Duration(st.P99US)*time.Microsecond), st.Errors)
	for _, f := range st.Failed {
		fmt.Fprintf(c.Out, "         %s\n", f)
	}
	for _, stage := range sortedKeys(failures) {
		for _, r := range sortedKeys(failures[stage]) {
			fmt.Fprintf(c.Out, "         %s %s: %d\n", stage, r, failures[stage][r])
		}
	}
}

// effectiveThresholds lists the thresholds a run is judged by: the
// scenario's, then the defaults they do not replace.
func effectiveThresholds(own []string) []string {
	out := append([]string(nil), own...)
	families := map[string]bool{}
	for _, e := range own {
		if t, err := ParseThreshold(e); err == nil {
			families[ThresholdFamily(t.Metric)] = true
		}
	}
	for _, e := range DefaultThresholds {
		t, _ := ParseThreshold(e) // the defaults parse: a spec holds them to it
		if !families[ThresholdFamily(t.Metric)] {
			out = append(out, e)
		}
	}
	return out
}
