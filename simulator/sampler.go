package simulator

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is the process's memory at one instant.
type memSample struct {
	rss     uint64 // resident set size (Linux; 0 elsewhere)
	goBytes uint64 // Go heap objects, unused heap span space, and stacks
}

var memMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/heap/stacks:bytes"}

func sampleMemory() memSample {
	s := make([]rtmetrics.Sample, len(memMetrics))
	for i, name := range memMetrics {
		s[i].Name = name
	}
	rtmetrics.Read(s)
	var m memSample
	for _, x := range s {
		if x.Value.Kind() == rtmetrics.KindUint64 {
			m.goBytes += x.Value.Uint64()
		}
	}
	m.rss = residentBytes()
	return m
}

// settledMemory is the process's memory once the garbage is collected and
// the free heap returned to the system (runtime.GC, debug.FreeOSMemory):
// what the live objects, stacks and the runtime hold, without the garbage
// of whatever ran before. It blocks its caller for a collection.
func settledMemory() memSample {
	runtime.GC()
	debug.FreeOSMemory()
	return sampleMemory()
}

// residentBytes reads the resident set size from /proc/self/statm.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// peakSample is the memory when the most devices were connected.
type peakSample struct {
	memSample
	active, goroutines int
}

// memoryMarks are a run's memory figures: before the first device, at the
// peak, and settled (settledMemory) before the first device and once every
// device was connected.
type memoryMarks struct {
	base, settledBase memSample
	peak, settled     peakSample
}

// Sampling periods.
const (
	memoryPeriod           = 250 * time.Millisecond
	terminalProgressPeriod = time.Second
	defaultProgressPeriod  = 5 * time.Second
	// settleTicks is how many memory periods the count of connected
	// devices must hold still, every slot started, before the settled
	// sample (2 s).
	settleTicks = 8
)

// sampler tracks the peak of connected devices with the memory at that
// moment, and prints progress lines. It is owned by Run: stop ends it.
type sampler struct {
	f        *fleet
	out      io.Writer
	terminal bool
	every    time.Duration
	done     chan struct{}
	wg       sync.WaitGroup
	marks    memoryMarks
	// The connected count of the last memory period and how many periods
	// it has held still (for the settled sample).
	lastActive, still int
	// The counts of the last progress line (connects, publishes, acks,
	// received, delivered) and its time, for the rates of the next.
	last   [5]int64
	lastAt time.Time
}

func startSampler(f *fleet, cfg Config, base, settledBase memSample) *sampler {
	s := &sampler{f: f, out: cfg.Progress, terminal: cfg.Terminal, every: cfg.ProgressInterval, done: make(chan struct{}),
		marks: memoryMarks{base: base, settledBase: settledBase}}
	if s.every <= 0 {
		s.every = defaultProgressPeriod
		if s.terminal {
			s.every = terminalProgressPeriod
		}
	}
	s.marks.peak.memSample = base
	s.wg.Add(1)
	go s.loop()
	return s
}

func (s *sampler) loop() {
	defer s.wg.Done()
	mem := time.NewTicker(memoryPeriod)
	defer mem.Stop()
	prog := time.NewTicker(s.every)
	defer prog.Stop()
	for {
		select {
		case now := <-mem.C:
			s.f.rec.sec.tick(now)
			s.sample()
			s.settle()
		case <-prog.C:
			s.print(false)
		case <-s.done:
			s.print(true)
			return
		}
	}
}

func (s *sampler) sample() {
	active := int(s.f.rec.active.Load())
	if active == 0 || active < s.marks.peak.active {
		return
	}
	s.marks.peak = peakSample{memSample: sampleMemory(), active: active, goroutines: runtime.NumGoroutine()}
}

// settle takes the settled sample once every slot of the shard has started
// and the count of connected devices has held still for settleTicks
// periods at more devices than the last settled sample had.
func (s *sampler) settle() {
	r := s.f.rec
	active := int(r.active.Load())
	if active != s.lastActive {
		s.lastActive, s.still = active, 0
		return
	}
	s.still++
	if s.still < settleTicks || active <= s.marks.settled.active || r.started.Load() < int64(len(s.f.plan)) {
		return
	}
	s.marks.settled = peakSample{memSample: settledMemory(), active: active, goroutines: runtime.NumGoroutine()}
}

// stop ends the sampler and returns the run's memory figures.
func (s *sampler) stop() memoryMarks {
	close(s.done)
	s.wg.Wait()
	return s.marks
}

func (s *sampler) print(last bool) {
	if s.out == nil {
		return
	}
	line := s.line(time.Now())
	switch {
	case s.terminal && last:
		fmt.Fprintf(s.out, "\r\x1b[K%s\n", line)
	case s.terminal:
		fmt.Fprintf(s.out, "\r\x1b[K%s", line)
	default:
		fmt.Fprintln(s.out, line)
	}
}

// progressStages are the stages whose current p99 a progress line shows.
var progressStages = []Stage{StageHandshake, StageConnect, StagePublish, StageEndToEnd}

// line is a progress line: rates per second since the last line, where the
// fleet stands, and the p99 of each stage over the seconds since the last
// line.
func (s *sampler) line(now time.Time) string {
	r := s.f.rec
	cur := [5]int64{r.connected.Load() + r.reconnects.Load(), r.published.Load(), r.acked.Load(), r.received.Load(), r.delivered.Load()}
	dt := now.Sub(s.lastAt).Seconds()
	if s.lastAt.IsZero() {
		dt = now.Sub(s.f.start).Seconds()
	}
	rate := func(i int) float64 {
		if dt <= 0 {
			return 0
		}
		return float64(cur[i]-s.last[i]) / dt
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  %.0f connects/s  %.0f publishes/s", now.Sub(s.f.start).Seconds(), rate(0), rate(1))
	if s.f.sc.QoS > 0 {
		fmt.Fprintf(&b, "  %.0f acks/s", rate(2))
	}
	if cur[4] > 0 {
		fmt.Fprintf(&b, "  %.0f delivered/s", rate(4))
	}
	fmt.Fprintf(&b, "  %.0f received/s  |  started %d/%d  connected %d  active %d  failed %d  hostile %d",
		rate(3), r.started.Load(), len(s.f.plan), r.connected.Load(), r.active.Load(), r.connectFailed.Load(), r.hostileDevices.Load())
	from := s.lastAt
	if from.IsZero() {
		from = s.f.start
	}
	win := r.sec.window(from.Unix())
	sep := "  |  p99"
	for _, st := range progressStages {
		if h := win[st]; h != nil && h.TotalCount() > 0 {
			fmt.Fprintf(&b, "%s %s %s", sep, st, FormatLatency(time.Duration(h.ValueAtQuantile(99))*time.Microsecond))
			sep = ","
		}
	}
	fmt.Fprintf(&b, "  |  rss %d MiB", residentBytes()>>20)
	s.last, s.lastAt = cur, now
	return b.String()
}
