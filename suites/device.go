package suites

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/measure"
	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// column is a profile as the board runs it: seed once per curve.
type column struct {
	p     handshake.Name
	curve string // seed: p256 or secp160r1
}

func (c column) String() string {
	if c.curve != "" {
		return string(c.p) + " " + c.curve
	}
	return string(c.p)
}

// columns are every profile a board may run.
var columns = []column{{handshake.Noise, ""}, {handshake.Seed, "p256"}, {handshake.Seed, "secp160r1"}, {handshake.PSK, ""}, {handshake.TLS, ""}}

// need skips the spec when the board does not run the column.
func (c column) need() {
	in := cur.b.Info
	if !slices.Contains(in.Profiles, c.p) {
		Skip(fmt.Sprintf("%s does not run %s (INFO lists %v)", cur.b.Label, c.p, in.Profiles))
	}
	if c.curve != "" {
		if cv, _ := bp.ParseCurve(c.curve); !slices.Contains(in.Curves, cv) {
			Skip(fmt.Sprintf("%s has no %s (INFO lists %v)", cur.b.Label, c.curve, in.Curves))
		}
	}
}

// become provisions the board as the fixture device of column c that
// suite spec n uses (1, 2, ... from the end of the set: a fleet on the same
// set takes its devices from the start).
func (c column) become(n int) fixtures.Device {
	d, err := measure.DeviceFor(cur.set, c.p, c.curve, n)
	must(err, "choosing a %s device", c)
	pv, err := measure.Provisioning(cur.set, d)
	must(err, "making the provisioning of %s", d.ID)
	Expect(cur.b.Provision(step(), pv)).To(Succeed(), "provisioning %s as %s", cur.b.Label, d.ID)
	return d
}

// handshakeOptions are the options of a relayed handshake of c against
// the reference server, the board's deadline leaving room over its limit.
func (c column) handshakeOptions(tap harness.Tap) harness.HandshakeOptions {
	addr, err := cur.srv.AddrOf(c.p)
	must(err, "finding the %s listener", c.p)
	return harness.HandshakeOptions{Profile: c.p, Server: addr, Tap: tap, Timeout: 2*cur.b.Profile.Limit(c.p) + 10*time.Second}
}

// mqttOver runs an MQTT client over the board's session as device d.
func mqttOver(s *harness.Session, d fixtures.Device) mqtt.Client {
	o := mqtt.NewClientOptions().AddBroker("tcp://board-session").SetClientID(d.ID).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(cur.cfg.Timeout).
		SetProtocolVersion(4).SetKeepAlive(0).
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) { return s.Conn(), nil })
	c := mqtt.NewClient(o)
	await(c.Connect(), "MQTT CONNECT over the board's session")
	DeferCleanup(func() { c.Disconnect(50) })
	return c
}

// await waits for a paho token within the step timeout.
func await(t mqtt.Token, what string) {
	Expect(t.WaitTimeout(cur.cfg.Timeout)).To(BeTrue(), "%s: no answer within %s", what, cur.cfg.Timeout)
	must(t.Error(), "%s", what)
}

// exchange sends telemetry from the board to the backend and a command
// from the backend to the board, over client c of device d.
func exchange(c mqtt.Client, d fixtures.Device, tag string) {
	cmds := make(chan string, 4)
	cmdTopic := "devices/" + d.ID + "/cmd"
	await(c.Subscribe(cmdTopic, 1, func(_ mqtt.Client, m mqtt.Message) { cmds <- string(m.Payload()) }), "SUBSCRIBE "+cmdTopic)
	topic, msg := "devices/"+d.ID+"/telemetry", tag+": telemetry from "+d.ID
	await(c.Publish(topic, 1, false, msg), "PUBLISH "+topic)
	eventually(func() int { return cur.srv.Count(topic, []byte(msg)) }).Should(Equal(1), "the backend receives the board's telemetry once")
	cmd := tag + ": command to " + d.ID
	must(cur.srv.Command(cmdTopic, []byte(cmd)), "publishing the command on %s", cmdTopic)
	eventually(cmds).Should(Receive(Equal(cmd)), "the board receives the backend's command")
}
