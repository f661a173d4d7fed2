/*
 * port/cortex-m3/chip.h: the Cortex-M3 port for QEMU's mps2-an385 machine
 * (ARM MPS2 with the AN385 FPGA image), run with -icount shift=0. Same
 * functions as port/avr/chip.h and port/rv32/chip.h.
 */
#ifndef SD_PORT_CM3_CHIP_H
#define SD_PORT_CM3_CHIP_H

#include <stdint.h>

#define SD_CHIP_NAME "Cortex-M3 (QEMU mps2-an385)"
#define SD_CHIP_UNIT "instructions" /* what sd_chip_count counts */
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

/* Sets up UART0 (115200 8N1), SysTick and TIMER0; interrupts on. */
void sd_chip_init(void);
/* Sends one byte, waiting while the transmit buffer is full. */
void sd_chip_putc(uint8_t c);
/* The next received byte, or -1 if none is waiting. QEMU holds further
 * input back until this one is read, so nothing is lost. */
int sd_chip_getc(void);
/* Instructions since sd_chip_init, modulo 2^32 (see above), counted by
 * SysTick without its interrupt; callers read it at least once every
 * 2^24 ticks (671 M instructions). Each read drops the part of a tick
 * that had passed (chip.c), so the count between two reads is the same
 * whenever the same instructions run between them. */
uint32_t sd_chip_count(void);
/* The same count (no interrupt runs to take out). */
uint32_t sd_chip_cycles(void);
/* Milliseconds of QEMU's virtual clock since sd_chip_init, from TIMER0
 * (25 MHz, one tick per 40 instructions under -icount shift=0), wrapping
 * at 2^32 ms; read at least every 171 s. */
uint32_t sd_chip_millis(void);
/* Nothing to wait for: the agent's main loop polls. */
void sd_chip_idle(void);
/* SD_CHIP_RESET_SOFTWARE after sd_chip_reboot, else power-on. */
uint8_t sd_chip_reset_cause(void);
/* A system reset (AIRCR.SYSRESETREQ): QEMU reloads the image and starts
 * it again; NV in RAM survives. */
void sd_chip_reboot(void) __attribute__((noreturn));
/* Markers are for the simavr runner; nothing watches them here. */
void sd_chip_mark(uint8_t id);
void sd_chip_stack_paint(void);
uint32_t sd_chip_stack_peak(void);
uint32_t sd_chip_stack_size(void);
uint32_t sd_chip_stack_free(void);
int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len);
int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len);
/* Writes the line "#exit <code>" on the UART (how the QEMU runner learns
 * that the program ended; it then stops QEMU by PID) and halts. */
void sd_chip_exit(int code) __attribute__((noreturn));

#endif /* SD_PORT_CM3_CHIP_H */
