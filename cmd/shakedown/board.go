package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shakedown/boards"
	"shakedown/boards/measure"
	"shakedown/boards/virtual"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// boardFlags are the flags every board subcommand shares: which port, which
// profile.
type boardFlags struct {
	port        string
	serial      string
	board       string
	profileFile string
	baud        int
}

func (f *boardFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.port, "port", "p", "", "serial port of the board, e.g. /dev/ttyACM0, COM3 or the /dev/pts/N of a virtual board")
	cmd.Flags().StringVar(&f.serial, "serial", "", "find the board by its USB serial number instead of --port")
	cmd.Flags().StringVarP(&f.board, "board", "b", "", "board profile ("+strings.Join(boards.Names(), ", ")+"); recognised from the USB ids when omitted")
	cmd.Flags().StringVar(&f.profileFile, "board-file", "", "a board profile YAML file of your own instead of --board")
	renamed(cmd.Flags(), "profile-file", "board-file")
	cmd.Flags().IntVar(&f.baud, "baud", 0, "override the profile's baud rate")
}

// where is the board the flags name.
func (f *boardFlags) where() boards.Where {
	return boards.Where{Port: f.port, Serial: f.serial, Board: f.board, ProfileFile: f.profileFile, Baud: f.baud}
}

// open resolves the port and the profile and opens the board. A board that
// cannot be opened or does not answer is a set-up error: nothing ran.
func (f *boardFlags) open(ctx context.Context, cmd *cobra.Command, skipHello bool) (*harness.Board, boards.Profile, error) {
	b, prof, err := f.where().Open(ctx, cmd.ErrOrStderr(), func(o *harness.Options) { o.SkipHello = skipHello })
	if err != nil {
		return nil, prof, setupError(err)
	}
	return b, prof, nil
}

// newBoardCmd is `shakedown board` and its subcommands.
func newBoardCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "board",
		Short: "List, inspect, benchmark and drive boards over serial",
		Long: `Drive microcontroller boards that run the shakedown agent firmware, over a
serial port, with the board protocol of docs/board-protocol.md.

A board is found by its port (--port) or its USB serial number (--serial).
Its profile (--board) gives the serial settings, timeouts, reset method and
limits; for a USB board it is recognised from the VID and PID when omitted.
No hardware at hand? "shakedown board virtual" starts a virtual board on a
pseudo-terminal that every other subcommand can talk to.`,
		Example: `  shakedown board list
  shakedown board profiles
  shakedown board virtual &                      # prints its /dev/pts/N
  shakedown board info --port /dev/pts/3
  shakedown board bench --port /dev/ttyACM0 --board uno
  shakedown board handshake --port /dev/ttyUSB0 --profile noise --server 192.168.1.10:8885`,
	}
	cmd.AddCommand(newBoardListCmd(), newBoardProfilesCmd(), newBoardInfoCmd(), newBoardBenchCmd(), newBoardHandshakeCmd(),
		newBoardConsoleCmd(), newBoardVirtualCmd())
	return cmd
}

// newBoardListCmd is `shakedown board list`.
func newBoardListCmd() *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List serial ports and the boards recognised on them",
		Long: `List the serial ports of this machine with their USB vendor and product IDs and
serial numbers, and the board profiles whose USB ids match. A USB-UART bridge
used by several boards (the CP2102 of ESP8266 and ESP32 boards) matches all of
them: "board info" asks the board itself.

Virtual boards on pseudo-terminals are not listed: "board virtual" prints
their path.`,
		Example: `  shakedown board list
  shakedown board list --all     # also ports without USB ids`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ports, err := harness.USBEnumerator{}.Ports()
			if err != nil {
				return setupError(fmt.Errorf("listing the serial ports: %w", err))
			}
			profiles, err := boards.All()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PORT\tVID:PID\tSERIAL\tPRODUCT\tBOARDS")
			shown := 0
			for _, p := range ports {
				if !p.IsUSB && !all {
					continue
				}
				var names []string
				for _, prof := range boards.Recognise(p, profiles) {
					names = append(names, prof.Name)
				}
				id := "-"
				if p.IsUSB {
					id = p.VID + ":" + p.PID
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, id, dash(p.SerialNumber), dash(p.Product), dash(strings.Join(names, ", ")))
				shown++
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if shown == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no USB serial ports found (try --all, or shakedown board virtual)")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also list ports without USB ids")
	return c
}

