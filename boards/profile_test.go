package boards_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.bug.st/serial"

	"shakedown/boards"
	"shakedown/handshake"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

var _ = Describe("embedded profiles", func() {
	It("are all valid and cover the boards of the project", func() {
		ps, err := boards.All()
		Expect(err).NotTo(HaveOccurred())
		Expect(boards.Names()).To(ConsistOf("uno", "mkr1000", "esp8266", "esp32", "nrf52840dk", "nucleo-f401re",
			"pico", "simavr-atmega328p", "qemu-mps2-an385", "qemu-microbit", "qemu-sifive-e", "qemu-netduinoplus2", "virtual"))
		for _, p := range ps {
			Expect(p.Source).To(Equal("profiles/" + p.Name + ".yaml"))
			if p.Transport == "usb" {
				Expect(p.USB).NotTo(BeEmpty(), p.Name)
			}
			Expect(p.Limit(handshake.Noise)).To(BeNumerically(">", 0), p.Name)
		}
	})

	DescribeTable("recognise real boards by their USB ids",
		func(vid, pid string, want ...string) {
			ps, err := boards.All()
			Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, p := range boards.Recognise(harness.PortInfo{IsUSB: true, VID: vid, PID: pid}, ps) {
				names = append(names, p.Name)
			}
			Expect(names).To(ConsistOf(want))
		},
		Entry("Uno R3", "2341", "0043", "uno"),
		Entry("MKR1000 running a sketch", "2341", "804e", "mkr1000"),
		Entry("CP2102 bridge: an ESP8266 or an ESP32", "10c4", "ea60", "esp8266", "esp32"),
		Entry("CH340 bridge: an Uno clone or an ESP8266", "1a86", "7523", "uno", "esp8266"),
		Entry("ST-LINK/V2-1 of a NUCLEO-F401RE", "0483", "374b", "nucleo-f401re"),
		Entry("J-Link OB of an nRF52840 DK", "1366", "1015", "nrf52840dk"),
		Entry("Raspberry Pi Pico", "2e8a", "000a", "pico"),
		Entry("an unknown device", "dead", "beef"),
	)

	It("turn into harness options", func() {
		p, err := boards.Lookup("esp8266")
		Expect(err).NotTo(HaveOccurred())
		o := p.Options()
		Expect(o.Baud).To(Equal(115200))
		Expect(o.Parity).To(Equal(serial.NoParity))
		Expect(o.StopBits).To(Equal(serial.OneStopBit))
		Expect(o.Reset).To(Equal(harness.ResetESP))
		Expect(o.BootTimeout).To(Equal(3 * time.Second))
		Expect(o.HandshakeTimeout).To(Equal(2 * time.Second))

		uno, err := boards.Lookup("uno")
		Expect(err).NotTo(HaveOccurred())
		Expect(uno.Agent.MaxPayload).To(Equal(128))
		Expect(uno.Cost("x25519")).To(Equal(870 * time.Millisecond))
		Expect(uno.Unit()).To(Equal(bp.UnitCycles))
	})

	It("names the known profiles when one is missing", func() {
		_, err := boards.Lookup("arduino-due")
		Expect(err).To(MatchError(ContainSubstring("uno")))
	})
})

const good = `name: test
board: Test Board
chip: T1
clock_hz: 1000
ram_bytes: 1024
transport: usb
serial: {baud: 9600, response_timeout: 100ms, boot_timeout: 1s}
usb: [{vid: "1234", pid: "ABCD"}]
agent: {max_payload: 64, relay: true, unit: cycles, profiles: [noise]}
`

var _ = Describe("the profile loader", func() {
	It("accepts a minimal profile and fills the defaults", func() {
		p, err := boards.Parse("test.yaml", []byte(good))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Serial.DataBits).To(Equal(8))
		Expect(p.Serial.Parity).To(Equal("none"))
		Expect(p.Reset.Method).To(Equal("none"))
		Expect(p.USB[0].PID).To(Equal("abcd"))
	})

	It("loads a file from disk", func() {
		file := filepath.Join(GinkgoT().TempDir(), "test.yaml")
		Expect(os.WriteFile(file, []byte(good), 0o644)).To(Succeed())
		p, err := boards.Load(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Source).To(Equal(file))
	})

	DescribeTable("reports every problem with its field",
		func(edit func(string) string, fields ...string) {
			_, err := boards.Parse("test.yaml", []byte(edit(good)))
			var pe *boards.ProfileError
			Expect(errors.As(err, &pe)).To(BeTrue(), "%v", err)
			var got []string
			for _, p := range pe.Problems {
				got = append(got, p.Field)
			}
			Expect(got).To(ConsistOf(fields))
			Expect(err.Error()).To(HavePrefix("boards: test.yaml: "))
		},
		Entry("a name that is not the file's", repl("name: test", "name: other"), "name"),
		Entry("a usb board without ids", repl(`usb: [{vid: "1234", pid: "ABCD"}]`, ""), "usb"),
		Entry("a malformed vid", repl(`"1234"`, `"12345"`), "usb[0].vid"),
		Entry("zero baud and an odd stop count", repl("baud: 9600", "baud: 0, stop_bits: 3"), "serial.baud", "serial.stop_bits"),
		Entry("an unknown reset method", func(s string) string { return s + "reset: {method: jtag}\n" }, "reset.method"),
		Entry("a required reset without a method", func(s string) string { return s + "reset: {required: true}\n" }, "reset.required"),
		Entry("a payload beyond the protocol", repl("max_payload: 64", "max_payload: 300"), "agent.max_payload"),
		Entry("an unknown profile and curve", repl("profiles: [noise]", "profiles: [noise, wpa2], curves: [ed448]"),
			"agent.profiles[1]", "agent.curves[0]"),
		Entry("an unknown cost and limit", func(s string) string {
			return s + "costs: {x448: 1s}\nlimits: {noise_handshake: 0s, dtls_handshake: 1s}\n"
		}, "costs.x448", "limits.noise_handshake", "limits.dtls_handshake"),
		Entry("a missing transport", repl("transport: usb", "transport: wifi"), "transport"),
		Entry("an emulator without a runner", repl("transport: usb", "transport: emulator"), "emulator.runner", "emulator.machine"),
	)

	DescribeTable("refuses YAML it cannot read, saying where",
		func(edit func(string) string, want string) {
			_, err := boards.Parse("test.yaml", []byte(edit(good)))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a misspelt field", func(s string) string { return s + "clock_mhz: 16\n" }, "field clock_mhz not found"),
		Entry("a duration without a unit", repl("response_timeout: 100ms", "response_timeout: 100"), "want a duration"),
		Entry("broken YAML", func(s string) string { return s + "  - [\n" }, "line"),
	)
})

func repl(old, new string) func(string) string {
	return func(s string) string {
		Expect(s).To(ContainSubstring(old))
		return strings.Replace(s, old, new, 1)
	}
}

var _ = Describe("LongestLimit", func() {
	It("is the longest handshake limit of any profile", func() {
		p, err := boards.Lookup("virtual")
		Expect(err).NotTo(HaveOccurred())
		Expect(p.LongestLimit()).To(Equal(5 * time.Second)) // tls_handshake in virtual.yaml
		Expect(boards.Profile{}.LongestLimit()).To(BeZero())
	})
})
