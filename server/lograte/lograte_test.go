package lograte_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"shakedown/server/lograte"
)

// records decodes the JSON lines of buf.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("decoding %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newLogger(buf *bytes.Buffer, level slog.Level) (*lograte.Logger, *time.Time) {
	clock := time.Unix(1000, 0)
	l := lograte.New(slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level})), 10*time.Second, 3)
	l.SetClockForTest(func() time.Time { return clock })
	return l, &clock
}

func TestBurstPerKeyAndInterval(t *testing.T) {
	var buf bytes.Buffer
	l, clock := newLogger(&buf, slog.LevelInfo)
	for i := 0; i < 100; i++ {
		l.Info("acl_publish", "publish refused", "reason", "acl_publish", "i", i)
	}
	l.Info("client_id", "connect refused", "reason", "client_id")
	recs := records(t, &buf)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 3 of the flooded key and 1 of the other", len(recs))
	}
	if recs[3]["reason"] != "client_id" {
		t.Fatalf("the other key's record is missing: %v", recs[3])
	}
	for _, r := range recs {
		if _, ok := r["suppressed"]; ok {
			t.Fatalf("suppressed count before any interval ended: %v", r)
		}
	}

	buf.Reset()
	*clock = clock.Add(10 * time.Second)
	l.Info("acl_publish", "publish refused", "reason", "acl_publish")
	recs = records(t, &buf)
	if len(recs) != 1 || recs[0]["suppressed"] != float64(97) {
		t.Fatalf("after the interval: %v, want one record with suppressed 97", recs)
	}
	buf.Reset()
	l.Info("acl_publish", "publish refused")
	if recs = records(t, &buf); len(recs) != 1 || recs[0]["suppressed"] != nil {
		t.Fatalf("the count is reported once: %v", recs)
	}
}

func TestBoundedKeys(t *testing.T) {
	var buf bytes.Buffer
	l, _ := newLogger(&buf, slog.LevelInfo)
	for i := 0; i < 10000; i++ {
		l.Info(fmt.Sprint("key-", i), "refused")
	}
	// 256 keys of their own, then one shared key for the rest.
	if n := len(records(t, &buf)); n != 256+3 {
		t.Fatalf("%d records, want %d", n, 256+3)
	}
}

func TestQuietBelowInfo(t *testing.T) {
	var buf bytes.Buffer
	l, _ := newLogger(&buf, slog.LevelWarn)
	l.Info("acl_publish", "publish refused")
	var nilLogger *lograte.Logger
	nilLogger.Info("acl_publish", "publish refused")
	lograte.New(nil, 0, 0).Info("k", "m")
	if buf.Len() != 0 {
		t.Fatalf("logged at warn level: %s", buf.String())
	}
}
