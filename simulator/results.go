package simulator

import (
	"encoding/json"
	"errors"
	"io"

	"shakedown/reports"
)

// ResultsVersion is the version of the results JSON this package writes and reads.
const ResultsVersion = reports.SimVersion

// Results is what a run measured, in the results model the reports share
// (reports.Sim: counts, failures by stage and reason, hostile outcomes, one
// HDR histogram per stage, the shards), with the whole scenario that ran.
// Sim.Scenario is the part of Scenario a report shows: Run, Merge and
// DecodeResults keep it equal to Scenario.SimScenario, so &r.Sim is the
// run's report section as it is. Results of the shards of one fleet merge
// exactly (Merge).
type Results struct {
	reports.Sim
	// Scenario is the whole scenario; in JSON it stands in Sim.Scenario's
	// place, a superset of it.
	Scenario Scenario `json:"scenario"`
}

// newResults returns sim with its scenario sc.
func newResults(sim *reports.Sim, sc Scenario) *Results {
	sim.Scenario = sc.SimScenario
	return &Results{Sim: *sim, Scenario: sc}
}

// MinMemoryDevices is the fewest connected devices at which a run reports
// memory per device: below it, the runtime's own growth swamps the figure.
const MinMemoryDevices = 100

// Merge combines results of shards of one fleet (reports.MergeSim: counts
// add up, histograms merge exactly) and keeps the first one's scenario.
func Merge(rs ...*Results) (*Results, error) {
	sims := make([]*reports.Sim, len(rs))
	for i, r := range rs {
		sims[i] = &r.Sim
	}
	m, err := reports.MergeSim(sims...)
	if err != nil {
		return nil, err
	}
	return newResults(m, rs[0].Scenario), nil
}

// DecodeResults reads and checks a results JSON: reports.Sim.Check, and
// what this package needs besides: thresholds it can judge, and histograms
// of its own geometry, which merge exactly with its own. Its errors are
// *reports.InputError, naming the field and never echoing the input.
func DecodeResults(r io.Reader) (*Results, error) {
	var res Results
	if err := reports.DecodeJSON("sim", r, &res); err != nil {
		return nil, err
	}
	res.Sim.Scenario = res.Scenario.SimScenario
	if err := res.Sim.Check(); err != nil {
		return nil, err
	}
	if err := res.CheckGeometry(HistLowest, HistHighest, HistSigFigs); err != nil {
		return nil, err
	}
	fail := func(msg string) error {
		return &reports.InputError{Doc: "sim", Field: "scenario.thresholds", Err: errors.New(msg)}
	}
	if len(res.Scenario.Thresholds) > MaxThresholds {
		return nil, fail("too many")
	}
	for _, e := range res.Scenario.Thresholds {
		if _, err := ParseThreshold(e); err != nil {
			return nil, fail("a threshold cannot be read")
		}
	}
	return &res, nil
}

// Encode writes r as indented JSON.
func (r *Results) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}
