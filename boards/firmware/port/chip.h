/*
 * port/chip.h: the services the firmware needs from a chip and nothing
 * more, declared once for every chip. A program written against this
 * header builds for each of them.
 *
 * A chip's port is a folder port/<chip>/ with chip.c, which defines these
 * functions, and chip_port.h, which this header includes (the build puts
 * -Iport/<chip> on the include path) for what differs from chip to chip:
 *
 *   SD_CHIP_NAME           the chip, as INFO and the benchmarks name it
 *   SD_CHIP_UNIT           what sd_chip_count counts: "cycles" or "instructions"
 *   SD_CHIP_COUNTS_CYCLES  1 when sd_chip_count counts cycles, 0 instructions
 *   SD_CHIP_HZ             the CPU clock
 *   SD_CHIP_BAUD           the UART's rate (8N1)
 *   SD_CHIP_NV_BYTES       bytes of non-volatile storage
 *
 * and how this chip does each service below: its UART, its counter, what
 * sd_chip_reboot resets through.
 */
#ifndef SD_PORT_CHIP_H
#define SD_PORT_CHIP_H

#include <stdint.h>

#include "chip_port.h"

#if !defined(SD_CHIP_NAME) || !defined(SD_CHIP_UNIT) || !defined(SD_CHIP_COUNTS_CYCLES) || \
	!defined(SD_CHIP_HZ) || !defined(SD_CHIP_BAUD) || !defined(SD_CHIP_NV_BYTES)
#error "port/<chip>/chip_port.h must define every SD_CHIP_ constant port/chip.h lists"
#endif

/* Marker ids for the emulator (sd_chip_mark): an operation's start is its
 * id, its end the id with SD_CHIP_MARK_END set; SD_CHIP_MARK_EXIT ends the
 * run. */
#define SD_CHIP_MARK_END 0x80u
#define SD_CHIP_MARK_EXIT 0xFFu

/* Causes of the last reset, as sd_chip_reset_cause reports them (the
 * same codes on every chip). */
#define SD_CHIP_RESET_UNKNOWN 0
#define SD_CHIP_RESET_POWER_ON 1
#define SD_CHIP_RESET_EXTERNAL 2  /* the reset pin: an Uno's DTR auto-reset */
#define SD_CHIP_RESET_WATCHDOG 3
#define SD_CHIP_RESET_SOFTWARE 4  /* a reset the program asked for, no watchdog */
#define SD_CHIP_RESET_BROWN_OUT 5

/* Sets up the UART (SD_CHIP_BAUD, 8N1) and the counters; interrupts on
 * where the port uses them. */
void sd_chip_init(void);
/* Sends one byte, waiting while the transmitter is busy. */
void sd_chip_putc(uint8_t c);
/* The next received byte, or -1 if none is waiting. */
int sd_chip_getc(void);
/* SD_CHIP_UNIT since sd_chip_init, modulo 2^32. */
uint32_t sd_chip_count(void);
/* The same count less what the counter's own interrupt took, if it has
 * one: the cycles or instructions the program itself ran, the same every
 * time the same code runs on the same input. */
uint32_t sd_chip_cycles(void);
/* Milliseconds since sd_chip_init, wrapping at 2^32 ms. */
uint32_t sd_chip_millis(void);
/* Waits a little for input where the chip can sleep; returns at once
 * where the agent's main loop polls. */
void sd_chip_idle(void);
/* Why the chip last reset (SD_CHIP_RESET_*). */
uint8_t sd_chip_reset_cause(void);
/* Resets the chip; the next sd_chip_reset_cause says how. */
void sd_chip_reboot(void) __attribute__((noreturn));
/* Marks the start or end of an operation for the emulator's exact count
 * (SD_CHIP_MARK_*); harmless where nothing watches. */
void sd_chip_mark(uint8_t id);
/* Stack high-water mark: paint fills the free RAM below the caller's stack
 * with a pattern; peak returns how many bytes below the point of the paint
 * call have been written since (the deepest use of the whole call tree). */
void sd_chip_stack_paint(void);
uint32_t sd_chip_stack_peak(void);
/* The stack region (from the end of static RAM to the top of RAM) and how
 * much of its bottom is still painted: never used since the paint. */
uint32_t sd_chip_stack_size(void);
uint32_t sd_chip_stack_free(void);
/* Non-volatile storage of SD_CHIP_NV_BYTES. Both return 0, or -1 if the
 * range does not fit. */
int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len);
int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len);
/* Fills out with up to len bytes from the chip's hardware entropy source (RNG peripheral, ADC noise, clock jitter); returns how many bytes it wrote, 0 where the chip has none. */
uint32_t sd_chip_entropy(uint8_t *out, uint32_t len);
/* Ends the program: writes the line "#exit <code>" on the UART, which is
 * how the emulator runners learn the verdict, and stops the CPU. */
void sd_chip_exit(int code) __attribute__((noreturn));

#endif /* SD_PORT_CHIP_H */
