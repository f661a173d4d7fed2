/*
 * port/cortex-m3/chip_port.h: what port/chip.h takes from the Cortex-M3
 * port for QEMU's mps2-an385 machine (ARM MPS2 with the AN385 FPGA image),
 * run with -icount shift=0, and how port/cortex-m3/chip.c provides each
 * service:
 *
 * - sd_chip_init sets up UART0 (115200 8N1), SysTick and TIMER0;
 *   interrupts on.
 * - sd_chip_getc: QEMU holds further input back until this byte is read,
 *   so nothing is lost.
 * - sd_chip_count: instructions (see SD_CHIP_INSNS_PER_TICK), counted by
 *   SysTick without its interrupt; callers read it at least once every
 *   2^24 ticks (671 M instructions). Each read drops the part of a tick
 *   that had passed (chip.c), so the count between two reads is the same
 *   whenever the same instructions run between them. sd_chip_cycles is
 *   the same count: no interrupt runs to take out.
 * - sd_chip_millis: QEMU's virtual clock from TIMER0 (25 MHz, one tick per
 *   40 instructions under -icount shift=0); read at least every 171 s.
 * - sd_chip_idle returns at once: the agent's main loop polls.
 * - sd_chip_reboot is a system reset (AIRCR.SYSRESETREQ): QEMU reloads the
 *   image and starts it again; NV in RAM survives. sd_chip_reset_cause
 *   says SD_CHIP_RESET_SOFTWARE after it, else power-on.
 * - Markers are for the simavr runner; nothing watches them here.
 * - sd_chip_exit: after the "#exit" line the QEMU runner stops QEMU by
 *   PID; the CPU halts.
 */
#ifndef SD_PORT_CM3_CHIP_PORT_H
#define SD_PORT_CM3_CHIP_PORT_H

#define SD_CHIP_NAME "Cortex-M3 (QEMU mps2-an385)"
#define SD_CHIP_UNIT "instructions"
#define SD_CHIP_COUNTS_CYCLES 0
#define SD_CHIP_HZ 25000000UL       /* SYSCLK of the AN385 image */
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u      /* RAM standing in: port/common/ramchip.inc */

/*
 * Under -icount shift=0 QEMU advances its virtual clock by 1 ns per
 * instruction, and SysTick, clocked by the 25 MHz processor clock, ticks
 * once per 40 ns: once per 40 instructions. sd_chip_count returns ticks
 * times this, so its unit is instructions with a resolution of 40.
 */
#define SD_CHIP_INSNS_PER_TICK 40u

#endif /* SD_PORT_CM3_CHIP_PORT_H */
