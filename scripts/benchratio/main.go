// Command benchratio reads `go test -bench` output on standard input and
// prints the ratios the project holds itself to, from the medians of
// repeated runs (-count):
//
//   - the noise IK responder's handshake against five X25519 operations,
//     interleaved in one benchmark (BenchmarkHandshakeCostRatio; bound 1.25);
//   - full-path noise handshakes per second (TCP, registry lookup, counter
//     persisted) against the responder's crypto alone, on the same cores as
//     the clients (BenchmarkNoiseHandshakeRate; no goal: it mixes the
//     clients' CPU with the server's);
//   - the responder's crypto CPU per handshake against the CPU a separate
//     `shakedown serve` spends per full-path handshake (BenchmarkServerCPU;
//     goal 0.7).
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var name = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s`)

func main() {
	// metrics[benchmark][unit] = values over runs
	metrics := map[string]map[string][]float64{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := name.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(sc.Text())[2:]
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if metrics[m[1]] == nil {
				metrics[m[1]] = map[string][]float64{}
			}
			metrics[m[1]][f[i+1]] = append(metrics[m[1]][f[i+1]], v)
		}
	}
	med := func(bench, unit string) (float64, bool) {
		v := metrics[bench][unit]
		if len(v) == 0 {
			return 0, false
		}
		sort.Float64s(v)
		return v[len(v)/2], true
	}
	printed := false
	if r, ok := med("BenchmarkHandshakeCostRatio", "ratio"); ok {
		hs, _ := med("BenchmarkHandshakeCostRatio", "handshake-µs")
		dh, _ := med("BenchmarkHandshakeCostRatio", "5xX25519-µs")
		fmt.Printf("noise IK responder handshake %.1f µs vs 5 X25519 %.1f µs: ratio %.3f (bound 1.25: %s)\n", hs, dh, r, verdict(r <= 1.25))
		printed = true
	}
	crypto, ok1 := med("BenchmarkNoiseHandshakeRate/crypto", "hs/s")
	for _, backend := range []string{"sqlite", "postgres"} {
		full, ok2 := med("BenchmarkNoiseHandshakeRate/fullpath-"+backend, "hs/s")
		if ok1 && ok2 {
			r := full / crypto
			fmt.Printf("noise full path (%s) %.0f handshakes/s vs responder crypto %.0f/s: ratio %.2f (clients and server share the cores; the goal is on the server's own CPU)\n", backend, full, crypto, r)
			printed = true
		}
	}
	if r, ok := med("BenchmarkServerCPU", "ratio"); ok {
		c, _ := med("BenchmarkServerCPU", "crypto-cpu-µs/hs")
		sv, _ := med("BenchmarkServerCPU", "server-cpu-µs/hs")
		fmt.Printf("server CPU per full-path noise handshake %.0f µs vs responder crypto %.0f µs: ratio %.2f (goal 0.7: %s)\n", sv, c, r, verdict(r >= 0.7))
		printed = true
	}
	if !printed {
		fmt.Fprintln(os.Stderr, "benchmark: no ratio benchmarks in the input")
		os.Exit(1)
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
