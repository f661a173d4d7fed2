package demo

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"shakedown/boards"
	"shakedown/boards/emulated"
	"shakedown/boards/measure"
	"shakedown/boards/virtual"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
	"shakedown/reports"
)

// virtualBoards drives each of the options' virtual boards through its
// handshakes against the server; a board that fails is counted and noted.
// ctx bounds the work, run is the run's own context (its end is an
// interruption).
func (s *story) virtualBoards(ctx, run context.Context, listeners map[string]string, sub *backend) {
	about := make([]string, len(s.o.Boards))
	for i, vb := range s.o.Boards {
		about[i] = vb.About
	}
	fmt.Fprintf(s.out, "== boards: %s, handshakes relayed to the server\n", strings.Join(about, " and "))
	for i, vb := range s.o.Boards {
		b, err := s.virtualBoard(ctx, vb, i+1, listeners, sub)
		if run.Err() != nil {
			return
		}
		if err != nil {
			s.fail(fmt.Sprintf("   %s board FAILED: %v", vb.Profile, err), fmt.Sprintf("the %s board failed: %v", vb.Profile, err))
			continue
		}
		s.boards.Boards = append(s.boards.Boards, b)
	}
}

// virtualBoard starts a virtual board as vb asks and runs it; its
// identities are the fromEnd-th last of each profile's fixture devices.
func (s *story) virtualBoard(ctx context.Context, vb VirtualBoard, fromEnd int, listeners map[string]string, sub *backend) (reports.Board, error) {
	prof, err := boards.Lookup(vb.Profile)
	if err != nil {
		return reports.Board{}, err
	}
	vcfg := virtual.FromProfile(prof, "DEMO-"+strings.ToUpper(vb.Profile), vb.Slow)
	v, err := virtual.Start(vcfg)
	if err != nil {
		return reports.Board{}, err
	}
	defer v.Close()
	opts := prof.Options()
	opts.SerialNumber = v.Serial()
	b, err := harness.Open(ctx, v.Path(), opts)
	if err != nil {
		return reports.Board{}, err
	}
	defer b.Close()
	label := vb.Profile
	if vb.Slow {
		label += " (virtual, slow)"
	}
	bd := boardRun{b: b, prof: prof, label: label, kind: reports.KindVirtual, bench: vb.Bench, profiles: vb.Profiles, fromEnd: fromEnd}
	return s.runBoard(ctx, bd, listeners, sub)
}

// chips runs the firmware's benchmark on the emulated chips, then the agent
// firmware on each; missing tools skip them with a note.
func (s *story) chips(ctx, run context.Context, listeners map[string]string, sub *backend) {
	if !s.o.Chips {
		s.run.Notes = append(s.run.Notes, "emulated chips skipped (--no-chips)")
		return
	}
	fmt.Fprintln(s.out, "== emulated chips: the firmware's benchmark under simavr and QEMU")
	got, note := benchChips(run, s.o.Firmware, s.out)
	s.boards.Boards = append(s.boards.Boards, got...)
	if note != "" {
		fmt.Fprintf(s.out, "   skipped: %s\n", note)
		s.run.Notes = append(s.run.Notes, "emulated chips skipped: "+note)
		return
	}
	fmt.Fprintln(s.out, "== emulated boards: the agent firmware on each chip, noise and seed handshakes relayed to the server")
	for _, n := range s.agents(ctx, listeners, sub) {
		fmt.Fprintf(s.out, "   skipped: %s\n", n)
		s.run.Notes = append(s.run.Notes, "emulated board skipped: "+n)
	}
}

// agents runs the agent firmware on each emulated chip whose image is
// there, and returns a note for each chip skipped.
func (s *story) agents(ctx context.Context, listeners map[string]string, sub *backend) []string {
	var notes []string
	for i, chip := range emulated.Chips() {
		image := filepath.Join(s.o.Firmware, "build", "agent-"+chip+".elf")
		if _, err := os.Stat(image); err != nil {
			notes = append(notes, chip+": no agent image (make -C boards/firmware agents)")
			continue
		}
		b, err := s.agent(ctx, chip, image, len(s.o.Boards)+1+i, listeners, sub)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s agent: %v", chip, err))
			continue
		}
		s.boards.Boards = append(s.boards.Boards, b)
	}
	return notes
}

// agent runs the agent firmware image on an emulated chip: relayed noise
// and seed handshakes against the server, MQTT over the noise session.
func (s *story) agent(ctx context.Context, chip, image string, fromEnd int, listeners map[string]string, sub *backend) (reports.Board, error) {
	eb, err := emulated.Start(ctx, emulated.Config{Chip: chip, Image: image})
	if err != nil {
		return reports.Board{}, err
	}
	defer eb.Close()
	prof, err := boards.Lookup(eb.ProfileName())
	if err != nil {
		return reports.Board{}, err
	}
	b, err := harness.Open(ctx, eb.Path(), prof.Options())
	if err != nil {
		return reports.Board{}, err
	}
	defer b.Close()
	bd := boardRun{b: b, prof: prof, label: chip + " (agent)", kind: reports.KindEmulated,
		profiles: []handshake.Name{handshake.Noise, handshake.Seed}, fromEnd: fromEnd}
	return s.runBoard(ctx, bd, listeners, sub)
}