// newBoardProfilesCmd is `shakedown board profiles`.
func newBoardProfilesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "profiles",
		Short: "List the board profiles built in",
		Long: `List the board profiles that --board names: the board, its chip and clock,
how it is reached (usb, emulator or pty), its USB ids and its noise handshake
limit. A profile of your own is a YAML file given with --board-file.`,
		Example: `  shakedown board profiles`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := boards.All()
			if err != nil {
				return internalError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tBOARD\tCHIP\tCLOCK\tTRANSPORT\tUSB IDS\tNOISE LIMIT")
			for _, p := range ps {
				var ids []string
				for _, u := range p.USB {
					ids = append(ids, u.VID+":"+u.PID)
				}
				limit := "-"
				if l := p.Limit(handshake.Noise); l > 0 {
					limit = l.String()
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Board, p.Chip, measure.MHz(p.ClockHz), p.Transport, dash(strings.Join(ids, " ")), limit)
			}
			return w.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newBoardInfoCmd is `shakedown board info`.
func newBoardInfoCmd() *cobra.Command {
	var f boardFlags
	c := &cobra.Command{
		Use:   "info",
		Short: "Ask a board who it is",
		Long: `Greet the board (HELLO) and ask for its INFO: board, chip, clock, firmware and
protocol version, serial number, the profiles, curves and AEADs its agent
supports, and whether it can relay handshakes or reach the network itself.
Then read its counters.`,
		Example: `  shakedown board info --port /dev/ttyACM0
  shakedown board info --serial 85735313233351D0E1A1 --board uno`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			b, prof, err := f.open(ctx, cmd, false)
			if err != nil {
				return err
			}
			defer b.Close()
			in, err := b.Info(ctx)
			if err != nil {
				return checkFailed(fmt.Errorf("board: asking for INFO: %w", err))
			}
			cs, err := b.Counters(ctx)
			if err != nil {
				return checkFailed(fmt.Errorf("board: reading the counters: %w", err))
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "port\t%s (profile %s)\n", b.PortName(), prof.Name)
			fmt.Fprintf(w, "board\t%s\n", in.Board)
			fmt.Fprintf(w, "chip\t%s at %s\n", in.Chip, measure.MHz(in.ClockHz))
			fmt.Fprintf(w, "firmware\t%s (protocol v%d, max payload %d)\n", in.Firmware, in.Version, in.MaxPayload)
			fmt.Fprintf(w, "serial\t%s\n", dash(in.Serial))
			fmt.Fprintf(w, "modes\t%s\n", modes(in.Caps))
			fmt.Fprintf(w, "profiles\t%s\n", joinNames(in.Profiles))
			fmt.Fprintf(w, "curves\t%s\n", joinStringers(in.Curves))
			fmt.Fprintf(w, "aeads\t%s\n", joinStringers(in.AEADs))
			fmt.Fprintf(w, "costs in\t%s\n", in.Unit)
			for _, c := range cs {
				fmt.Fprintf(w, "counter %s\t%d\n", c.ID, c.Value)
			}
			return w.Flush()
		},
	}
	f.register(c)
	return c
}

func modes(c bp.Caps) string {
	var m []string
	if c&bp.CapRelay != 0 {
		m = append(m, "relay")
	}
	if c&bp.CapNetwork != 0 {
		m = append(m, "network")
	}
	if c&bp.CapStorage != 0 {
		m = append(m, "persistent storage")
	}
	if c&bp.CapEntropy != 0 {
		m = append(m, "entropy source")
	}
	if c&bp.CapSeeded != 0 {
		m = append(m, "random seed provisioned")
	}
	return dash(strings.Join(m, ", "))
}

func joinNames(ns []handshake.Name) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = string(n)
	}
	return dash(strings.Join(s, ", "))
}

func joinStringers[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return dash(strings.Join(s, ", "))
}

