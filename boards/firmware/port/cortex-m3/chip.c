/*
 * port/cortex-m3/chip.c: UART, instruction counter, millisecond timer,
 * stack painting, NV stand-in, reset and exit for QEMU's mps2-an385.
 *
 * UART0 is an APB UART of the Cortex-M System Design Kit at 0x40004000
 * and TIMER0 an APB timer at 0x40000000 (Application Note AN385, §3.6
 * memory map; CMSDK Technical Reference Manual ARM DDI 0479, §4.3 UART:
 * DATA, STATE, CTRL, BAUDDIV; §4.4 timer: CTRL, VALUE, RELOAD). SysTick is
 * the ARMv7-M system timer and AIRCR the reset control (ARMv7-M
 * Architecture Reference Manual, §B3.3: SYST_CSR, SYST_RVR, SYST_CVR;
 * §B3.2.6: AIRCR.SYSRESETREQ).
 */
#include "port/chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x000u)
#define UART_STATE REG(UART0 + 0x004u)
#define UART_CTRL REG(UART0 + 0x008u)
#define UART_BAUDDIV REG(UART0 + 0x010u)
#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)

#define TIMER0 0x40000000u
#define TIMER_CTRL REG(TIMER0 + 0x000u)
#define TIMER_VALUE REG(TIMER0 + 0x004u)
#define TIMER_RELOAD REG(TIMER0 + 0x008u)
#define TIMER_EN (1u << 0)
#define TICKS_PER_MS (SD_CHIP_HZ / 1000u) /* TIMER0 runs on PCLK = SYSCLK */

#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define CSR_ENABLE (1u << 0)
#define CSR_CLKSOURCE (1u << 2) /* the processor clock */
#define SYST_MAX 0x00FFFFFFu    /* the 24-bit counter's reload */

#include "port/common/ramchip.inc"
#include "port/common/cortexm.inc"

/* SysTick, as a 32-bit count of its ticks (sd_chip_count). */
static uint32_t systick_last, systick_ticks;
/* TIMER0, as milliseconds (sd_chip_millis, millis_add). */
static uint32_t timer_last;

void sd_systick_handler(void)
{
	/* SysTick runs without its interrupt; nothing to do. */
}

void sd_chip_init(void)
{
	reset_cause_latch();

	UART_BAUDDIV = (uint32_t)(SD_CHIP_HZ / SD_CHIP_BAUD); /* at least 16 */
	UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;

	SYST_RVR = SYST_MAX;
	SYST_CVR = 0;
	SYST_CSR = CSR_ENABLE | CSR_CLKSOURCE;
	systick_last = SYST_CVR;
	systick_ticks = 0;

	TIMER_CTRL = 0;
	TIMER_RELOAD = 0xFFFFFFFFu;
	TIMER_VALUE = 0xFFFFFFFFu;
	TIMER_CTRL = TIMER_EN;
	timer_last = TIMER_VALUE;
	millis_reset();
}

void sd_chip_putc(uint8_t c)
{
	while (UART_STATE & STATE_TX_FULL)
		;
	UART_DATA = c;
}

int sd_chip_getc(void)
{
	if (!(UART_STATE & STATE_RX_FULL))
		return -1;
	return (int)(UART_DATA & 0xFFu);
}

uint32_t sd_chip_count(void)
{
	uint32_t v;

	/* Stop SysTick, read it, start it again. QEMU keeps the count while
	 * stopped and, when started, begins a whole tick anew: the part of
	 * a tick that had passed is dropped. So every tick boundary after a
	 * read lies a fixed number of instructions after it, and the count
	 * between two reads depends only on the instructions run between
	 * them, not on where in a tick the first read fell. */
	SYST_CSR = CSR_CLKSOURCE;
	v = SYST_CVR;
	SYST_CSR = CSR_ENABLE | CSR_CLKSOURCE;
	/* It counts down; reads come more often than once per 2^24 ticks. */
	systick_ticks += (systick_last - v) & SYST_MAX;
	systick_last = v;
	return systick_ticks * SD_CHIP_INSNS_PER_TICK;
}

uint32_t sd_chip_millis(void)
{
	uint32_t v = TIMER_VALUE;
	uint32_t ticks = timer_last - v;

	/* TIMER0 counts down from 2^32 - 1, wrapping every 171 s; callers
	 * read far more often than that. */
	timer_last = v;
	return millis_add(ticks, TICKS_PER_MS);
}

uint32_t sd_chip_entropy(uint8_t *out, uint32_t len)
{
	/* No source wired up yet. */
	(void)out;
	(void)len;
	return 0;
}
