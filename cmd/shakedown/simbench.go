package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"shakedown/simulator"
)

// benchOptions are the flags of `sim conn|pub|sub`, named and lettered as
// emqtt-bench's.
type benchOptions struct {
	host, topic, user, password, out string
	caFile                           string
	port, count, interval, msgEvery  int
	size                             int
	qos                              uint8
	tls, insecure, quiet             bool
	hold, progress                   time.Duration
	thresholds                       []string
}

// benchKinds are the shorthands: what each does, in emqtt-bench's words.
var benchKinds = []struct{ use, short, example string }{
	{"conn", "Connect -c clients, -i ms apart, and hold them (emqtt-bench conn)",
		"  shakedown sim conn -h 127.0.0.1 -p 1883 -c 1000 -i 5 --hold 10s"},
	{"pub", "Connect -c clients that each publish -s bytes to -t every -I ms (emqtt-bench pub)",
		"  shakedown sim pub -h 127.0.0.1 -p 1883 -c 100 -i 10 -I 100 -t 'bench/%i' -q 1 -s 256 --hold 10s"},
	{"sub", "Connect -c clients that subscribe to -t and count what they receive (emqtt-bench sub)",
		"  shakedown sim sub -h 127.0.0.1 -p 1883 -c 50 -t 'bench/#' -q 1 --hold 10s"},
}

// benchLong is the help every shorthand shares.
const benchLong = `%s.

A shorthand of "shakedown sim --target broker" with emqtt-bench's flags, for a
broker team's first look; the full scenario (sim --help) is the general form.
Arrivals are open loop and every latency counts from its scheduled time. The
clients stay until --hold is over, or, with --hold 0 (the default, as
emqtt-bench), until you press Ctrl-C: then the exit status is 3 and --out
holds the results up to the signal. Progress prints rates per second and the
current p99s; the summary splits the ramp from the steady state.

In -t, %%c and %%i (emqtt-bench's client ID and sequence number) both stand for
the client's ID, the kind, this process's ID and the client's sequence
number ("pub-4711-0"), so that clients of two shorthands running at once
never take over each other's sessions; %%c and %%i must fill a whole topic
level. -h is the host: help is --help.`

func newSimBenchCmds() []*cobra.Command {
	var out []*cobra.Command
	for _, k := range benchKinds {
		out = append(out, newSimBenchCmd(k.use, k.short, k.example, &benchOptions{}))
	}
	return out
}

// newSimBenchCmd is the shorthand kind; its flags land in o.
func newSimBenchCmd(kind, short, example string, o *benchOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use: kind, Short: short, Long: fmt.Sprintf(benchLong, short), Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := o.scenario(kind)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return runSim(cmd, sc, simulator.Whole, o.out, o.progress, o.quiet)
		},
	}
	f := cmd.Flags()
	f.Bool("help", false, "help for "+kind) // no -h: emqtt-bench's -h is the host
	f.StringVarP(&o.host, "host", "h", "127.0.0.1", "the broker's host")
	f.IntVarP(&o.port, "port", "p", 1883, "the broker's port")
	f.IntVarP(&o.count, "count", "c", 200, "number of clients")
	f.IntVarP(&o.interval, "interval", "i", 10, "milliseconds between two clients' connects (0: all at once)")
	f.StringVarP(&o.user, "username", "u", "", "MQTT username of every client")
	f.StringVarP(&o.password, "password", "P", "", "MQTT password of every client")
	f.BoolVarP(&o.tls, "ssl", "S", false, "MQTT over TLS 1.3")
	f.StringVar(&o.caFile, "cacertfile", "", "with --ssl: CA certificates (PEM) to check the broker's certificate against")
	f.BoolVar(&o.insecure, "insecure", false, "with --ssl: accept any certificate")
	f.DurationVar(&o.hold, "hold", 0, "how long each client stays; 0: until interrupted")
	f.StringVarP(&o.out, "out", "o", "", "write the results JSON here")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "pass/fail criterion, as sim --threshold")
	f.DurationVar(&o.progress, "progress-interval", 0, "progress line period (default 1s on a terminal, 5s otherwise)")
	f.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	if kind == "conn" {
		return cmd
	}
	f.StringVarP(&o.topic, "topic", "t", "", "topic to publish to (pub) or filter to subscribe to (sub)")
	f.Uint8VarP(&o.qos, "qos", "q", 0, "QoS: 0, 1 or 2")
	if kind == "pub" {
		f.IntVarP(&o.msgEvery, "interval_of_msg", "I", 1000, "milliseconds between a client's publishes")
		f.IntVarP(&o.size, "size", "s", 256, fmt.Sprintf("payload bytes (at least %d)", simulator.PayloadHeaderLen))
	}
	return cmd
}

// benchTopic reads emqtt-bench's %c and %i as the client's ID.
func benchTopic(t string) string {
	return strings.NewReplacer("%c", "{id}", "%i", "{id}").Replace(t)
}

// scenario is the broker scenario of the shorthand kind.
func (o *benchOptions) scenario(kind string) (simulator.Scenario, error) {
	sc := simulator.DefaultScenario()
	sc.Target = simulator.TargetBroker
	sc.Broker = simulator.Broker{Addr: net.JoinHostPort(o.host, strconv.Itoa(o.port)), TLS: o.tls, Insecure: o.insecure, CAFile: o.caFile,
		Username: o.user, Password: o.password, ClientID: fmt.Sprintf("%s-%d-{n}", kind, os.Getpid())}
	sc.Devices, sc.Hold, sc.Thresholds = o.count, o.hold, o.thresholds
	switch {
	case o.interval < 0 || o.msgEvery < 0:
		return sc, errors.New("sim " + kind + ": -i and -I are milliseconds, 0 or more")
	case o.interval > 0:
		sc.Rate = 1000 / float64(o.interval)
	default:
		sc.Rate = 0
	}
	sc.PublishInterval, sc.Subscriptions, sc.QoS = 0, nil, o.qos
	switch kind {
	case "pub":
		if o.topic == "" {
			return sc, errors.New("sim pub: -t: the topic to publish to")
		}
		sc.Topic, sc.PayloadSize = benchTopic(o.topic), o.size
		sc.PublishInterval = time.Duration(o.msgEvery) * time.Millisecond
	case "sub":
		if o.topic == "" {
			return sc, errors.New("sim sub: -t: the filter to subscribe to")
		}
		sc.Subscriptions = []string{benchTopic(o.topic)}
	}
	if sc.Broker.TLS && sc.Broker.CAFile == "" && !sc.Broker.Insecure {
		return sc, errors.New("sim " + kind + ": --ssl needs --cacertfile or --insecure")
	}
	return sc, sc.Check()
}