// newBoardBenchCmd is `shakedown board bench`.
func newBoardBenchCmd() *cobra.Command {
	var f boardFlags
	var curves, aeads []string
	var sizes []int
	var iterations int
	c := &cobra.Command{
		Use:   "bench",
		Short: "Time scalar multiplications, AEADs and SHA-256 on the board",
		Long: `Ask the board to time operations with its own counter (cycles on real chips,
instructions under QEMU, nanoseconds on the virtual board): one
variable-base scalar multiplication per curve, AEAD seal and open per message
size, SHA-256 per size. The host never times board work across the serial
line. The board's clock turns cycles into time.

On a slow chip each iteration may take seconds (X25519 on an ATmega328P
takes about 0.9 s): keep --iterations small there.`,
		Example: `  shakedown board bench --port /dev/pts/3
  shakedown board bench --port /dev/ttyACM0 --board uno --curves x25519 --iterations 2
  shakedown board bench --port /dev/ttyUSB0 --aeads chacha20poly1305 --sizes 16,64,256,1024`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if iterations < 1 || iterations > 255 {
				return usageErrorf("--iterations: want 1 to 255")
			}
			ctx := cmd.Context()
			b, _, err := f.open(ctx, cmd, false)
			if err != nil {
				return err
			}
			defer b.Close()
			in, err := b.Info(ctx)
			if err != nil {
				return checkFailed(fmt.Errorf("board: asking for INFO: %w", err))
			}
			plan, err := measure.BenchPlan(in, measure.BenchSpec{Curves: curves, AEADs: aeads, Sizes: sizes, Iterations: byte(iterations)})
			if err != nil {
				return usageError(err)
			}
			failed := 0
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(w, "operation\tsize\titerations\tmean\tmin\tmax\tunit\tmean time\t\n")
			for _, it := range plan {
				res, err := b.Bench(ctx, it.Request)
				if err != nil {
					if ctx.Err() != nil {
						w.Flush()
						return interruptedError(fmt.Errorf("interrupted during %s", it.Label))
					}
					failed++
					fmt.Fprintf(w, "%s\t%d\t-\t-\t-\t-\t-\t%s\t\n", it.Label, it.Request.Size, handshake.ReasonOf(err))
					continue
				}
				fmt.Fprintf(w, "%s\t%d\t%d\t%.0f\t%d\t%d\t%s\t%s\t\n", it.Label, it.Request.Size, res.Iterations,
					res.Mean(), res.Min, res.Max, res.Unit, measure.AsTime(res.Mean(), res.Unit, in.ClockHz))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return checkFailed(fmt.Errorf("board: %d of %d operations failed on the board", failed, len(plan)))
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().StringSliceVar(&curves, "curves", nil, "curves to time (default: all the board supports): x25519, p256, secp160r1")
	c.Flags().StringSliceVar(&aeads, "aeads", nil, "AEADs to time (default: all the board supports): chacha20poly1305, aes128gcm, aes256gcm")
	c.Flags().IntSliceVar(&sizes, "sizes", []int{64, 1024}, "message sizes for AEAD and SHA-256, bytes")
	c.Flags().IntVarP(&iterations, "iterations", "n", 4, "iterations per operation, 1-255")
	return c
}

// boardHandshakeOptions are the flags of `shakedown board handshake`.
type boardHandshakeOptions struct {
	board                           boardFlags
	profile, server, mode, message  string
	timeout                         time.Duration
	attempts                        int
	deviceID, deviceKey, serverKey  string
	serverKeyNext, curve, tlsVerify string
	tlsPin, serverName              string
	serverMetrics                   string
	counter                         int64
	erase                           bool
	fixtures, device                string
}

// newBoardHandshakeCmd is `shakedown board handshake`.
func newBoardHandshakeCmd() *cobra.Command {
	o := &boardHandshakeOptions{}
	c := &cobra.Command{
		Use:   "handshake",
		Short: "Run a handshake of a profile on the board against a server",
		Long: `Have the board run the device side of a protocol profile (noise, seed, psk, tls)
against a server, and report the board's own costs.

Relay mode (default): the board's handshake bytes travel inside board-protocol
frames and this command carries them to the server over TCP, so it sits on
the path between board and server. Network mode: a board with its own network
(WiFi) connects by itself; this command only observes.

The board needs an identity for the profile. Provision one from a fixture
set (--fixtures, --device), with the flags below (keys in hex, or @file to
read the hex from a file), or beforehand. If the board reboots in the middle,
the handshake is run again, up to --attempts times.

With --message the board, as its device, speaks MQTT through the session:
it subscribes to devices/ID/echo, publishes the text there, and the copy the
broker sends back is printed with its round-trip time (the device's ID comes
from --device or --device-id; a tls device's MQTT password from --fixtures).

A refused handshake is reported from both ends: the board's reason and
stage, what the relay saw of the server (bytes each way, who closed), and,
with --server-metrics (the metrics listener of "shakedown serve"), the
reason the server counted. The reference server never says why on the wire.`,
		Example: `  # a noise handshake through the virtual board against "shakedown serve --fixtures fx"
  shakedown board handshake --port /dev/pts/3 --profile noise --server 127.0.0.1:8885 \
      --fixtures fx --device noise-0001 --message hello --server-metrics 127.0.0.1:9185
  # the same with keys given in hex
  shakedown board handshake --port /dev/pts/3 --profile noise --server 127.0.0.1:8885 \
      --device-id noise-0001 --device-key @noise-0001.hex --server-key @server.hex
  # an ESP32 on WiFi, TLS with an SPKI pin, connecting by itself
  shakedown board handshake --port /dev/ttyUSB0 --profile tls --mode network \
      --server broker.example.net:8883 --tls-verify spki --tls-pin @broker.spki --server-name broker.example.net`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBoardHandshake(cmd, o) },
	}
	o.board.register(c)
	o.bind(c.Flags())
	return c
}

// bind adds the flags of board handshake, besides the board's, to fl.
func (o *boardHandshakeOptions) bind(fl *pflag.FlagSet) {
	fl.StringVar(&o.profile, "profile", "noise", "protocol profile: noise, seed, psk or tls")
	fl.StringVar(&o.server, "server", "", "the server, host:port")
	fl.StringVar(&o.mode, "mode", "relay", "relay (through this command) or network (the board's own network)")
	fl.DurationVar(&o.timeout, "handshake-timeout", 0, "the board's handshake deadline (default: twice the profile's limit)")
	renamed(fl, "timeout", "handshake-timeout")
	fl.IntVar(&o.attempts, "attempts", 3, "runs of the handshake when the board reboots during it")
	fl.StringVar(&o.message, "message", "", "after the handshake, publish this text as the device over MQTT and print the broker's echo")
	fl.StringVar(&o.serverMetrics, "server-metrics", "", "the server's Prometheus metrics (host:port or URL), to name the reason it refused a handshake")
	fl.BoolVar(&o.erase, "erase", false, "wipe the board's stored identities first")
	fl.StringVar(&o.fixtures, "fixtures", "", "provision from this fixture set (shakedown fixtures gen) ...")
	fl.StringVar(&o.device, "device", "", "... the identity of this device of the set, e.g. noise-0001")
	fl.StringVar(&o.deviceID, "device-id", "", "provision: the device ID")
	fl.StringVar(&o.deviceKey, "device-key", "", "provision: the device's private key (X25519, P-256, secp160r1) or pre-shared key, hex or @file")
	fl.StringVar(&o.serverKey, "server-key", "", "provision (noise): the pinned server static public key, hex or @file")
	fl.StringVar(&o.serverKeyNext, "server-key-next", "", "provision (noise): the pinned next server key, hex or @file")
	fl.Int64Var(&o.counter, "counter", 0, "provision (noise): the last message-1 counter used")
	fl.StringVar(&o.curve, "curve", "", "provision (seed): p256 or secp160r1")
	fl.StringVar(&o.tlsVerify, "tls-verify", "", "provision (tls): none, fingerprint, spki, ca or ca-noclock")
	fl.StringVar(&o.tlsPin, "tls-pin", "", "provision (tls): the certificate fingerprint or SPKI pin, hex or @file")
	fl.StringVar(&o.serverName, "server-name", "", "provision (tls): the server name for SNI and name checks")
}

// boardHandshakePlan is what the flags of board handshake ask for, checked
// before the board is opened.
type boardHandshakePlan struct {
	profile   handshake.Name
	mode      bp.Mode
	provision bp.Provision
	// who is the device of --message: its MQTT client ID and, for tls,
	// its password.
	who     mqttIdentity
	metrics *serverMetrics
}

// plan checks the flags and makes the plan of the run; every error is a
// usage or set-up error.
func (o *boardHandshakeOptions) plan(cmd *cobra.Command) (boardHandshakePlan, error) {
	var pl boardHandshakePlan
	var err error
	if pl.profile, err = handshake.ParseName(o.profile); err != nil {
		return pl, usageErrorf("--profile: %w", err)
	}
	if o.server == "" {
		return pl, usageErrorf("--server: give host:port of the server")
	}
	pl.mode = map[string]bp.Mode{"relay": bp.ModeRelay, "network": bp.ModeNetwork}[o.mode]
	if pl.mode == 0 {
		return pl, usageErrorf("--mode: want relay or network")
	}
	if pl.provision, err = o.provisionFlags(cmd); err != nil {
		return pl, err
	}
	pl.who = mqttIdentity{id: o.deviceID}
	if o.fixtures != "" || o.device != "" {
		d, err := fromFixtures(&pl.provision, pl.profile, o.fixtures, o.device)
		if err != nil {
			return pl, err
		}
		pl.who = mqttIdentity{id: d.ID, fixture: &d}
	}
	if o.message != "" {
		if err := pl.who.check(pl.profile); err != nil {
			return pl, err
		}
	}
	if o.serverMetrics != "" {
		if pl.metrics, err = newServerMetrics(o.serverMetrics); err != nil {
			return pl, usageErrorf("--server-metrics: %w", err)
		}
	}
	return pl, nil
}

// provisionFlags is the identity the provisioning flags give the board.
func (o *boardHandshakeOptions) provisionFlags(cmd *cobra.Command) (bp.Provision, error) {
	p := bp.Provision{Erase: o.erase, DeviceID: o.deviceID, ServerName: o.serverName}
	var err error
	for _, k := range []struct {
		flag, val string
		dst       *[]byte
	}{{"device-key", o.deviceKey, &p.DeviceKey}, {"server-key", o.serverKey, &p.ServerKey},
		{"server-key-next", o.serverKeyNext, &p.ServerKeyNext}, {"tls-pin", o.tlsPin, &p.TLSPin}} {
		if *k.dst, err = hexFlag(k.flag, k.val); err != nil {
			return p, err
		}
	}
	if o.curve != "" {
		cv, ok := bp.ParseCurve(o.curve)
		if !ok {
			return p, usageErrorf("--curve: want p256 or secp160r1")
		}
		p.Curve = cv
	}
	if o.tlsVerify != "" {
		v := map[string]bp.TLSVerify{"none": bp.TLSVerifyNone, "fingerprint": bp.TLSVerifyFingerprint,
			"spki": bp.TLSVerifySPKI, "ca": bp.TLSVerifyCA, "ca-noclock": bp.TLSVerifyCANoClock}[o.tlsVerify]
		if v == 0 {
			return p, usageErrorf("--tls-verify: want none, fingerprint, spki, ca or ca-noclock")
		}
		p.TLSVerify = v
	}
	if cmd.Flags().Changed("counter") {
		if o.counter < 0 {
			return p, usageErrorf("--counter: want 0 or more")
		}
		v := uint64(o.counter)
		p.Counter = &v
	}
	return p, nil
}

// runBoardHandshake provisions the board when asked, runs the handshake,
// prints the board's costs and, with --message, an MQTT round trip through
// the session.
func runBoardHandshake(cmd *cobra.Command, o *boardHandshakeOptions) error {
	pl, err := o.plan(cmd)
	if err != nil {
		return err
	}
	prof := pl.profile
	ctx := cmd.Context()
	b, bprof, err := o.board.open(ctx, cmd, false)
	if err != nil {
		return err
	}
	defer b.Close()
	out := cmd.OutOrStdout()
	if provisioning(pl.provision) {
		pl.provision.Profile = prof
		if err := b.Provision(ctx, pl.provision); err != nil {
			return checkFailed(fmt.Errorf("board: provisioning the %s identity: %w", prof, err))
		}
		fmt.Fprintf(out, "provisioned the %s identity\n", prof)
	}
	in, err := b.Info(ctx)
	if err != nil {
		return checkFailed(fmt.Errorf("board: asking for INFO: %w", err))
	}
	timeout := o.timeout
	if timeout == 0 {
		timeout = 2 * bprof.Limit(prof)
	}
	before := pl.metrics.snapshot(ctx, prof)
	s, err := b.Handshake(ctx, harness.HandshakeOptions{Profile: prof, Mode: pl.mode, Server: o.server,
		Timeout: timeout, Attempts: o.attempts})
	if err != nil {
		return handshakeFailure(ctx, out, prof, pl.mode, o.server, err, pl.metrics, before)
	}
	defer s.Close()
	printBoardHandshake(out, s, pl, in, bprof)
	if o.message != "" {
		reply, rtt, err := echoOverSession(ctx, s, pl.who, o.message, 2*bprof.LongestLimit()+10*time.Second)
		if err != nil {
			return checkFailed(fmt.Errorf("board: %s message through the session: %w", prof, err))
		}
		fmt.Fprintf(out, "  reply              %q from the broker on devices/%s/echo in %s\n", reply, pl.who.id, rtt.Round(time.Microsecond))
	}
	if err := s.Close(); err != nil {
		return checkFailed(fmt.Errorf("board: closing the session: %w", err))
	}
	return nil
}

// printBoardHandshake prints a completed handshake: the board's costs in
// its unit and in time, the bytes, and the verdict on the profile's limit.
func printBoardHandshake(out io.Writer, s *harness.Session, pl boardHandshakePlan, in bp.Info, bprof boards.Profile) {
	prof, r := pl.profile, s.Result
	fmt.Fprintf(out, "%s handshake ok in %s mode (attempt %d)\n", prof, pl.mode, s.Attempts)
	if prof == handshake.Noise {
		fmt.Fprintf(out, "  message-1 counter  %d\n", r.Counter)
	}
	fmt.Fprintf(out, "  board cost         %d %s (%s)\n", r.Total, r.Unit, measure.AsTime(float64(r.Total), r.Unit, in.ClockHz))
	fmt.Fprintf(out, "  public-key work    %d %s (%s)\n", r.Crypto, r.Unit, measure.AsTime(float64(r.Crypto), r.Unit, in.ClockHz))
	fmt.Fprintf(out, "  bytes sent/recv    %d/%d\n", r.Sent, r.Received)
	if d, ok := measure.AsDuration(float64(r.Total), r.Unit, in.ClockHz); ok && bprof.Limit(prof) > 0 {
		verdict := "within"
		if d > bprof.Limit(prof) {
			verdict = "OVER"
		}
		fmt.Fprintf(out, "  limit              %s the %s of profile %s\n", verdict, bprof.Limit(prof), bprof.Name)
	}
}

// fromFixtures fills p with the identity of device id from the fixture set
// in dir, as a board holds it (measure.BoardOptions): its key, the server's
// current noise key, or the broker's SPKI pin for tls. It returns the
// device.
func fromFixtures(p *bp.Provision, prof handshake.Name, dir, id string) (fixtures.Device, error) {
	if dir == "" || id == "" {
		return fixtures.Device{}, usageErrorf("--fixtures and --device go together")
	}
	set, err := fixtures.Load(dir)
	if err != nil {
		return fixtures.Device{}, setupError(fmt.Errorf("--fixtures: %w", err))
	}
	ident, err := fixtures.Provision(set, id, measure.BoardOptions(prof))
	var pe *fixtures.ProvisionError
	if errors.As(err, &pe) {
		return fixtures.Device{}, usageErrorf("--device: %w", err)
	}
	if err != nil {
		return fixtures.Device{}, setupError(err)
	}
	q, err := measure.ProvisionOf(ident)
	if err != nil {
		return fixtures.Device{}, setupError(err)
	}
	p.DeviceID, p.DeviceKey, p.ServerKey, p.Curve = q.DeviceID, q.DeviceKey, q.ServerKey, q.Curve
	p.TLSVerify, p.TLSPin, p.ServerName = q.TLSVerify, q.TLSPin, q.ServerName
	d, _ := set.Device(id)
	return d, nil
}

// provisioning reports whether any provisioning flag was given.
func provisioning(p bp.Provision) bool {
	return p.Erase || p.DeviceID != "" || p.DeviceKey != nil || p.ServerKey != nil || p.ServerKeyNext != nil ||
		p.Counter != nil || p.Curve != 0 || p.TLSVerify != 0 || p.TLSPin != nil || p.ServerName != ""
}

// hexFlag decodes a hex value, or the hex content of @file.
func hexFlag(flag, v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	if file, ok := strings.CutPrefix(v, "@"); ok {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, setupError(fmt.Errorf("--%s: %w", flag, err))
		}
		v = strings.TrimSpace(string(data))
	}
	b, err := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
	if err != nil {
		return nil, usageErrorf("--%s: want hex bytes (or @file holding them)", flag)
	}
	return b, nil
}

