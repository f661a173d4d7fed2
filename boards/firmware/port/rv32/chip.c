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

#define PAINT 0xCDu
#define PAINT_GAP 16u

extern uint8_t __stack_limit[]; /* from link.ld */

int main(int argc, char **argv);
void sd_chip_start(void);
void sd_chip_trap(void);

static uintptr_t paint_sp;
static uint8_t nv[SD_CHIP_NV_BYTES];
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

void sd_chip_mark(uint8_t id)
{
	(void)id;
}

static uintptr_t sp_now(void)
{
	uintptr_t sp;

	__asm__ volatile("mv %0, sp" : "=r"(sp));
	return sp;
}

void __attribute__((noinline)) sd_chip_stack_paint(void)
{
	volatile uint8_t *p = __stack_limit;

	paint_sp = sp_now();
	while ((uintptr_t)p < paint_sp - PAINT_GAP)
		*p++ = PAINT;
}

uint32_t __attribute__((noinline)) sd_chip_stack_peak(void)
{
	const volatile uint8_t *p = __stack_limit;

	while (*p == PAINT)
		p++;
	return (uint32_t)(paint_sp - (uintptr_t)p);
}

int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len)
{
	if (off > SD_CHIP_NV_BYTES || len > SD_CHIP_NV_BYTES - off)
		return -1;
	memcpy(buf, nv + off, len);
	return 0;
}

int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len)
{
	if (off > SD_CHIP_NV_BYTES || len > SD_CHIP_NV_BYTES - off)
		return -1;
	memcpy(nv + off, buf, len);
	return 0;
}

static void put_str(const char *s)
{
	while (*s != '\0')
		sd_chip_putc((uint8_t)*s++);
}

void sd_chip_exit(int code)
{
	char num[12];
	unsigned v = code < 0 ? (unsigned)-code : (unsigned)code;
	int i = (int)sizeof num;

	num[--i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (code < 0)
		num[--i] = '-';
	put_str("\r\n#exit ");
	put_str(num + i);
	put_str("\r\n");
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
