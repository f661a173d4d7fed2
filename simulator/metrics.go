package simulator

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the live Prometheus metrics of a run, labelled with the shard.
type metrics struct {
	started, connects, handshakes, reconnects, lost prometheus.Counter
	published, acked, received                      prometheus.Counter
	active                                          prometheus.Gauge
	failures, hostile                               *prometheus.CounterVec
	stage                                           *prometheus.HistogramVec
}

// Stage latency buckets, in seconds: 100 µs to about 15 minutes.
var stageBuckets = prometheus.ExponentialBuckets(100e-6, 2, 24)

// newMetrics makes the metrics and registers them with reg unless it is nil.
func newMetrics(reg prometheus.Registerer, shard Shard) (*metrics, error) {
	labels := prometheus.Labels{"shard": shard.String()}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "shakedown", Subsystem: "sim", Name: name, Help: help, ConstLabels: labels})
	}
	m := &metrics{
		started:    counter("devices_started_total", "Devices started at their scheduled time."),
		connects:   counter("connects_total", "CONNACKs received."),
		handshakes: counter("handshakes_total", "Handshakes completed."),
		reconnects: counter("reconnects_total", "CONNACKs after a device's first."),
		lost:       counter("sessions_lost_total", "Sessions ended by the network or the server."),
		published:  counter("published_total", "PUBLISH packets handed to the client."),
		acked:      counter("acked_total", "Publishes acknowledged."),
		received:   counter("received_total", "Distinct messages at the end-to-end subscriber."),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "shakedown", Subsystem: "sim", Name: "devices_connected",
			Help: "Devices connected now.", ConstLabels: labels}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "shakedown", Subsystem: "sim", Name: "failures_total",
			Help: "Failed steps by stage and reason code.", ConstLabels: labels}, []string{"stage", "reason"}),
		hostile: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "shakedown", Subsystem: "sim", Name: "hostile_total",
			Help: "Hostile connections by kind and the server's answer.", ConstLabels: labels}, []string{"kind", "outcome"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "shakedown", Subsystem: "sim", Name: "stage_seconds",
			Help: "Latency of each step, from its scheduled time where it has one.", ConstLabels: labels, Buckets: stageBuckets}, []string{"stage"}),
	}
	for _, c := range []prometheus.Collector{m.started, m.connects, m.handshakes, m.reconnects, m.lost, m.published, m.acked,
		m.received, m.active, m.failures, m.hostile, m.stage} {
		if reg == nil {
			break
		}
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
