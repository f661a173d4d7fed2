/*
 * port/nrf51/chip.c: UART, instruction counter, millisecond timer,
 * hardware random numbers, stack painting, NV stand-in, reset and exit for
 * the nRF51822 on QEMU's microbit machine.
 *
 * Registers from the nRF51 Series Reference Manual v3.0.1, the chapters
 * CLOCK (TASKS_HFCLKSTART, EVENTS_HFCLKSTARTED), TIMER (tasks START,
 * CLEAR, CAPTURE[0]; MODE, BITMODE, PRESCALER, CC[0]), RNG (tasks START,
 * STOP; EVENTS_VALRDY; CONFIG.DERCEN, VALUE) and UART (tasks STARTRX,
 * STARTTX; EVENTS_RXDRDY, EVENTS_TXDRDY; ENABLE, PSELTXD, PSELRXD, RXD,
 * TXD, BAUDRATE); base addresses from the instantiation table of the
 * nRF51822 Product Specification v3.1. Reset, stack pointer and halt come
 * from port/common/cortexm.inc. The micro:bit routes the USB serial line
 * to P0.24 (TXD) and P0.25 (RXD); QEMU ignores the pin selection and
 * joins the UART to -serial.
 */
#include "port/chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define TASK 1u   /* writing 1 to a task register triggers it */

#define CLOCK 0x40000000u
#define CLOCK_HFCLKSTART REG(CLOCK + 0x000u)
#define CLOCK_HFCLKSTARTED REG(CLOCK + 0x100u)
#define HFCLK_WAIT 100000u /* polls of HFCLKSTARTED: far more than its 800 us */

#define UART0 0x40002000u
#define UART_STARTRX REG(UART0 + 0x000u)
#define UART_STARTTX REG(UART0 + 0x008u)
#define UART_RXDRDY REG(UART0 + 0x108u)
#define UART_TXDRDY REG(UART0 + 0x11Cu)
#define UART_ENABLE REG(UART0 + 0x500u)
#define UART_PSELTXD REG(UART0 + 0x50Cu)
#define UART_PSELRXD REG(UART0 + 0x514u)
#define UART_RXD REG(UART0 + 0x518u)
#define UART_TXD REG(UART0 + 0x51Cu)
#define UART_BAUDRATE REG(UART0 + 0x524u)
#define UART_ENABLED 4u
#define BAUD_115200 0x01D7E000u
/* Polls of TXDRDY per byte: a byte takes 87 us (1,392 cycles) on
 * silicon; a host that reads nothing for far longer loses it, as on a
 * UART without flow control. */
#define TX_WAIT 1000000u
#define PIN_TXD 24u /* micro:bit: the interface chip's serial line */
#define PIN_RXD 25u

#define TIMER(n) (0x40008000u + 0x1000u * (n))
#define TIMER_START(t) REG((t) + 0x000u)
#define TIMER_CLEAR(t) REG((t) + 0x00Cu)
#define TIMER_CAPTURE0(t) REG((t) + 0x040u)
#define TIMER_MODE(t) REG((t) + 0x504u)
#define TIMER_BITMODE(t) REG((t) + 0x508u)
#define TIMER_PRESCALER(t) REG((t) + 0x510u)
#define TIMER_CC0(t) REG((t) + 0x540u)
#define MODE_TIMER 0u
#define BITMODE_16 0u
#define BITMODE_32 3u
#define COUNT_TIMER TIMER(0)  /* sd_chip_count: 32 bits at 16 MHz */
#define MS_TIMER TIMER(1)     /* sd_chip_millis: 16 bits at 31,250 Hz */
#define MS_PRESCALER 9u       /* 16 MHz / 2^9 */
#define MS_MASK 0xFFFFu
/* 31.25 ticks per millisecond: millis_add counts quarter ticks. */
#define MS_QUARTERS 125u

#define RNG 0x4000D000u
#define RNG_START REG(RNG + 0x000u)
#define RNG_STOP REG(RNG + 0x004u)
#define RNG_VALRDY REG(RNG + 0x100u)
#define RNG_CONFIG REG(RNG + 0x504u)
#define RNG_VALUE REG(RNG + 0x508u)
#define RNG_DERCEN 1u
/* Polls of VALRDY per byte before giving up: at least 3 instructions
 * each, against 660,000 per byte under QEMU (-icount shift=0) and about
 * 10,000 cycles on silicon. */
