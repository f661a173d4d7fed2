package reports

import (
	"fmt"
	"math"
)

// What a capacity search steps up (SimCapacity.Vary).
const (
	VaryConnect = "connect" // arrivals (connections) per second
	VaryPublish = "publish" // publishes per second over the whole fleet
)

// SimCapacity is a capacity search (`shakedown sim --capacity`): the
// offered rate stepped up while the thresholds held for a whole step, then
// bisected between the last rate that held and the first that did not.
type SimCapacity struct {
	Vary string `json:"vary"` // VaryConnect or VaryPublish
	// Stage is the stage whose p99 the curve shows (connect, publish_ack or
	// end_to_end).
	Stage string `json:"stage"`
	// Knee is the highest offered rate whose thresholds held for a whole
	// step; 0 when none held.
	Knee float64 `json:"knee"`
	// StepSeconds is how long each step offered its rate.
	StepSeconds float64 `json:"step_seconds"`
	// Thresholds are the ones each step was judged by.
	Thresholds []string  `json:"thresholds"`
	Steps      []SimStep `json:"steps"` // in the order they ran
	// Note says why the search ended before its precision, when it did.
	Note string `json:"note,omitempty"`
}

// SimStep is one step of a capacity search.
type SimStep struct {
	Rate     float64  `json:"rate"`             // offered per second
	Achieved float64  `json:"achieved"`         // what completed per second in the step's steady state (or over the step)
	Held     bool     `json:"held"`             // every threshold held
	P99US    int64    `json:"p99_us"`           // the p99 of Stage, µs; 0 when it had no samples
	Errors   int64    `json:"errors"`           // failed steps of every stage
	Failed   []string `json:"failed,omitempty"` // the thresholds that failed, with the step's value
}

// RateUnit is the unit of a capacity search's rates: "connects/s" or
// "publishes/s".
func RateUnit(vary string) string {
	if vary == VaryPublish {
		return "publishes/s"
	}
	return "connects/s"
}

// maxSteps bounds a capacity search in a results file.
const maxSteps = 256

func (c *SimCapacity) check() error {
	if c == nil {
		return nil
	}
	fail := func(field, msg string) error {
		return &InputError{Doc: "sim", Field: "capacity." + field, Err: fmt.Errorf("%w: %s", ErrInvalid, msg)}
	}
	switch {
	case c.Vary != VaryConnect && c.Vary != VaryPublish:
		return fail("vary", "want connect or publish")
	case len(c.Stage) > maxLabelLen || len(c.Note) > 1024:
		return fail("stage", "too long")
	case !finiteNonNeg(c.Knee) || !finiteNonNeg(c.StepSeconds):
		return fail("knee", "want a finite rate, 0 or more")
	case len(c.Steps) > maxSteps || len(c.Thresholds) > maxLabels:
		return fail("steps", "too many")
	}
	for _, s := range c.Steps {
		if !finiteNonNeg(s.Rate) || !finiteNonNeg(s.Achieved) || s.P99US < 0 || s.Errors < 0 || len(s.Failed) > maxLabels {
			return fail("steps", "a step is out of range")
		}
	}
	return nil
}

func finiteNonNeg(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 }
