package main

import (
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"shakedown/simulator"
)

// TestSimHelpThresholds holds the thresholds that `sim --help` prints, in
// its flags and in its scenario file, to the parser: they work as printed.
func TestSimHelpThresholds(t *testing.T) {
	var help string
	for _, c := range root.Commands() {
		if c.Name() == "sim" {
			help = c.Long + "\n" + c.Example
		}
	}
	if help == "" {
		t.Fatal("no sim command")
	}
	var exprs []string
	for _, m := range regexp.MustCompile(`--threshold '([^'\n]*)'`).FindAllStringSubmatch(help, -1) {
		exprs = append(exprs, m[1])
	}
	flagged := len(exprs)
	for line := range strings.SplitSeq(help, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "thresholds:"); ok {
			var list []string
			if err := yaml.Unmarshal([]byte(v), &list); err != nil {
				t.Fatalf("the scenario's thresholds line is not a YAML list: %v", err)
			}
			exprs = append(exprs, list...)
		}
	}
	if flagged < 3 || len(exprs) <= flagged {
		t.Fatalf("want the flag examples and the scenario's list in the help; found %d and %d", flagged, len(exprs)-flagged)
	}
	for _, e := range exprs {
		if _, err := simulator.ParseThreshold(e); err != nil {
			t.Errorf("the help's threshold %q: %v", e, err)
		}
	}
	for _, e := range simulator.DefaultThresholds {
		if !strings.Contains(help, e) {
			t.Errorf("the help does not name the default %s", e)
		}
	}
}