#define RNG_WAIT 1000000u

#include "port/common/ramchip.inc"
#include "port/common/cortexm.inc"

/* TIMER0 as instructions (sd_chip_count). */
static uint32_t count_insns;
/* TIMER1's value at the last read (sd_chip_millis). */
static uint32_t ms_last;

void sd_systick_handler(void)
{
	/* The nRF51 has no SysTick; the port enables no exception. */
}

static void timer_setup(uint32_t t, uint32_t bitmode, uint32_t prescaler)
{
	TIMER_MODE(t) = MODE_TIMER;
	TIMER_BITMODE(t) = bitmode;
	TIMER_PRESCALER(t) = prescaler;
	TIMER_CLEAR(t) = TASK;
	TIMER_START(t) = TASK;
}

static uint32_t timer_read(uint32_t t)
{
	TIMER_CAPTURE0(t) = TASK;
	return TIMER_CC0(t);
}

void sd_chip_init(void)
{
	uint32_t i;

	reset_cause_latch();

	/* The crystal, for an exact baud rate and counter on silicon. */
	CLOCK_HFCLKSTARTED = 0;
	CLOCK_HFCLKSTART = TASK;
	for (i = 0; i < HFCLK_WAIT && CLOCK_HFCLKSTARTED == 0; i++)
		;

	UART_PSELTXD = PIN_TXD;
	UART_PSELRXD = PIN_RXD;
	UART_BAUDRATE = BAUD_115200;
	UART_ENABLE = UART_ENABLED;
	UART_STARTTX = TASK;
	UART_STARTRX = TASK;

	timer_setup(COUNT_TIMER, BITMODE_32, 0);
	count_insns = 0;
	timer_setup(MS_TIMER, BITMODE_16, MS_PRESCALER);
	ms_last = 0;
	millis_reset();
}

void sd_chip_putc(uint8_t c)
{
	uint32_t i;

	UART_TXDRDY = 0;
	UART_TXD = c;
	/* The model sends at once unless the host's side is full. */
	for (i = 0; i < TX_WAIT && UART_TXDRDY == 0; i++)
		;
}

int sd_chip_getc(void)
{
	if (UART_RXDRDY == 0)
		return -1;
	/* Clear the event first: reading RXD raises it again while the FIFO
	 * holds more. */
	UART_RXDRDY = 0;
	return (int)(UART_RXD & 0xFFu);
}

uint32_t sd_chip_count(void)
{
	uint32_t t;

	/* Capture, then clear: every tick boundary after a read lies a fixed
	 * number of instructions after it, so the count between two reads
	 * depends only on the instructions run between them, not on where
	 * in a tick the first read fell. Reads come more often than once per
	 * 2^32 ticks (268 s). */
	t = timer_read(COUNT_TIMER);
	TIMER_CLEAR(COUNT_TIMER) = TASK;
	/* t ticks times 62.5, rounded down: no remainder carries over, so
	 * that a count depends on nothing before the last read. */
	count_insns += (t >> 1) * SD_CHIP_INSNS_PER_2TICKS +
		       (t & 1u) * (SD_CHIP_INSNS_PER_2TICKS / 2u);
	return count_insns;
}

uint32_t sd_chip_millis(void)
{
	uint32_t v = timer_read(MS_TIMER);
	uint32_t ticks = (v - ms_last) & MS_MASK;

	ms_last = v;
	return millis_add(ticks * 4u, MS_QUARTERS);
}

uint32_t sd_chip_entropy(uint8_t *out, uint32_t len)
{
	uint32_t n, i;

	RNG_CONFIG = RNG_DERCEN;
	RNG_VALRDY = 0;
	RNG_START = TASK;
	for (n = 0; n < len; n++) {
		for (i = 0; i < RNG_WAIT && RNG_VALRDY == 0; i++)
			;
		if (RNG_VALRDY == 0)
			break;
		RNG_VALRDY = 0;
		out[n] = (uint8_t)RNG_VALUE;
	}
	RNG_STOP = TASK;
	return n;
}
