// Command benchratio reads `go test -bench` output on standard input and
// prints the ratios the project holds itself to, from the medians of
// repeated runs (-count): the noise responder's handshake against five
// X25519 operations measured in the same run.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func main() {
	runs := map[string][]float64{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err == nil {
			runs[m[1]] = append(runs[m[1]], v)
		}
	}
	med := func(name string) (float64, bool) {
		v := runs[name]
		if len(v) == 0 {
			return 0, false
		}
		sort.Float64s(v)
		return v[len(v)/2], true
	}
	x, ok1 := med("BenchmarkX25519")
	s, ok2 := med("BenchmarkServerHandshake/IK")
	if !ok1 || !ok2 {
		fmt.Fprintln(os.Stderr, "benchratio: BenchmarkX25519 or BenchmarkServerHandshake/IK missing from the input")
		os.Exit(1)
	}
	ratio := s / (5 * x)
	verdict := "within"
	if ratio > 1.25 {
		verdict = "OVER"
	}
	fmt.Printf("noise IK responder handshake: %.1f µs; one X25519: %.1f µs; ratio to 5 X25519 = %.3f (%s the 1.25 bound)\n",
		s/1e3, x/1e3, ratio, verdict)
}
