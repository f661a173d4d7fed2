package emulated

import (
	"regexp"
	"strconv"
)

// A chip is one emulated target: how its emulator starts and where it
// names the pseudo-terminal of the agent's UART.
type chip struct {
	name    string // the canonical name: atmega328p, cortex-m3, nrf51, rv32, stm32f4
	profile string // the boards/profiles name
	// runner is the emulator program: a name looked up on PATH, or, when
	// inBuild is set, a file in the firmware build directory (simavr-run,
	// built by make agents).
	runner  string
	inBuild bool
	debian  string // Debian packages the runner needs
	args    func(image string) []string
	// pty finds the path of the pseudo-terminal in a line the runner
	// prints (on standard output or standard error).
	pty *regexp.Regexp
	// bench is the image of the firmware's benchmark program
	// (test/avr/bench.c, built by make chips), relative to the firmware
	// folder; board says which emulated board runs it.
	bench, board string
	// clockHz is the chip's clock when its counter counts cycles; 0 when
	// it counts instructions (QEMU's -icount has no clock of the chip).
	clockHz uint32
	// entropy is what feeds the port's sd_chip_entropy ("" when the chip
	// has no source: then INFO's caps lack entropy); entropyDiffers says
	// whether the emulator makes that source differ from one process to
	// the next, as the real chip's does.
	entropy        string
	entropyDiffers bool
}

// clockHz of the ATmega328P on an Arduino Uno, as simavr is told.
const avrClockHz = 16000000

var chips = []chip{
	{
		name: "atmega328p", profile: "simavr-atmega328p",
		runner: "simavr-run", inBuild: true,
		debian: "gcc-avr avr-libc simavr libsimavr-dev libelf-dev",
		// emu/simavr-run.c: USART0 on a pseudo-terminal, exact cycles.
		args: func(image string) []string {
			return []string{"-m", "atmega328p", "-f", strconv.Itoa(avrClockHz), image}
		},
		pty:   regexp.MustCompile(`^pty (/dev/\S+)$`),
		bench: "build/avr-asm/bench.elf", board: "ATmega328P under simavr", clockHz: avrClockHz,
		// simavr times the watchdog from the CPU clock: its oscillator
		// has no jitter there, and the samples repeat from one process
		// to the next (the port samples before its UART is on, so the
		// host's timing does not move them).
		entropy: "watchdog oscillator jitter against Timer1",
	},
	{
		name: "cortex-m3", profile: "qemu-mps2-an385",
		runner: "qemu-system-arm", debian: "qemu-system-arm",
		args:  qemuArgs("-M", "mps2-an385", "-cpu", "cortex-m3"),
		pty:   qemuPTY,
		bench: "build/cortex-m3/bench.elf", board: "Cortex-M3 under QEMU mps2-an385",
	},
	{
		name: "nrf51", profile: "qemu-microbit",
		runner: "qemu-system-arm", debian: "qemu-system-arm",
		// The nRF51822 (Cortex-M0) of the BBC micro:bit; the port counts
		// instructions with the SoC's TIMER0.
		args:  qemuArgs("-M", "microbit"),
		pty:   qemuPTY,
		bench: "build/nrf51/bench.elf", board: "nRF51822 (Cortex-M0) under QEMU microbit",
		// QEMU's nRF51 RNG fills VALUE from the host's random source.
		entropy: "RNG peripheral", entropyDiffers: true,
	},
	{
		name: "rv32", profile: "qemu-sifive-e",
		runner: "qemu-system-riscv32", debian: "qemu-system-misc",
		args:  qemuArgs("-M", "sifive_e"),
		pty:   qemuPTY,
		bench: "build/rv32/bench.elf", board: "RV32IMAC under QEMU sifive_e",
	},
	{
		name: "stm32f4", profile: "qemu-netduinoplus2",
		runner: "qemu-system-arm", debian: "qemu-system-arm",
		// The STM32F405 of the Netduino Plus 2: USART1 is serial0; TIM2,
		// which QEMU 7.2 clocks at 1 GHz, counts instructions.
		args:  qemuArgs("-M", "netduinoplus2"),
		pty:   qemuPTY,
		bench: "build/stm32f4/bench.elf", board: "STM32F405 under QEMU netduinoplus2",
	},
}

// qemuArgs returns the arguments of a QEMU chip: its machine options,
// then -icount shift=0 (one instruction per nanosecond of virtual time, so
// the chip's timers count instructions and every run of the same code
// counts the same), the UART on a pseudo-terminal and the image.
func qemuArgs(machine ...string) func(image string) []string {
	return func(image string) []string {
		args := append([]string{}, machine...)
		return append(args, "-icount", "shift=0",
			"-display", "none", "-monitor", "none", "-serial", "pty", "-kernel", image)
	}
}

// qemuPTY matches QEMU's line on standard error for -serial pty.
var qemuPTY = regexp.MustCompile(`char device redirected to (/dev/\S+) \(label serial0\)`)

// aliases are other names Config.Chip accepts.
var aliases = map[string]string{"avr": "atmega328p"}

// Entropy says what feeds chip's hardware entropy source ("" for none)
// and whether its emulator makes that source differ between two
// processes. Where it does not, two fresh processes of one image that
// were never given a seed (bp.Provision.RNGSeed) draw the same ephemeral
// keys.
func Entropy(name string) (source string, differs bool, err error) {
	c, err := lookupChip(name)
	if err != nil {
		return "", false, err
	}
	return c.entropy, c.entropyDiffers, nil
}

// Chips returns the canonical names of the emulated chips.
func Chips() []string {
	names := make([]string, len(chips))
	for i, c := range chips {
		names[i] = c.name
	}
	return names
}

func lookupChip(name string) (chip, error) {
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, c := range chips {
		if c.name == name {
			return c, nil
		}
	}
	return chip{}, &Error{Chip: name, Err: ErrUnknownChip}
}
