package hostagent_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bp "shakedown/harness/boardproto"
)

// lineAgent is the C agent with its pseudo-terminal opened raw, for
// writing arbitrary bytes to it.
type lineAgent struct {
	tty      *os.File
	dec      bp.Decoder
	seq      byte // of the last HELLO
	answered bool // the last HELLO has its response
}

// startLineAgent builds and starts the agent for t; it is killed at the
// end of t.
func startLineAgent(t testing.TB) *lineAgent {
	t.Helper()
	build := exec.Command("make", "-C", "..", "-f", "agent.mk", "host-agent")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the host agent: %v\n%s", err, out)
	}
	bin, err := filepath.Abs("../build/agent/host-agent")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-nv", filepath.Join(t.TempDir(), "agent.nv"), "-serial", "FUZZ-0001")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the pseudo-terminal path: %v", err)
	}
	// The agent put its terminal in raw mode; O_NONBLOCK makes the file
	// pollable, so reads take deadlines.
	tty, err := os.OpenFile(strings.TrimSpace(line), os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return &lineAgent{tty: tty}
}

// read takes what the agent wrote for up to wait, or until the HELLO
// awaited is answered when untilHello; it fails t on output that is not a
// frame or on a refused HELLO.
func (a *lineAgent) read(t *testing.T, wait time.Duration, untilHello bool) {
	if err := a.tty.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for !(untilHello && a.answered) {
		n, err := a.tty.Read(buf)
		for _, it := range a.dec.Feed(buf[:n]) {
			if it.Frame == nil {
				t.Fatalf("the agent wrote %d bytes that are not a frame", len(it.Console))
			}
			a.check(t, *it.Frame)
		}
		if err != nil {
			return
		}
	}
}

// check notes the response to the HELLO awaited.
func (a *lineAgent) check(t *testing.T, f bp.Frame) {
	if f.Type != bp.CmdHello.Response() || f.Seq != a.seq {
		return
	}
	st, body, err := bp.SplitResponse(f.Payload)
	if err != nil || st != bp.StatusOK {
		t.Fatalf("HELLO answered %v (%v)", st, err)
	}
	if _, err := bp.ParseHello(body); err != nil {
		t.Fatalf("HELLO response: %v", err)
	}
	a.answered = true
}

// drainWait is how long write listens after each piece: long enough for
// the agent to answer what it could parse, short enough to fuzz quickly.
const drainWait = 200 * time.Microsecond

// write sends p in pieces, taking the agent's output between them so that
// neither side of the terminal fills up.
func (a *lineAgent) write(t *testing.T, p []byte) {
	const piece = 256
	for len(p) > 0 {
		n := min(len(p), piece)
		if _, err := a.tty.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		a.read(t, drainWait, false)
		p = p[n:]
	}
}

// helloWait bounds the agent's answer to HELLO after an input: inputs full
// of PROVISION commands make it write its storage file, with fdatasync,
// many times over.
const helloWait = 30 * time.Second

// hello sends HELLO and requires its response within helloWait, whatever
// the agent says besides.
func (a *lineAgent) hello(t *testing.T) {
	a.seq++
	a.answered = false
	wire, err := bp.AppendFrame(nil, bp.Frame{Version: bp.Version, Type: bp.CmdHello, Seq: a.seq,
		Payload: bp.HelloRequest{MinVersion: bp.Version, MaxVersion: bp.Version}.Append(nil)})
	if err != nil {
		t.Fatal(err)
	}
	a.write(t, wire)
	a.read(t, helloWait, true)
	if !a.answered {
		t.Fatal("no HELLO response after the input")
	}
}

// maxFuzzInput bounds an input: eight of the longest frames.
const maxFuzzInput = 8 * (bp.MaxEncodedLen + 2)

// FuzzAgentLine writes arbitrary bytes to the C agent's serial line (line
// noise, frames with any type, seq and payload, frames cut or altered) and
// requires that the agent stays up, writes nothing but valid frames, and
// still answers HELLO. The agent is one process for the whole run, so
// inputs also meet the state earlier inputs left (a handshake waiting, a
// session, a provisioned identity). The C code is not instrumented for
// coverage: the mutations are blind, the check is the point.
func FuzzAgentLine(f *testing.F) {
	for _, fr := range []bp.Frame{
		{Type: bp.CmdHello, Seq: 200, Payload: []byte{1, 1}},
		{Type: bp.CmdInfo, Seq: 201},
		{Type: bp.CmdProvision, Seq: 202, Payload: []byte{0x01, 0x01, 0x03, 0x02, 0x04, 'f', 'u', 'z', 'z',
			0x03, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
			24, 25, 26, 27, 28, 29, 30, 31, 32}},
		{Type: bp.CmdHandshake, Seq: 203, Payload: []byte{1, 3, 0, 0}},
		{Type: bp.CmdRelayData, Seq: 204, Payload: []byte{0, 20, 1, 2, 3}},
		{Type: bp.CmdSend, Seq: 205, Payload: []byte("ping")},
		{Type: bp.CmdReset, Seq: 206, Payload: []byte{0}},
		{Type: bp.CmdClose, Seq: 207},
	} {
		fr.Version = bp.Version
		wire, err := bp.AppendFrame(nil, fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	a := startLineAgent(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Some frames' worth of line is enough to reach every state of
		// the receiver; longer inputs only slow the run down.
		if len(data) > maxFuzzInput {
			t.Skip("longer than the inputs this target takes")
		}
		// A BENCH keeps the board busy, legitimately, for up to 255
		// scalar multiplications (seconds each on a chip): inputs that
		// carry a valid one are left out.
		var dec bp.Decoder
		for _, it := range dec.Feed(append(append([]byte{bp.Delimiter}, data...), bp.Delimiter)) {
			if it.Frame != nil && it.Frame.Type == bp.CmdBench {
				t.Skip("a BENCH command")
			}
		}
		// A delimiter after the input ends whatever chunk it left open.
		a.write(t, append(append([]byte(nil), data...), bp.Delimiter))
		a.hello(t)
	})
}
