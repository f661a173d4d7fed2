package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"shakedown/simulator"
)

// TestSimBenchFlags holds the shorthands to emqtt-bench's flags: each lands
// in the scenario field it means.
func TestSimBenchFlags(t *testing.T) {
	o := &benchOptions{}
	cmd := newSimBenchCmd("pub", "", "", o)
	if err := cmd.ParseFlags([]string{"-h", "127.0.0.9", "-p", "1884", "-c", "30", "-i", "20", "-I", "250",
		"-t", "bench/%i/up", "-q", "2", "-s", "100", "-u", "u", "-P", "pw"}); err != nil {
		t.Fatal(err)
	}
	sc, err := o.scenario("pub")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("pub-%d-{n}", os.Getpid())
	switch {
	case sc.Target != simulator.TargetBroker || sc.Broker.Addr != "127.0.0.9:1884" || sc.Broker.ClientID != want:
		t.Errorf("broker %+v", sc.Broker)
	case sc.Devices != 30 || sc.Rate != 50 || sc.PublishInterval != 250*time.Millisecond || sc.Hold != 0:
		t.Errorf("fleet: %d devices at %g/s, a publish every %s, hold %s", sc.Devices, sc.Rate, sc.PublishInterval, sc.Hold)
	case sc.Topic != "bench/{id}/up" || sc.QoS != 2 || sc.PayloadSize != 100 || len(sc.Subscriptions) != 0:
		t.Errorf("messages: %q QoS %d, %d bytes, subscriptions %v", sc.Topic, sc.QoS, sc.PayloadSize, sc.Subscriptions)
	case sc.Broker.Username != "u" || sc.Broker.Password != "pw":
		t.Error("credentials")
	}
	if cmd.Flags().Lookup("help").Shorthand != "" {
		t.Error("-h is the host, not help")
	}

	o = &benchOptions{}
	cmd = newSimBenchCmd("sub", "", "", o)
	if err := cmd.ParseFlags([]string{"-c", "3", "-t", "bench/#", "--hold", "2s"}); err != nil {
		t.Fatal(err)
	}
	if sc, err = o.scenario("sub"); err != nil || sc.PublishInterval != 0 || len(sc.Subscriptions) != 1 || sc.Subscriptions[0] != "bench/#" || sc.Hold != 2*time.Second {
		t.Errorf("sub: %v %+v", err, sc.Subscriptions)
	}
	for _, bad := range [][]string{{"pub"}, {"sub"}, {"pub", "-t", "a/b+"}, {"conn", "-i", "-1"}, {"conn", "--ssl"}} {
		o = &benchOptions{}
		cmd = newSimBenchCmd(bad[0], "", "", o)
		if err := cmd.ParseFlags(bad[1:]); err == nil {
			if _, err := o.scenario(bad[0]); err == nil {
				t.Errorf("%v: no error", bad)
			}
		}
	}
}