// boardRun is an open board and what the demo does with it.
type boardRun struct {
	b        *harness.Board
	prof     boards.Profile
	label    string // as the demo prints it and the report names it
	kind     string // reports.KindVirtual or KindEmulated
	bench    bool   // time its operations first
	profiles []handshake.Name
	fromEnd  int // its identities: the fromEnd-th last fixture device of each profile
}

// runBoard asks a board who it is, benchmarks it (bd.bench), and runs a
// relayed handshake of each profile against the server; over the noise
// session it publishes an MQTT message that the backend must receive.
func (s *story) runBoard(ctx context.Context, bd boardRun, listeners map[string]string, sub *backend) (reports.Board, error) {
	in, err := bd.b.Info(ctx)
	if err != nil {
		return reports.Board{}, err
	}
	rb := reports.Board{Name: bd.label, Board: in.Board, Chip: in.Chip, Kind: bd.kind, ClockHz: in.ClockHz, Exact: bd.kind == reports.KindEmulated}
	fmt.Fprintf(s.out, "   %s on %s: %s, %s at %s, firmware %s\n", bd.label, bd.b.PortName(), in.Board, in.Chip, measure.MHz(in.ClockHz), in.Firmware)
	if bd.bench {
		plan, err := measure.BenchPlan(in, measure.BenchSpec{Sizes: []int{64}, Iterations: 4})
		if err != nil {
			return rb, err
		}
		for _, it := range plan {
			res, err := bd.b.Bench(ctx, it.Request)
			if err != nil {
				return rb, fmt.Errorf("bench %s: %w", it.Label, err)
			}
			rb.Bench = append(rb.Bench, it.Report(res))
		}
		fmt.Fprintf(s.out, "   %s: %d bench figures\n", bd.label, len(rb.Bench))
	}
	for _, p := range bd.profiles {
		h, err := s.boardHandshake(ctx, bd, in, p, listeners[string(p)], sub)
		if err != nil {
			return rb, err
		}
		rb.Handshakes = append(rb.Handshakes, h)
	}
	return rb, nil
}

// boardHandshake provisions the board as a device of profile p and runs
// its handshake against the server at addr. A refused handshake is a
// result, not an error: it is in the report with its reason.
func (s *story) boardHandshake(ctx context.Context, bd boardRun, in bp.Info, p handshake.Name, addr string, sub *backend) (reports.Handshake, error) {
	d, err := measure.DeviceFor(s.set, p, "", bd.fromEnd) // identities that no other part of the demo uses
	if err != nil {
		return reports.Handshake{}, err
	}
	pv, err := measure.Provisioning(s.set, d)
	if err != nil {
		return reports.Handshake{}, err
	}
	if err := bd.b.Provision(ctx, pv); err != nil {
		return reports.Handshake{}, fmt.Errorf("provisioning %s: %w", p, err)
	}
	limit := bd.prof.Limit(p)
	h, sess, err := measure.Handshake(ctx, bd.b, harness.HandshakeOptions{Profile: p, Server: addr, Timeout: 2*limit + 10*time.Second}, in, limit)
	if err != nil {
		fmt.Fprintf(s.out, "   %-5s handshake FAILED: %s\n", p, h.Reason)
		return h, nil
	}
	if p == handshake.Noise {
		h.Message = boardMQTT(ctx, sess, d.ID, sub)
	}
	sess.Close()
	verdict := "within"
	if !h.WithinLimit() {
		verdict = "OVER"
	}
	fmt.Fprintf(s.out, "   %-5s handshake ok: board %s, wall %s, %s the %s limit %s\n", p, msOrDash(h.BoardMS), msOrDash(h.WallMS), verdict, bd.prof.Name, limit)
	return h, nil
}

func msOrDash(ms float64) string {
	if ms <= 0 {
		return "-"
	}
	return reports.FormatMicros(ms * 1e3)
}

// boardMQTT runs MQTT over the board's noise session: CONNECT, a PUBLISH
// that the backend must receive. It returns what happened, for the report.
func boardMQTT(ctx context.Context, s *harness.Session, id string, sub *backend) string {
	o := mqtt.NewClientOptions().AddBroker("tcp://board-session").SetClientID(id).SetAutoReconnect(false).
		SetConnectRetry(false).SetConnectTimeout(10 * time.Second).
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) { return s.Conn(), nil })
	c := mqtt.NewClient(o)
	t := c.Connect()
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return "MQTT CONNECT over the board's session failed"
	}
	defer c.Disconnect(50)
	topic, payload := "devices/"+id+"/telemetry", "temperature=19.0 from the board "+id
	pt := c.Publish(topic, 1, false, payload)
	if !pt.WaitTimeout(10*time.Second) || pt.Error() != nil || !sub.received(topic, payload) {
		return "MQTT PUBLISH over the board's session not received"
	}
	return "MQTT PUBLISH over the board's session received by the backend"
}
