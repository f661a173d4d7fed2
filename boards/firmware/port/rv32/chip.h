/*
 * port/rv32/chip.h: the RV32IMAC port for QEMU's sifive_e machine (a
 * SiFive E31 core, FE310 peripherals), run with -icount shift=0. Same
 * functions as port/avr/chip.h and port/cortex-m3/chip.h.
 */
#ifndef SD_PORT_RV32_CHIP_H
#define SD_PORT_RV32_CHIP_H

#include <stdint.h>

#define SD_CHIP_NAME "RV32IMAC (QEMU sifive_e)"
#define SD_CHIP_UNIT "instructions" /* minstret */
#define SD_CHIP_COUNTS_CYCLES 0
#define SD_CHIP_HZ 16000000UL       /* the FE310's default clock */
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u      /* RAM standing in: port/common/ramchip.inc */

#define SD_CHIP_MARK_END 0x80u
#define SD_CHIP_MARK_EXIT 0xFFu

/* Causes of the last reset, as sd_chip_reset_cause reports them (the
 * same codes on every chip). */
#define SD_CHIP_RESET_UNKNOWN 0
#define SD_CHIP_RESET_POWER_ON 1
#define SD_CHIP_RESET_EXTERNAL 2
#define SD_CHIP_RESET_WATCHDOG 3
#define SD_CHIP_RESET_SOFTWARE 4  /* sd_chip_reboot */
#define SD_CHIP_RESET_BROWN_OUT 5

/* Sets up UART0 (115200 8N1). */
void sd_chip_init(void);
/* Sends one byte, waiting while the transmit FIFO is full. */
void sd_chip_putc(uint8_t c);
/* The next received byte, or -1 if none is waiting. */
int sd_chip_getc(void);
/* Instructions retired (minstret) modulo 2^32; under -icount QEMU counts
 * them exactly (mcycle counts the same). */
uint32_t sd_chip_count(void);
/* The same count (no interrupt runs). */
uint32_t sd_chip_cycles(void);
/* Milliseconds since sd_chip_init from mtime (the CLINT's timer, which
 * QEMU drives from its virtual clock at 10 MHz), wrapping at 2^32 ms;
 * read at least every 7 minutes. */
uint32_t sd_chip_millis(void);
/* Nothing to wait for: the agent's main loop polls. */
void sd_chip_idle(void);
/* SD_CHIP_RESET_SOFTWARE after sd_chip_reboot, else power-on. */
uint8_t sd_chip_reset_cause(void);
/* Starts the program again from its reset entry (the FE310's watchdog is
 * not emulated); NV in RAM survives. */
void sd_chip_reboot(void) __attribute__((noreturn));
/* Markers are for the simavr runner; nothing watches them here. */
void sd_chip_mark(uint8_t id);
void sd_chip_stack_paint(void);
uint32_t sd_chip_stack_peak(void);
uint32_t sd_chip_stack_size(void);
uint32_t sd_chip_stack_free(void);
int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len);
int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len);
/* Writes the line "#exit <code>" on the UART and halts. */
void sd_chip_exit(int code) __attribute__((noreturn));

#endif /* SD_PORT_RV32_CHIP_H */
