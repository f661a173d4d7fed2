package mitm

import (
	"context"
	"errors"
	"sync"
	"time"

	"shakedown/reports"
	"shakedown/version"
)

// Matrix runs the catalogue's cells, one at a time, against a Target with
// the devices of a DeviceSource, and judges each. It is the attacker's
// whole part of the lab; package lab composes it with a server, simulated
// devices or a board.
type Matrix struct {
	Target   Target
	Devices  DeviceSource
	Material Material
	// FixturesSeed and TargetName are reported in the results (e.g. the
	// fixture set's seed and "in-process").
	FixturesSeed, TargetName string
	// Timeout bounds each cell; DefaultCellTimeout when zero.
	Timeout time.Duration
	// Progress, when set, is told about each verdict as it is made.
	Progress func(reports.Verdict)
	// Time is the attacker on the way to the devices' time servers, which
	// the network-clock columns need (their cells are not applicable
	// without it); after each cell it passes queries honestly again.
	Time *TimeGate

	mu     sync.Mutex
	shapes map[string]shape // column -> the units of its handshake
}

// DefaultCellTimeout bounds one cell of the matrix.
const DefaultCellTimeout = 60 * time.Second

// Timeouts of the steps inside a cell (tuning, not spec); the devices'
// slack adds to the first two (cellRun.stepTimeout, cellRun.failTimeout).
const (
	// StepTimeout bounds one handshake or MQTT exchange expected to work:
	// it returns as soon as it does, so generous for a loaded machine.
	StepTimeout = 20 * time.Second
	// FailTimeout bounds one exchange expected to fail.
	FailTimeout     = 2 * time.Second
	settle          = 150 * time.Millisecond // quiet time after a refusal before counting deliveries
	pollInterval    = 5 * time.Millisecond
	deliveryTimeout = 20 * time.Second // as StepTimeout
)

// errNoLab is a matrix without a server or devices.
var errNoLab = errors.New("mitm: the matrix needs a target and a device source")

// Run runs the selected cells, one at a time, and returns the matrix. Cut
// short by ctx, it returns the verdicts of the cells that ran, marked
// interrupted, with ctx's error.
func (m *Matrix) Run(ctx context.Context, sel Selection) (*reports.MITM, error) {
	if err := sel.Check(); err != nil {
		return nil, err
	}
	if m.Target == nil || m.Devices == nil {
		return nil, errNoLab
	}
	start := time.Now()
	res := &reports.MITM{Format: reports.MITMFormat, ShakedownVersion: version.String(), Started: start.UTC(),
		FixturesSeed: m.FixturesSeed, Target: m.TargetName}
	for _, c := range Columns {
		if sel.column(c) {
			res.Columns = append(res.Columns, c.Name())
		}
	}
	for _, s := range catalogue {
		if !sel.scenario(s.Name) {
			continue
		}
		res.Scenarios = append(res.Scenarios, s.Name)
		for _, c := range s.Cells {
			if !sel.column(c.Column) {
				continue
			}
			var v reports.Verdict
			err := ctx.Err()
			if err == nil {
				v = m.runCell(ctx, s, c)
				// Cut short by ctx, the cell has no verdict: leave it out.
				err = ctx.Err()
			}
			if err != nil {
				res.Interrupted = true
				res.DurationMS = time.Since(start).Milliseconds()
				return res, err
			}
			res.Add(v)
			if m.Progress != nil {
				m.Progress(v)
			}
		}
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

// RunCell runs one cell.
func (m *Matrix) RunCell(ctx context.Context, scenario string, col Column) (reports.Verdict, error) {
	s, c, err := LookupCell(scenario, col)
	if err != nil {
		return reports.Verdict{}, err
	}
	if m.Target == nil || m.Devices == nil {
		return reports.Verdict{}, errNoLab
	}
	return m.runCell(ctx, s, c), nil
}

func (m *Matrix) runCell(ctx context.Context, s *Scenario, c Cell) reports.Verdict {
	start := time.Now()
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultCellTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v := reports.Verdict{Scenario: s.Name, Column: c.Column.Name(), Profile: string(c.Column.Profile), Variant: c.Column.Variant,
		Expected: c.Expected, Source: c.Source}
	why := m.Devices.NotApplicable(c.Column)
	if why == "" && c.Column.NetworkClock() && m.Time == nil {
		why = "the lab runs no time servers for the devices to ask"
	}
	if why != "" {
		v.Outcome, v.NotApplicable = reports.NotApplicable, why
		return v
	}
	if m.Time != nil {
		defer m.Time.pass()
	}
	r, err := m.newCellRun(cctx, s, c)
	if err == nil {
		v.Device = r.victim.ID
		v.Outcome, err = s.run(r)
		r.way.Close()
		v.Evidence = r.facts
	}
	if err != nil {
		v.Outcome, v.Error = reports.Broken, err.Error()
	}
	v.AsExpected = v.Outcome == v.Expected
	v.DurationMS = time.Since(start).Milliseconds()
	return v
}
