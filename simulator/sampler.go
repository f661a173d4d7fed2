package simulator

import (
	"fmt"
	"io"
	"os"
	"runtime"
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

// Sampling periods.
const (
	memoryPeriod           = 250 * time.Millisecond
	terminalProgressPeriod = time.Second
	defaultProgressPeriod  = 5 * time.Second
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
	peak     peakSample
	// The counts of the last progress line (connects, publishes, acks,
	// received, delivered) and its time, for the rates of the next.
	last   [5]int64
	lastAt time.Time
}

func startSampler(f *fleet, cfg Config, base memSample) *sampler {
	s := &sampler{f: f, out: cfg.Progress, terminal: cfg.Terminal, every: cfg.ProgressInterval, done: make(chan struct{})}
	if s.every <= 0 {
		s.every = defaultProgressPeriod
		if s.terminal {
			s.every = terminalProgressPeriod
		}
	}
	s.peak.memSample = base
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
		case <-mem.C:
			s.sample()
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
	if active == 0 || active < s.peak.active {
		return
	}
	s.peak = peakSample{memSample: sampleMemory(), active: active, goroutines: runtime.NumGoroutine()}
}

// stop ends the sampler and returns the peak.
func (s *sampler) stop() peakSample {
	close(s.done)
	s.wg.Wait()
	return s.peak
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
