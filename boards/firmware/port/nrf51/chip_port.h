/*
 * port/nrf51/chip_port.h: what port/chip.h takes from the nRF51 port, the
 * nRF51822 (Cortex-M0, ARMv6-M, 16 MHz, 256 KB of flash, 16 KB of RAM) of
 * the BBC micro:bit, run on QEMU's microbit machine with -icount shift=0,
 * and how port/nrf51/chip.c provides each service from the SoC's own
 * peripherals (nRF51 Series Reference Manual v3.0.1, Nordic Semiconductor):
 *
 * - sd_chip_init sets up UART0 (115200 8N1, the micro:bit's USB serial
 *   pins), TIMER0 and TIMER1; no interrupts.
 * - sd_chip_getc: QEMU's model holds further input back while its
 *   6-byte receive FIFO is full, so nothing is lost.
 * - sd_chip_count: TIMER0, 32 bits at the 16 MHz HFCLK, read by its
 *   CAPTURE task and cleared after each read, so the count between two
 *   reads depends only on the instructions between them (chip.c). Under
 *   -icount shift=0 one instruction takes 1 ns of virtual time and a
 *   16 MHz tick 62.5 ns: the unit is instructions, the resolution 62.5
 *   (SD_CHIP_INSNS_PER_2TICKS). On silicon the same timer counts cycles.
 *   sd_chip_cycles is the same count: no interrupt runs to take out.
 * - sd_chip_millis: TIMER1 in 16-bit mode at 31,250 Hz (prescaler 9, the
 *   slowest, and the widest mode TIMER1 has on silicon); read at least
 *   every 2.09 s.
 * - sd_chip_entropy: the RNG peripheral with its bias correction on.
 *   QEMU's model fills VALUE from the host's random source (the
 *   emulator's own guest random generator), one byte every 660 us of
 *   virtual time with the correction on, so its bytes differ from run
 *   to run.
 * - sd_chip_idle returns at once: the agent's main loop polls.
 * - sd_chip_reboot is a system reset (AIRCR.SYSRESETREQ): QEMU reloads the
 *   image and starts it again; NV in RAM survives. sd_chip_reset_cause
 *   says SD_CHIP_RESET_SOFTWARE after it, else power-on (QEMU does not
 *   model the POWER block's RESETREAS register).
 * - Markers are for the simavr runner; nothing watches them here.
 * - sd_chip_exit: after the "#exit" line the QEMU runner stops QEMU by
 *   PID; the CPU halts.
 */
#ifndef SD_PORT_NRF51_CHIP_PORT_H
#define SD_PORT_NRF51_CHIP_PORT_H

#define SD_CHIP_NAME "nRF51822 (QEMU microbit)" /* INFO holds 32 characters */
#define SD_CHIP_UNIT "instructions"
#define SD_CHIP_COUNTS_CYCLES 0
#define SD_CHIP_HZ 16000000UL       /* HFCLK, the CPU's and the timers' clock */
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u      /* RAM standing in: port/common/ramchip.inc */

/*
 * Under -icount shift=0 QEMU advances its virtual clock by 1 ns per
 * instruction, and TIMER0 at 16 MHz ticks once per 62.5 ns: 125
 * instructions per two ticks. sd_chip_count returns ticks times 62.5,
 * rounded down.
 */
#define SD_CHIP_INSNS_PER_2TICKS 125u

#endif /* SD_PORT_NRF51_CHIP_PORT_H */
