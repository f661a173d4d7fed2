package reports_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"shakedown/reports"
)

// FuzzReaders feeds every decoder of the package arbitrary bytes: each
// either reads a document or returns an *InputError, never panics, and a
// document it read renders to Markdown and compares with itself.
func FuzzReaders(f *testing.F) {
	f.Add(uint8(0), []byte(`{"format":"shakedown-mitm/1","columns":["noise"],"scenarios":["a"],"verdicts":[{"scenario":"a","column":"noise","outcome":"rejected","as_expected":true}]}`))
	f.Add(uint8(1), []byte(`{"version":1,"fleet_id":"f","shards":[{"index":0,"count":1}],"histograms":{"connect":{"lowest":1,"highest":600000000,"significant_figures":3,"total":3,"counts":[0,1,2]}}}`))
	f.Add(uint8(2), []byte(`{"format":"shakedown-boards/1","boards":[{"name":"x","exact":true,"bench":[{"op":"x25519","mean":5,"unit":"cycles"}],"handshakes":[{"profile":"noise","ok":true,"total":3,"board_ms":1,"limit_ms":2}]}]}`))
	f.Add(uint8(3), []byte(`{"format":"shakedown-timeline/1","samples":[{"at_ms":0},{"at_ms":500,"connects":4}]}`))
	f.Add(uint8(4), []byte(`{"format":"shakedown-report/1","sim":{"version":1}}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		run := &reports.Run{Format: reports.RunFormat}
		var err error
		r := bytes.NewReader(data)
		switch which % 5 {
		case 0:
			run.MITM, err = reports.ReadMITM(r)
		case 1:
			run.Sim, err = reports.ReadSim(r)
		case 2:
			run.Boards, err = reports.ReadBoards(r)
		case 3:
			_, err = reports.ReadTimeline(r)
		case 4:
			var got *reports.Run
			if got, err = reports.ReadRun(r); err == nil {
				run = got
			}
		}
		if err != nil {
			var ie *reports.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *InputError: %v", err, err)
			}
			return
		}
		if run.Sim != nil && which%5 == 1 {
			mergeAlone(t, run.Sim)
		}
		if err := reports.WriteMarkdown(io.Discard, run); err != nil {
			t.Fatal(err)
		}
		if c := reports.Compare(run, run, reports.DefaultTolerances()); c.Regressed() {
			t.Fatal("a run regressed against itself")
		}
	})
}

// mergeAlone requires that checked results merge on their own, unchanged
// but for what a merge does not keep.
func mergeAlone(t *testing.T, s *reports.Sim) {
	m, err := reports.MergeSim(s)
	if err != nil {
		t.Fatalf("merging one accepted result: %v", err)
	}
	if m.Counts != s.Counts || len(m.Histograms) != len(s.Histograms) {
		t.Fatal("a result merged alone changed its counts or histograms")
	}
	for st, h := range m.Histograms {
		if h.Total != s.Histograms[st].Total {
			t.Fatalf("%s: total %d after merge, %d before", st, h.Total, s.Histograms[st].Total)
		}
	}
}
