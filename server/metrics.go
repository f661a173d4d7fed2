package server

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shakedown/handshake"
)

// Metrics is the gateway's Prometheus Observer. Result labels are the
// handshake reason codes ("ok" for success), the same codes as the typed
// errors and the logs.
type Metrics struct {
	Registry   *prometheus.Registry
	handshakes *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	sessions   *prometheus.GaugeVec
	bytes      *prometheus.CounterVec
	registry   *prometheus.HistogramVec
	refused    *prometheus.CounterVec
	transport  *prometheus.CounterVec
	accepts    *prometheus.CounterVec
}

// NewMetrics registers the gateway's metrics in a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shakedown_handshakes_total", Help: "Handshakes by profile and result (ok or the reason code).",
		}, []string{"profile", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shakedown_handshake_duration_seconds", Help: "Duration of successful server-side handshakes.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
		}, []string{"profile"}),
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shakedown_sessions_active", Help: "Device sessions in progress after a handshake.",
		}, []string{"profile"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shakedown_session_bytes_total", Help: "Application bytes of device sessions, by direction (in: from devices).",
		}, []string{"profile", "direction"}),
		registry: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shakedown_registry_seconds", Help: "Latency of registry calls made by handshakes.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 2, 18),
		}, []string{"op"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shakedown_mqtt_refused_total", Help: "MQTT packets or sessions of devices refused after the handshake (embedded broker or bridge), by profile and reason.",
		}, []string{"profile", "reason"}),
		transport: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shakedown_transport_failures_total", Help: "Device sessions ended by a record that failed after the handshake (decrypt_failed: altered, replayed or reordered; short_frame; oversize_frame; malformed), by profile and reason.",
		}, []string{"profile", "reason"}),
		accepts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shakedown_accept_errors_total", Help: "Failed accepts (EMFILE and the like), by listener; each is retried after a wait.",
		}, []string{"listener"}),
	}
	m.Registry.MustRegister(m.handshakes, m.duration, m.sessions, m.bytes, m.registry, m.refused, m.transport, m.accepts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// BrokerDropped exports the embedded broker's counts of messages dropped
// for a subscriber, by reason: write_queue (the client's write queue was
// full) and inflight_full (it had the most unacknowledged QoS 1 and 2
// messages the broker keeps for a client).
func (m *Metrics) BrokerDropped(dropped func() (queue, inflight int64)) {
	for reason, pick := range map[string]func() int64{
		"write_queue":   func() int64 { q, _ := dropped(); return q },
		"inflight_full": func() int64 { _, i := dropped(); return i },
	} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "shakedown_mqtt_dropped_total",
			Help:        "Messages the embedded broker accepted and dropped for a subscriber, by reason (write_queue: see serve --mqtt-write-queue; inflight_full: too many unacknowledged).",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, func() float64 { return float64(pick()) }))
	}
}

// HalfOpen exports the gateway's half-open table: the handshakes in
// progress, and those of them waiting for their peer (Gateway.HalfOpen).
func (m *Metrics) HalfOpen(halfOpen func() (handshakes, waiting int)) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shakedown_half_open_handshakes", Help: "Handshakes in progress: the slots taken in the half-open table (serve --max-half-open).",
		}, func() float64 { h, _ := halfOpen(); return float64(h) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shakedown_half_open_waiting", Help: "Handshakes in progress that wait for their peer's bytes: the ones a newcomer to a full table may evict.",
		}, func() float64 { _, w := halfOpen(); return float64(w) }),
	)
}

// AcceptFailed implements AcceptObserver.
func (m *Metrics) AcceptFailed(listener string) {
	m.accepts.WithLabelValues(listener).Inc()
}

// Handshake implements Observer.
func (m *Metrics) Handshake(p handshake.Name, reason handshake.Reason, d time.Duration) {
	result := string(reason)
	if reason == "" {
		result = "ok"
		m.duration.WithLabelValues(string(p)).Observe(d.Seconds())
	}
	m.handshakes.WithLabelValues(string(p), result).Inc()
}

// Session implements Observer.
func (m *Metrics) Session(p handshake.Name, delta int) {
	m.sessions.WithLabelValues(string(p)).Add(float64(delta))
}

// Bytes implements Observer.
func (m *Metrics) Bytes(p handshake.Name, in bool, n int) {
	dir := "out"
	if in {
		dir = "in"
	}
	m.bytes.WithLabelValues(string(p), dir).Add(float64(n))
}

// Refused counts an MQTT packet or session refused after the handshake.
func (m *Metrics) Refused(p handshake.Name, reason handshake.Reason) {
	m.refused.WithLabelValues(string(p), string(reason)).Inc()
}

// TransportFailed implements TransportObserver.
func (m *Metrics) TransportFailed(p handshake.Name, reason handshake.Reason) {
	m.transport.WithLabelValues(string(p), string(reason)).Inc()
}

// Timed wraps a directory and counter store so that every call is measured.
func (m *Metrics) Timed(d handshake.Directory, c handshake.CounterStore) (handshake.Directory, handshake.CounterStore) {
	t := &timedRegistry{d: d, c: c, h: m.registry}
	return t, t
}

type timedRegistry struct {
	d handshake.Directory
	c handshake.CounterStore
	h *prometheus.HistogramVec
}

func (t *timedRegistry) observe(op string, start time.Time) {
	t.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (t *timedRegistry) DeviceByID(ctx context.Context, id string) (handshake.DeviceRecord, error) {
	defer t.observe("device_by_id", time.Now())
	return t.d.DeviceByID(ctx, id)
}

func (t *timedRegistry) DeviceByKey(ctx context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	defer t.observe("device_by_key", time.Now())
	return t.d.DeviceByKey(ctx, p, key)
}

func (t *timedRegistry) AcceptCounter(ctx context.Context, id string, c uint64) error {
	defer t.observe("accept_counter", time.Now())
	return t.c.AcceptCounter(ctx, id, c)
}

// Handler serves /metrics and /healthz; healthy reports readiness.
func (m *Metrics) Handler(healthy func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

// meteredConn counts a session's application bytes.
type meteredConn struct {
	net.Conn
	p   handshake.Name
	obs Observer
}

func (c meteredConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.obs.Bytes(c.p, true, n)
	}
	return n, err
}

func (c meteredConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.obs.Bytes(c.p, false, n)
	}
	return n, err
}
