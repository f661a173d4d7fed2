package simulator

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"shakedown/reports"
)

// Shard is one part of a fleet run by one process: slot s belongs to shard
// s mod Count. Slots keep their place in the whole fleet's schedule, so n
// shards started together offer the same load as one process.
type Shard struct {
	Index, Count int
}

// MaxShards bounds Shard.Count.
const MaxShards = reports.MaxShards

// Whole is the fleet in one process.
var Whole = Shard{Index: 0, Count: 1}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Owns reports whether slot belongs to the shard.
func (s Shard) Owns(slot int) bool { return slot%s.Count == s.Index }

// Slots returns how many of n slots the shard owns.
func (s Shard) Slots(n int) int {
	if n <= s.Index {
		return 0
	}
	return (n-s.Index-1)/s.Count + 1
}

// ErrBadShard is a shard that is not "i/n" with 0 <= i < n <= MaxShards.
var ErrBadShard = errors.New("simulator: shard must be i/n with 0 <= i < n <= 10000")

// ParseShard reads "i/n".
func ParseShard(v string) (Shard, error) {
	i, n, ok := strings.Cut(v, "/")
	if !ok {
		return Shard{}, ErrBadShard
	}
	return makeShard(i, n)
}

func makeShard(i, n string) (Shard, error) {
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil || cnt < 1 || cnt > MaxShards || idx < 0 || idx >= cnt {
		return Shard{}, ErrBadShard
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX in every pod; the
// manifest of deploy/k8s sets JOB_COMPLETIONS to spec.completions.
const (
	EnvShardIndex = "JOB_COMPLETION_INDEX"
	EnvShardCount = "JOB_COMPLETIONS"
)

// ShardFromEnv reads the shard from the Kubernetes environment; ok is false
// when JOB_COMPLETION_INDEX is unset.
func ShardFromEnv(getenv func(string) string) (s Shard, ok bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	i := getenv(EnvShardIndex)
	if i == "" {
		return Whole, false, nil
	}
	n := getenv(EnvShardCount)
	if n == "" {
		return Shard{}, true, fmt.Errorf("simulator: %s is set but %s is not (set it to the Job's completions)", EnvShardIndex, EnvShardCount)
	}
	s, err = makeShard(i, n)
	return s, true, err
}

// Arrival is slot i's scheduled start, as an offset from the start of the
// run. The rate rises linearly from 0 to Rate over Ramp and stays there:
//
//	arrivals by t, t <= Ramp:  N(t) = Rate·t²/(2·Ramp)
//	arrivals by t, t >  Ramp:  N(t) = Rate·Ramp/2 + Rate·(t - Ramp)
//
// and slot i starts at N⁻¹(i). Rate 0 starts every slot at 0.
func (s *Scenario) Arrival(i int) time.Duration {
	if s.Rate <= 0 || i <= 0 {
		return 0
	}
	r, ramp := s.Rate, s.Ramp.Seconds()
	x := float64(i)
	var t float64
	if inRamp := r * ramp / 2; x < inRamp {
		t = math.Sqrt(2 * ramp * x / r)
	} else {
		t = ramp + (x-inRamp)/r
	}
	return time.Duration(t * float64(time.Second))
}

// Slot is one place of the fleet: what runs there and with which identity.
type Slot struct {
	N       int           // the slot number, 0..Devices-1
	Kind    string        // a key of Scenario.Mix
	Index   int           // the identity's index within its kind
	Hostile string        // "" for a legitimate device, else a HostileKinds value
	At      time.Duration // scheduled start
}

// Plan deals the fleet's slots: kinds by smooth weighted round robin over
// the mix (so every prefix of the fleet has the mix's proportions), hostile
// slots spread evenly at Hostile.Share, their kinds in turn. Every slot has
// its own identity. The plan depends on the scenario alone, never on the
// shard, so shards agree on it.
func (s *Scenario) Plan() []Slot {
	kinds := s.mixOrder()
	weights := make([]float64, len(kinds))
	var total float64
	for i, k := range kinds {
		weights[i] = s.Mix[k]
		total += weights[i]
	}
	current := make([]float64, len(kinds))
	next := map[string]int{}
	hostileSeen := 0
	slots := make([]Slot, s.Devices)
	for n := range slots {
		best := 0
		for i := range kinds {
			current[i] += weights[i]
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		k := kinds[best]
		sl := Slot{N: n, Kind: k, Index: next[k], At: s.Arrival(n)}
		next[k]++
		// Slot n is hostile when ⌊(n+1)·share⌋ > ⌊n·share⌋.
		if share := s.Hostile.Share; share > 0 && math.Floor(float64(n+1)*share) > math.Floor(float64(n)*share) {
			sl.Hostile = s.Hostile.Kinds[hostileSeen%len(s.Hostile.Kinds)]
			hostileSeen++
		}
		slots[n] = sl
	}
	return slots
}

// mixOrder returns the mix's kinds in the order of Kinds.
func (s *Scenario) mixOrder() []string {
	var out []string
	for _, k := range Kinds {
		if _, ok := s.Mix[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// KindCounts returns how many identities each kind of the mix needs.
func KindCounts(plan []Slot) map[string]int {
	out := map[string]int{}
	for _, sl := range plan {
		out[sl.Kind] = max(out[sl.Kind], sl.Index+1)
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