// newBoardConsoleCmd is `shakedown board console`.
func newBoardConsoleCmd() *cobra.Command {
	var f boardFlags
	var reset bool
	c := &cobra.Command{
		Use:   "console",
		Short: "Show what the board prints outside the protocol",
		Long: `Print the board's console output, everything on the line that is not a
board-protocol frame (boot banners, debug prints, noise), until interrupted.
With --reset the board is reset first (by the modem lines where its profile
says so, else by the RESET command), so the boot banner shows.

The agent need not be running: the console works on any board.`,
		Example: `  shakedown board console --port /dev/ttyUSB0 --board esp8266 --reset
  shakedown board console --port /dev/pts/3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			b, _, err := f.open(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer b.Close()
			stop := b.CaptureConsole(cmd.OutOrStdout())
			defer stop()
			if reset {
				done, err := b.HardReset(ctx)
				if err != nil {
					return checkFailed(fmt.Errorf("board: resetting by the modem lines: %w", err))
				}
				if !done {
					if _, err := b.Reset(ctx, bp.ResetReboot); err != nil {
						return checkFailed(fmt.Errorf("board: resetting: %w", err))
					}
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "console of %s; interrupt to stop\n", b.PortName())
			<-ctx.Done()
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&reset, "reset", false, "reset the board first")
	return c
}

// newBoardVirtualCmd is `shakedown board virtual`.
func newBoardVirtualCmd() *cobra.Command {
	var name, serial, profileFile string
	var slow, banner bool
	var resets int
	c := &cobra.Command{
		Use:   "virtual",
		Short: "Run a virtual board on a pseudo-terminal",
		Long: `Start a virtual board: a process that speaks the board protocol on a
pseudo-terminal exactly as the agent firmware does on a UART, and runs the
device side of every profile. It prints the pseudo-terminal's path; give it
to the other board subcommands with --port. It runs until interrupted.

With --board it presents itself as that board (name, chip, clock, payload
limit, profiles); with --slow it also takes that board's time per operation,
so a handshake on a virtual "uno" takes as long as on an ATmega328P. --banner
and --reset-in-handshake make it misbehave like real boards do.`,
		Example: `  shakedown board virtual
  shakedown board virtual --board uno --slow --serial UNO-SIM-1
  shakedown board virtual --banner --reset-in-handshake 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var prof boards.Profile
			var err error
			if profileFile != "" {
				prof, err = boards.Load(profileFile)
			} else {
				prof, err = boards.Lookup(name)
			}
			if err != nil {
				return setupError(err)
			}
			cfg := virtual.FromProfile(prof, serial, slow)
			if banner {
				cfg.Faults.Noise = []byte{0xe0, 0x00, 0x8c, 0xfe, 0x12, 0x00, 0x80, 0x01}
				cfg.Faults.Banner = "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\n"
			}
			cfg.Faults.ResetInHandshake = resets
			vb, err := virtual.Start(cfg)
			if err != nil {
				return setupError(fmt.Errorf("starting the virtual board: %w", err))
			}
			defer vb.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s\n", vb.Path())
			fmt.Fprintf(cmd.ErrOrStderr(), "virtual board %q (serial %s) on %s; interrupt to stop\n"+
				"try: shakedown board info --port %s\n", cfg.Board, vb.Serial(), vb.Path(), vb.Path())
			<-cmd.Context().Done()
			return nil
		},
	}
	c.Flags().StringVarP(&name, "board", "b", "virtual", "present as this board profile")
	c.Flags().StringVar(&profileFile, "board-file", "", "present as the board of this profile YAML file")
	renamed(c.Flags(), "profile-file", "board-file")
	c.Flags().StringVar(&serial, "serial", "VIRTUAL-0001", "the serial number the board reports")
	c.Flags().BoolVar(&slow, "slow", false, "take the profile's time per operation (a slow chip)")
	c.Flags().BoolVar(&banner, "banner", false, "print line noise and an ESP8266-style ROM banner before every boot")
	c.Flags().IntVar(&resets, "reset-in-handshake", 0, "reboot during each of the next N handshakes")
	return c
}
