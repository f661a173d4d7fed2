/*
 * port/avr/chip.h: the ATmega328P port (Arduino Uno, simavr): the services
 * the firmware needs from a chip and nothing more. The Cortex-M3 and RV32
 * ports (port/cortex-m3/chip.h, port/rv32/chip.h) declare the same
 * functions, so a program written against one builds for all three.
 */
#ifndef SD_PORT_AVR_CHIP_H
#define SD_PORT_AVR_CHIP_H

#include <stdint.h>

#define SD_CHIP_NAME "ATmega328P"
#define SD_CHIP_UNIT "cycles"  /* what sd_chip_count counts */
#define SD_CHIP_COUNTS_CYCLES 1 /* 0: instructions */
#define SD_CHIP_HZ 16000000UL
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u /* the EEPROM */

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
#define SD_CHIP_RESET_WATCHDOG 3  /* sd_chip_reboot */
#define SD_CHIP_RESET_SOFTWARE 4  /* a reset the program asked for, no watchdog */
#define SD_CHIP_RESET_BROWN_OUT 5

/* Sets up USART0 (115200 8N1, interrupt-driven receive into a 64-byte
 * ring) and the cycle counter, measures what the counter's own overflow
 * interrupt costs (sd_chip_cycles), and enables interrupts. */
void sd_chip_init(void);
/* Sends one byte, waiting while the transmitter is busy. */
void sd_chip_putc(uint8_t c);
/* The next received byte, or -1 if none is waiting. */
int sd_chip_getc(void);
/* Cycles since sd_chip_init, modulo 2^32: Timer1 at the CPU clock plus
 * its overflow interrupt (about 40 cycles in every 65,536 go to that
 * interrupt, and are counted). Differences are exact across one wrap
 * (268 s at 16 MHz). */
uint32_t sd_chip_count(void);
/* Cycles since sd_chip_init, modulo 2^32, less the cycles the counter's
 * own overflow interrupt took: the cycles the program itself ran. The
 * interrupt always takes the same number of cycles (measured once by
 * sd_chip_init), so what it adds to an operation depends only on where
 * the timer stood when the operation began; without it an operation
 * costs the same cycles every time it runs on the same input. */
uint32_t sd_chip_cycles(void);
/* Milliseconds since sd_chip_init, from the same timer, wrapping at
 * 2^32 ms. */
uint32_t sd_chip_millis(void);
/* Sleeps (idle mode) until an interrupt, unless a received byte waits:
 * the UART or the timer's overflow, at the latest 4.1 ms later. */
void sd_chip_idle(void);
/* Why the chip last reset (SD_CHIP_RESET_*), from MCUSR. */
uint8_t sd_chip_reset_cause(void);
/* Resets the chip through the watchdog (15 ms). */
void sd_chip_reboot(void) __attribute__((noreturn));
/* Writes id to GPIOR0, which the simavr runner (emu/simavr-run.c) watches
 * to count cycles exactly. One OUT instruction; harmless on a real chip. */
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
/* Non-volatile storage: the EEPROM. Both return 0, or -1 if the range
 * does not fit in SD_CHIP_NV_BYTES. Writing skips unchanged bytes. */
int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len);
int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len);
/* Ends the program: writes the line "#exit <code>" (code taken modulo
 * 256) on the UART, as the QEMU ports do, reports code to the simavr
 * runner (GPIOR1, then the exit marker) and stops the CPU. */
void sd_chip_exit(int code) __attribute__((noreturn));

#endif /* SD_PORT_AVR_CHIP_H */
