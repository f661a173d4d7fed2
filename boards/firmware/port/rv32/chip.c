/*
 * port/rv32/chip.c: UART, instruction counter, millisecond timer, stack
 * painting, NV stand-in, restart, exit and the C part of start-up for
 * QEMU's sifive_e.
 *
 * UART0 at 0x10013000 (SiFive FE310-G002 Manual v1p5, chapter 6 memory
 * map and chapter 18 UART: txdata, rxdata, txctrl, rxctrl, div); mtime of
 * the CLINT at 0x0200BFF8 (chapter 9). The counters are the machine-mode minstret and mcycle CSRs
 * (RISC-V Privileged Architecture v1.12, §3.1.11).
 */
#include "port/chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART0 0x10013000u
#define UART_TXDATA REG(UART0 + 0x00u)
#define UART_RXDATA REG(UART0 + 0x04u)
#define UART_TXCTRL REG(UART0 + 0x08u)
#define UART_RXCTRL REG(UART0 + 0x0Cu)
#define UART_DIV REG(UART0 + 0x18u)
#define MTIME_LO REG(0x0200BFF8u)
/* QEMU's sifive_e drives mtime at 10 MHz of virtual time (measured: 50,000
 * ticks over 5,000,011 instructions under -icount shift=0); the FE310's
 * real-time clock runs at 32,768 Hz, and a port for the real chip sets
 * that (and counts the remainder in 1000ths). */
#define MTIME_HZ 10000000u
#define MTIME_PER_MS (MTIME_HZ / 1000u)
#define TXDATA_FULL (1u << 31)
#define RXDATA_EMPTY (1u << 31)
#define CTRL_EN (1u << 0)

int main(int argc, char **argv);
void sd_chip_start(void);
void sd_chip_trap(void);
void _start(void);

#include "port/common/ramchip.inc"

/* mtime, as milliseconds (sd_chip_millis, millis_add). */
static uint32_t mtime_last;

static char progname[] = "firmware";
static char *argv0[] = {progname, 0};

void sd_chip_init(void)
{
	reset_cause_latch();
	mtime_last = MTIME_LO;
	millis_reset();
	/* §18.9: baud = f_in / (div + 1). */
	UART_DIV = (uint32_t)(SD_CHIP_HZ / SD_CHIP_BAUD - 1);
	UART_TXCTRL = CTRL_EN; /* one stop bit */
	UART_RXCTRL = CTRL_EN;
}

void sd_chip_putc(uint8_t c)
{
	while (UART_TXDATA & TXDATA_FULL)
		;
	UART_TXDATA = c;
}

int sd_chip_getc(void)
{
	uint32_t v = UART_RXDATA;

	if (v & RXDATA_EMPTY)
		return -1;
	return (int)(v & 0xFFu);
}

uint32_t sd_chip_count(void)
{
	uint32_t v;

	__asm__ volatile("csrr %0, minstret" : "=r"(v));
	return v;
}

uint32_t sd_chip_millis(void)
{
	uint32_t v = MTIME_LO;
	uint32_t ticks = v - mtime_last;

	/* The low 32 bits wrap every 429 s; callers read far more often. */
	mtime_last = v;
	return millis_add(ticks, MTIME_PER_MS);
}

void sd_chip_reboot(void)
{
	reboot_flag_set();
	__asm__ volatile("csrci mstatus, 8" ::: "memory"); /* MIE off */
	_start();
	for (;;)
		;
}

uint32_t sd_chip_entropy(uint8_t *out, uint32_t len)
{
	/* No source wired up yet. */
	(void)out;
	(void)len;
	return 0;
}

static uintptr_t sp_now(void)
{
	uintptr_t sp;

	__asm__ volatile("mv %0, sp" : "=r"(sp));
	return sp;
}

void sd_chip_exit(int code)
{
	print_exit(code);
	__asm__ volatile("csrci mstatus, 8" ::: "memory"); /* MIE off */
	for (;;)
		__asm__ volatile("wfi");
}

/* Called by start.S once .data and .bss are in place. */
void sd_chip_start(void)
{
	sd_chip_init();
#if defined(SD_CHIP_WAIT_INPUT)
	/* Programs that print at once (the test suite) wait for a first
	 * byte, so nothing is said before the runner listens. */
	while (sd_chip_getc() < 0)
		;
#endif
	sd_chip_exit(main(1, argv0));
}

/* Any trap (start.S points mtvec here): say so and stop. */
void sd_chip_trap(void)
{
	sd_chip_exit(0x7F);
}
