/*
 * port/rv32/chip_port.h: what port/chip.h takes from the RV32IMAC port for
 * QEMU's sifive_e machine (a SiFive E31 core, FE310 peripherals), run with
 * -icount shift=0, and how port/rv32/chip.c provides each service:
 *
 * - sd_chip_init sets up UART0 (115200 8N1).
 * - sd_chip_count: instructions retired (minstret); under -icount QEMU
 *   counts them exactly (mcycle counts the same). sd_chip_cycles is the
 *   same count: no interrupt runs.
 * - sd_chip_millis: mtime (the CLINT's timer, which QEMU drives from its
 *   virtual clock at 10 MHz); read at least every 7 minutes.
 * - sd_chip_idle returns at once: the agent's main loop polls.
 * - sd_chip_reboot starts the program again from its reset entry (the
 *   FE310's watchdog is not emulated); NV in RAM survives.
 *   sd_chip_reset_cause says SD_CHIP_RESET_SOFTWARE after it, else
 *   power-on.
 * - Markers are for the simavr runner; nothing watches them here.
 */
#ifndef SD_PORT_RV32_CHIP_PORT_H
#define SD_PORT_RV32_CHIP_PORT_H

#define SD_CHIP_NAME "RV32IMAC (QEMU sifive_e)"
#define SD_CHIP_UNIT "instructions" /* minstret */
#define SD_CHIP_COUNTS_CYCLES 0
#define SD_CHIP_HZ 16000000UL       /* the FE310's default clock */
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u      /* RAM standing in: port/common/ramchip.inc */

#endif /* SD_PORT_RV32_CHIP_PORT_H */
