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
#define SD_CHIP_HZ 25000000UL       /* SYSCLK of the AN385 image */
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u      /* a stub: RAM, lost at reset */

/*
 * Under -icount shift=0 QEMU advances its virtual clock by 1 ns per
 * instruction, and SysTick, clocked by the 25 MHz processor clock, ticks
 * once per 40 ns: once per 40 instructions. sd_chip_count returns ticks
 * times this, so its unit is instructions with a resolution of 40.
 */
#define SD_CHIP_INSNS_PER_TICK 40u

#define SD_CHIP_MARK_END 0x80u
#define SD_CHIP_MARK_EXIT 0xFFu

/* Sets up UART0 (115200 8N1) and SysTick; interrupts on. */
void sd_chip_init(void);
/* Sends one byte, waiting while the transmit buffer is full. */
void sd_chip_putc(uint8_t c);
/* The next received byte, or -1 if none is waiting. QEMU holds further
 * input back until this one is read, so nothing is lost. */
int sd_chip_getc(void);
/* Instructions since sd_chip_init, modulo 2^32 (see above). */
uint32_t sd_chip_count(void);
/* Markers are for the simavr runner; nothing watches them here. */
void sd_chip_mark(uint8_t id);
void sd_chip_stack_paint(void);
uint32_t sd_chip_stack_peak(void);
int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len);
int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len);
/* Writes the line "#exit <code>" on the UART (how the QEMU runner learns
 * that the program ended; it then stops QEMU by PID) and halts. */
void sd_chip_exit(int code) __attribute__((noreturn));

#endif /* SD_PORT_CM3_CHIP_H */
