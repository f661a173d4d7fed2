/*
 * port/rv32/chip.c: UART, instruction counter, stack painting, NV stub,
 * exit and the C part of start-up for QEMU's sifive_e.
 *
 * UART0 at 0x10013000 (SiFive FE310-G002 Manual v1p5, chapter 6 memory
 * map and chapter 18 UART: txdata, rxdata, txctrl, rxctrl, div). The
 * counters are the machine-mode minstret and mcycle CSRs (RISC-V
 * Privileged Architecture v1.12, §3.1.11).
 */
#include "chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART0 0x10013000u
#define UART_TXDATA REG(UART0 + 0x00u)
#define UART_RXDATA REG(UART0 + 0x04u)
#define UART_TXCTRL REG(UART0 + 0x08u)
#define UART_RXCTRL REG(UART0 + 0x0Cu)
#define UART_DIV REG(UART0 + 0x18u)
#define TXDATA_FULL (1u << 31)
#define RXDATA_EMPTY (1u << 31)
#define CTRL_EN (1u << 0)

int main(int argc, char **argv);
void sd_chip_start(void);
void sd_chip_trap(void);

static char progname[] = "firmware";
static char *argv0[] = {progname, 0};

void sd_chip_init(void)
{
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

static uintptr_t sp_now(void)
{
	uintptr_t sp;

	__asm__ volatile("mv %0, sp" : "=r"(sp));
	return sp;
}

#include "port/common/ramchip.inc"

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
