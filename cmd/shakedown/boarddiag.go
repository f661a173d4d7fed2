package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// mqttIdentity is the device a board speaks MQTT as after its handshake:
// its client ID and, for a tls device, the fixture that holds its password.
type mqttIdentity struct {
	id      string
	fixture *fixtures.Device
}

// check refuses --message when the device is not known well enough.
func (w mqttIdentity) check(prof handshake.Name) error {
	switch {
	case w.id == "":
		return usageErrorf("--message: which device is the board? give --device-id, or --fixtures with --device")
	case prof == handshake.TLS && w.fixture == nil:
		return usageErrorf("--message on tls: the device's MQTT password comes from its fixture set; give --fixtures with --device")
	}
	return nil
}

// echoOverSession speaks MQTT as who over the board's session: it
// subscribes to devices/ID/echo, publishes msg there and returns the copy
// the broker sends back, with the time from PUBLISH to its arrival.
func echoOverSession(ctx context.Context, s *harness.Session, who mqttIdentity, msg string, timeout time.Duration) (string, time.Duration, error) {
	o := mqtt.NewClientOptions().AddBroker("tcp://board-session").SetClientID(who.id).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(timeout).
		SetProtocolVersion(4).SetKeepAlive(0).
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) { return s.Conn(), nil })
	if who.fixture != nil && who.fixture.Profile == handshake.TLS { // the tls profile authenticates in MQTT
		o.SetUsername(who.id).SetPassword(who.fixture.Password())
	}
	c := mqtt.NewClient(o)
	if err := awaitToken(ctx, c.Connect(), timeout, "MQTT CONNECT"); err != nil {
		return "", 0, err
	}
	defer c.Disconnect(50)
	topic := "devices/" + who.id + "/echo"
	got := make(chan string, 1)
	sub := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case got <- string(m.Payload()):
		default:
		}
	})
	if err := awaitToken(ctx, sub, timeout, "SUBSCRIBE "+topic); err != nil {
		return "", 0, err
	}
	start := time.Now()
	if err := awaitToken(ctx, c.Publish(topic, 1, false, msg), timeout, "PUBLISH "+topic); err != nil {
		return "", 0, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case reply := <-got:
		return reply, time.Since(start), nil
	case <-t.C:
		return "", 0, fmt.Errorf("no copy from the broker on %s within %s", topic, timeout)
	case <-ctx.Done():
		return "", 0, ctx.Err()
	}
}

// awaitToken waits for a paho token, the deadline or ctx.
func awaitToken(ctx context.Context, tok mqtt.Token, timeout time.Duration, what string) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("%s: no answer within %s", what, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serverMetrics reads the reference server's handshake counters,
// shakedown_handshakes_total{profile, result}, from its metrics listener:
// the server refuses a handshake without a word on the wire, and counts
// the reason.
type serverMetrics struct {
	url    string
	client *http.Client
}

// handshakeMetric is the counter serverMetrics reads.
const handshakeMetric = "shakedown_handshakes_total"

// newServerMetrics takes host:port (as "shakedown serve" prints its metrics
// listener) or a URL.
func newServerMetrics(addr string) (*serverMetrics, error) {
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("want host:port or an http URL")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	return &serverMetrics{url: u.String(), client: &http.Client{Timeout: 5 * time.Second}}, nil
}

// results are a profile's handshake counts by result (ok or a reason).
type results map[string]float64

// read returns the counts of profile p.
func (m *serverMetrics) read(ctx context.Context, p handshake.Name) (results, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", m.url, resp.Status)
	}
	return parseHandshakeResults(io.LimitReader(resp.Body, 8<<20), p)
}

// parseHandshakeResults reads the Prometheus text exposition in r.
func parseHandshakeResults(r io.Reader, p handshake.Name) (results, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("reading the metrics: %w", err)
	}
	out := results{}
	fam, ok := fams[handshakeMetric]
	if !ok {
		return out, nil
	}
	for _, m := range fam.GetMetric() {
		var profile, result string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "profile":
				profile = l.GetValue()
			case "result":
				result = l.GetValue()
			}
		}
		if profile == string(p) && m.GetCounter() != nil {
			out[result] += m.GetCounter().GetValue()
		}
	}
	return out, nil
}

// snapshot reads the counts before a handshake; nil when m is nil or the
// metrics cannot be read (the failure shows when they are read again).
func (m *serverMetrics) snapshot(ctx context.Context, p handshake.Name) results {
	if m == nil {
		return nil
	}
	r, err := m.read(ctx, p)
	if err != nil {
		return nil
	}
	return r
}

// refusals are the results other than ok that grew from before to after,
// as "reason" or "reason ×n", sorted.
func refusals(before, after results) []string {
	var out []string
	for result, n := range after {
		d := n - before[result]
		if result == "ok" || d <= 0 {
			continue
		}
		if d == 1 {
			out = append(out, result)
		} else {
			out = append(out, fmt.Sprintf("%s ×%.0f", result, d))
		}
	}
	sort.Strings(out)
	return out
}

// serverRefusals reads the counts again until a refusal shows (the server
// counts it as it hangs up, a moment after the board has given up), for up
// to a second.
func (m *serverMetrics) serverRefusals(ctx context.Context, p handshake.Name, before results) ([]string, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 10 {
		after, err := m.read(ctx, p)
		if err != nil {
			return nil, err
		}
		if before == nil {
			before = results{}
		}
		if r := refusals(before, after); len(r) > 0 {
			return r, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, nil
}

// handshakeFailure reports a handshake the board did not complete, from
// both ends, and returns the error of its exit code: a server that cannot
// be reached is a set-up error (2), a refused handshake a failed check (1).
func handshakeFailure(ctx context.Context, out io.Writer, prof handshake.Name, mode bp.Mode, server string, err error, metrics *serverMetrics, before results) error {
	if ctx.Err() != nil {
		return interruptedError(fmt.Errorf("interrupted during the %s handshake", prof))
	}
	var he *handshake.Error
	if !errors.As(err, &he) {
		return checkFailed(fmt.Errorf("board: the %s handshake failed: %w", prof, err))
	}
	if he.Stage == handshake.StageDial {
		return setupError(fmt.Errorf("board: cannot reach the server %s: %w", server, err))
	}
	fmt.Fprintf(out, "%s handshake refused in %s mode\n", prof, mode)
	fmt.Fprintf(out, "  board              %s at %s\n", he.Reason, he.Stage)
	if t, ok := harness.RelayTraceOf(err); ok {
		fmt.Fprintf(out, "  relay              %s\n", t)
	}
	why := fmt.Sprintf("the board reports %s at %s", he.Reason, he.Stage)
	switch {
	case metrics != nil:
		rs, merr := metrics.serverRefusals(ctx, prof, before)
		switch {
		case merr != nil:
			fmt.Fprintf(out, "  server             its metrics could not be read: %v\n", merr)
		case len(rs) == 0:
			fmt.Fprintf(out, "  server             counted no refused %s handshake (%s): the board gave up on its side\n", prof, metrics.url)
		default:
			fmt.Fprintf(out, "  server             refused it: %s (%s{profile=%q} at %s)\n", strings.Join(rs, ", "), handshakeMetric, prof, metrics.url)
			why += "; the server refused it: " + strings.Join(rs, ", ")
		}
	case mode == bp.ModeRelay:
		fmt.Fprintf(out, "  server             gives no reason on the wire; --server-metrics reads the one it counted\n")
	}
	return checkFailed(fmt.Errorf("board: the %s handshake was refused: %s", prof, why))
}
