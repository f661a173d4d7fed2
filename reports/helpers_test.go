package reports_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

// sampleRun reads the checked-in results of a small demo run.
func sampleRun() *reports.Run {
	run := &reports.Run{Format: reports.RunFormat, Title: "sample run", Generated: time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)}
	var err error
	run.MITM, err = reports.ReadMITMFile(filepath.Join("testdata", "mitm.json"))
	Expect(err).NotTo(HaveOccurred())
	run.Sim, err = reports.ReadSimFile(filepath.Join("testdata", "sim.json"))
	Expect(err).NotTo(HaveOccurred())
	run.Boards, err = reports.ReadBoardsFile(filepath.Join("testdata", "boards.json"))
	Expect(err).NotTo(HaveOccurred())
	return run
}

// clone copies a run through its JSON, so a test can change one figure.
func clone(run *reports.Run) *reports.Run {
	f, err := os.CreateTemp("", "run-*.json")
	Expect(err).NotTo(HaveOccurred())
	defer os.Remove(f.Name())
	Expect(reports.WriteJSON(f, run)).To(Succeed())
	Expect(f.Close()).To(Succeed())
	c, err := reports.ReadRunFile(f.Name())
	Expect(err).NotTo(HaveOccurred())
	return c
}

// bench returns the bench figure op of board name.
func bench(run *reports.Run, name, op string) *reports.Bench {
	for i := range run.Boards.Boards {
		b := &run.Boards.Boards[i]
		if b.Name != name {
			continue
		}
		for j := range b.Bench {
			if b.Bench[j].Op == op {
				return &b.Bench[j]
			}
		}
	}
	Fail("no bench " + op + " on " + name)
	return nil
}

// withRuns returns a copy of run whose boards ran several handshakes per
// profile, as `shakedown test --runs 3` records them: on the virtual board
// wall-clock samples that spread by far more than the tolerance, on an
// emulated chip the first handshake dearer (it computes the static public
// key too) and the totals a few thousand cycles apart.
func withRuns(run *reports.Run) *reports.Run {
	r := clone(run)
	for i := range r.Boards.Boards {
		b := &r.Boards.Boards[i]
		switch b.Name {
		case "virtual":
			b.Handshakes = nil
			for _, total := range []uint64{983_691, 409_868, 713_673} {
				b.Handshakes = append(b.Handshakes, reports.Handshake{Profile: "noise", OK: true, Total: total, Crypto: total / 4, Unit: reports.UnitNanoseconds,
					BoardMS: float64(total) / 1e6, WallMS: float64(total)/1e6 + 0.3, LimitMS: 1000, Sent: 106, Received: 115})
			}
		case "cortex-m3":
			b.Handshakes = nil
			for _, hc := range [][2]uint64{{24_229_120, 23_798_400}, {20_262_640, 19_832_000}, {20_260_640, 19_832_000}} {
				b.Handshakes = append(b.Handshakes, reports.Handshake{Profile: "noise", OK: true, Total: hc[0], Crypto: hc[1], Unit: reports.UnitInstructions,
					WallMS: 900, Sent: 106, Received: 115})
			}
		}
	}
	return r
}

// handshakes returns the handshakes of profile on board name, in order.
func handshakes(run *reports.Run, name, profile string) []reports.Handshake {
	for i := range run.Boards.Boards {
		b := &run.Boards.Boards[i]
		if b.Name != name {
			continue
		}
		var first, n int
		for j, h := range b.Handshakes {
			if h.Profile == profile {
				if n == 0 {
					first = j
				}
				n++
			}
		}
		if n > 0 {
			return b.Handshakes[first : first+n] // withRuns keeps a profile's handshakes together
		}
	}
	Fail("no " + profile + " handshakes on " + name)
	return nil
}
