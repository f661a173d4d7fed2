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
