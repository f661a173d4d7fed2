// Package emulated starts the agent firmware of boards/firmware on an
// emulated chip, so that the harness drives it exactly as it drives a real
// board on a serial port: the emulator connects the chip's UART to a
// pseudo-terminal, and harness.Open opens that like /dev/ttyACM0.
//
// Four chips, each with its board profile (package boards):
//
//	chip         emulator                                profile            counts
//	atmega328p   simavr (emu/simavr-run.c), 16 MHz       simavr-atmega328p  cycles, exact
//	cortex-m3    qemu-system-arm -M mps2-an385            qemu-mps2-an385    instructions
//	nrf51        qemu-system-arm -M microbit              qemu-microbit      instructions
//	rv32         qemu-system-riscv32 -M sifive_e          qemu-sifive-e      instructions
//	stm32f4      qemu-system-arm -M netduinoplus2         qemu-netduinoplus2 instructions
//
// The QEMU machines run with -icount shift=0: every instruction advances
// the virtual clock by one nanosecond, so the firmware's counters count
// instructions and the same code counts the same every run. "avr" is an
// alias of atmega328p.
//
// Build the images (and simavr-run) first; DefaultImage finds them under
// boards/firmware/build of the module, or in $SHAKEDOWN_FIRMWARE:
//
//	make -C boards/firmware agents
//
// Then start a board, open it with its profile's options, and use it:
//
//	b, err := emulated.Start(ctx, emulated.Config{Chip: "cortex-m3"})
//	defer b.Close()
//	p, err := boards.Lookup(b.ProfileName())
//	h, err := harness.Open(ctx, b.Path(), p.Options())
//	defer h.Close()
//	info, err := h.Info(ctx)
//
// What the emulators do that a test must know:
//
//   - QEMU drops what the chip writes until the pseudo-terminal is opened,
//     and notices that it was opened only about once a second: the BOOT
//     event is lost, and the first HELLO is answered after up to a second.
//     harness.Open needs nothing more than it does for any board: it sends
//     HELLO and retransmits it (Options.ResponseTimeout, Options.Retries)
//     until the agent answers; the profiles' timeouts leave four seconds.
//   - A pseudo-terminal has no modem lines: the profiles say reset method
//     none, and the harness resets these boards with the RESET command.
//   - An emulator keeps a core busy while the chip computes, and the QEMU
//     chips poll their UART, so a QEMU board costs a core until Close.
//     (simavr lets the ATmega328P sleep between commands.) Close stops the
//     emulator by its process group: SIGTERM, then SIGKILL. The emulator
//     also gets SIGKILL from the kernel when the process that started it
//     dies (Linux), so a test that never reaches Close leaves nothing
//     running.
//   - Time on the chip is simulated time. simavr runs the ATmega328P at
//     about 80 M cycles per second of wall time on the reference machine
//     (five times the real chip's 16 MHz) while it computes; QEMU runs its
//     virtual clock at the speed it executes instructions. Deadlines on
//     the board (the handshake's) are in that time; the server's are in
//     wall time and must allow for the chip.
//
// Check tells whether a chip can run here: the emulator program and the
// image are present, or an *Error that wraps ErrMissing and names the
// Debian package to install or the make target to run. The package's
// tests skip a chip that cannot run, or fail when
// SHAKEDOWN_REQUIRE_EMULATORS=1.
//
// The firmware's benchmark program (test/avr/bench.c, built by make -C
// boards/firmware chips) runs on the same chips: RunBench runs it with
// emu/board.sh and ParseBench reads what it prints into a reports.Board,
// exact counts with the ATmega328P's clock. The chips' table (chips.go) is
// the one place that knows each chip's emulator, images and clock.
//
// Non-volatile storage on the QEMU machines is RAM that survives a reset
// but not the emulator process: every Start is a board whose storage was
// erased (boards/firmware/README.md).
package emulated
