/*
 * port/avr/chip.c: the ATmega328P port. Register names and bits are those
 * of the ATmega328P datasheet (Atmel DS40002061): USART0 §19-20, Timer1
 * §15, EEPROM §7.4, general-purpose I/O registers §7.4.9-7.4.11, the
 * watchdog timer §10.9.
 */
#include "port/chip.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <util/delay_basic.h>

/* §20.11: in double-speed mode (U2X0 = 1) UBRR = f / (8 * baud) - 1,
 * rounded: 16 at 16 MHz gives 117,647 baud, 2.1% off 115,200, inside the
 * receivers' tolerance (Table 20-4 lists 2.1% for this pair). */
#define UBRR_VALUE ((SD_CHIP_HZ + 4 * SD_CHIP_BAUD) / (8 * SD_CHIP_BAUD) - 1)
#define RX_RING 64 /* bytes; a power of two */
/* Two UART frames of 10 bits, in _delay_loop_2 turns of 4 cycles. */
#define FRAME_LOOPS ((uint16_t)(2 * 10 * SD_CHIP_HZ / SD_CHIP_BAUD / 4))
#define PAINT 0xCD
#define PAINT_GAP 8 /* bytes left unpainted below the painter's frame */
/* The Timer1 interrupt's cost is measured over a busy loop of this many
 * _delay_loop_2 turns (4 cycles each), well inside one timer period. */
#define CAL_LOOPS 200u

/* sd_chip_millis: cycles / 16000, with 2^16 = 4 * 16000 + 1536 and
 * 125 * 1536 = 12 * 16000, so no product leaves 32 bits. */
#if SD_CHIP_HZ != 16000000UL
#error "sd_chip_millis is written for 16 MHz"
#endif
#define CYCLES_PER_MS 16000u
#define MS_PER_WRAP 4u       /* whole ms in 2^16 cycles */
#define WRAP_REST 1536u      /* and the cycles left over */
#define REST_PERIOD 125u     /* wraps after which the rests make whole ms */
#define MS_PER_PERIOD 12u

/* sd_chip_entropy: the watchdog's own 128 kHz RC oscillator (§10.9.2)
 * against Timer1 on the crystal. One sample per watchdog period, the
 * shortest: 2K oscillator cycles, 16 ms nominal (Table 10-3); a sample
 * that has not come after WDT_WAIT_WRAPS Timer1 overflows (4.1 ms each)
 * ends the collection. */
#define WDT_WAIT_WRAPS 16u
#define WDT_SAMPLES 16u /* 0.26 s of boot: RNG_ENTROPY_LEN (port/common/rng.h) */

static volatile uint8_t rx_buf[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint32_t overflows; /* Timer1 wraps served: bits 16-47 of the count */
static uint8_t isr_cycles;          /* what one TIMER1_OVF interrupt costs */
static volatile uint8_t wdt_fired; /* set by the watchdog interrupt */
/* sd_chip_entropy's samples, taken at boot before the UART is on: the
 * host's bytes, whose interrupts would move the sampling by the host's
 * timing rather than the chip's, cannot arrive yet. */
static uint8_t pool[WDT_SAMPLES], pool_len;

static void wdt_sample_pool(void);
static uint16_t paint_sp;

/* MCUSR as the reset left it (§11.9.1), saved before anything clears it.
 * .noinit: the C start-up leaves it alone. */
static uint8_t reset_flags __attribute__((section(".noinit")));

extern uint8_t __heap_start; /* the end of .bss and .noinit, from the linker script */

/* Runs in .init3, before .data and .bss are set up and before main: a
 * watchdog reset leaves the watchdog on at its shortest period (§11.9.2),
 * so it is stopped here, and MCUSR is kept for sd_chip_reset_cause. */
void sd_chip_early(void) __attribute__((naked, used, section(".init3")));
void sd_chip_early(void)
{
	reset_flags = MCUSR;
	MCUSR = 0;
	wdt_disable();
}

ISR(USART_RX_vect)
{
	uint8_t c = UDR0;
	uint8_t next = (uint8_t)((rx_head + 1) & (RX_RING - 1));

	if (next != rx_tail) { /* a full ring drops the byte */
		rx_buf[rx_head] = c;
		rx_head = next;
	}
}

/* No branch: every interrupt takes the same number of cycles, which
 * sd_chip_cycles takes back out. */
ISR(TIMER1_OVF_vect)
{
	overflows++;
}

/* The watchdog's timeout in interrupt mode (WDIE, WDE clear). */
ISR(WDT_vect)
{
	wdt_fired = 1;
}

/* Cycles of CAL_LOOPS turns of a busy loop with interrupts on, the timer
 * started at start (a loop that crosses 0xFFFF pays for one overflow
 * interrupt). */
static uint16_t timed_loop(uint16_t start)
{
	uint16_t end;

	cli();
	TCNT1 = start;
	TIFR1 = _BV(TOV1);
	sei();
	_delay_loop_2(CAL_LOOPS);
	cli();
	end = TCNT1;
	sei();
	return (uint16_t)(end - start);
}

void sd_chip_init(void)
{
	uint16_t plain, crossed;

	/* Timer1 in normal mode at clk/1 (§15.11.2, CS10), overflow
	 * interrupt on. Before the UART: no other interrupt may run while
	 * the overflow interrupt is measured. */
	TCCR1A = 0;
	TCCR1B = _BV(CS10);
	TIMSK1 = _BV(TOIE1);
	plain = timed_loop(0);
	crossed = timed_loop((uint16_t)(0u - 2u * CAL_LOOPS));
	isr_cycles = (uint8_t)(crossed - plain);
	wdt_sample_pool();
	cli();
	TCNT1 = 0;
	TIFR1 = _BV(TOV1);
	overflows = 0;

	UBRR0H = (uint8_t)(UBRR_VALUE >> 8);
	UBRR0L = (uint8_t)UBRR_VALUE;
	UCSR0A = _BV(U2X0);
	UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
	UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
	sei();
}

void sd_chip_putc(uint8_t c)
{
	while (!(UCSR0A & _BV(UDRE0)))
		;
	UDR0 = c;
}

int sd_chip_getc(void)
{
	uint8_t c;

	if (rx_tail == rx_head)
		return -1;
	c = rx_buf[rx_tail];
	rx_tail = (uint8_t)((rx_tail + 1) & (RX_RING - 1));
	return c;
}

/* The timer's wraps (served or pending) and its low 16 bits, read as one. */
static uint16_t read_timer(uint32_t *wraps, uint32_t *served)
{
	uint8_t sreg = SREG;
	uint16_t lo;

	cli();
	lo = TCNT1;
	*served = overflows;
	*wraps = *served;
	/* A wrap not yet served: TOV1 is set and lo read after it. */
	if ((TIFR1 & _BV(TOV1)) && lo < 0x8000u)
		(*wraps)++;
	SREG = sreg;
	return lo;
}

uint32_t sd_chip_count(void)
{
	uint32_t wraps, served;
	uint16_t lo = read_timer(&wraps, &served);

	return wraps << 16 | lo;
}

uint32_t sd_chip_cycles(void)
{
	uint32_t wraps, served;
	uint16_t lo = read_timer(&wraps, &served);

	/* Less the overflow interrupts already served: only their cost
	 * depends on where the timer stood when a measurement began. */
	return (wraps << 16 | lo) - served * isr_cycles;
}

uint32_t sd_chip_millis(void)
{
	uint32_t wraps, served;
	uint16_t lo = read_timer(&wraps, &served);

	return wraps * MS_PER_WRAP + wraps / REST_PERIOD * MS_PER_PERIOD +
	       ((wraps % REST_PERIOD) * WRAP_REST + lo) / CYCLES_PER_MS;
}

void sd_chip_idle(void)
{
	/* §10.1: with SEI right before SLEEP, no interrupt can come in
	 * between, so a byte arriving after the check still wakes the core. */
	set_sleep_mode(SLEEP_MODE_IDLE);
	cli();
	if (rx_head == rx_tail) {
		sleep_enable();
		sei();
		sleep_cpu();
		sleep_disable();
	}
	sei();
}

uint8_t sd_chip_reset_cause(void)
{
	if (reset_flags & _BV(WDRF))
		return SD_CHIP_RESET_WATCHDOG;
	if (reset_flags & _BV(BORF))
		return SD_CHIP_RESET_BROWN_OUT;
	if (reset_flags & _BV(EXTRF))
		return SD_CHIP_RESET_EXTERNAL;
	if (reset_flags & _BV(PORF))
		return SD_CHIP_RESET_POWER_ON;
	return SD_CHIP_RESET_UNKNOWN;
}

void sd_chip_reboot(void)
{
	/* The watchdog at its shortest period (§11.9.2), then wait for it. */
	cli();
	wdt_enable(WDTO_15MS);
	for (;;)
		;
}

void sd_chip_mark(uint8_t id)
{
	GPIOR0 = id;
}

void __attribute__((noinline)) sd_chip_stack_paint(void)
{
	uint8_t *p = &__heap_start;
	uint8_t *top = (uint8_t *)SP - PAINT_GAP;

	paint_sp = SP;
	while (p < top)
		*p++ = PAINT;
}

uint32_t __attribute__((noinline)) sd_chip_stack_peak(void)
{
	const uint8_t *p = &__heap_start;

	while (*p == PAINT)
		p++;
	return (uint32_t)(paint_sp - (uint16_t)p);
}

uint32_t sd_chip_stack_free(void)
{
	const uint8_t *p = &__heap_start;

	while (*p == PAINT)
		p++;
	return (uint32_t)(p - &__heap_start);
}

uint32_t sd_chip_stack_size(void)
{
	return (uint32_t)(RAMEND + 1u - (uint16_t)&__heap_start);
}

static int nv_range(uint32_t off, uint32_t len)
{
	return off <= SD_CHIP_NV_BYTES && len <= SD_CHIP_NV_BYTES - off;
}

int sd_chip_nv_read(uint32_t off, uint8_t *buf, uint32_t len)
{
	if (!nv_range(off, len))
		return -1;
	eeprom_read_block(buf, (const void *)(uint16_t)off, (size_t)len);
	return 0;
}

int sd_chip_nv_write(uint32_t off, const uint8_t *buf, uint32_t len)
{
	if (!nv_range(off, len))
		return -1;
	eeprom_update_block(buf, (void *)(uint16_t)off, (size_t)len);
	return 0;
}

/* Waits for the next watchdog timeout and takes Timer1's low byte as
 * the sample: the two clocks drift against each other with the RC
 * oscillator's jitter, so on a real chip its low bits differ from one
 * period to the next. 0 when no timeout came in time. */
static uint8_t wdt_wait(uint8_t *sample)
{
	uint8_t start = (uint8_t)overflows;

	while (!wdt_fired)
		if ((uint8_t)((uint8_t)overflows - start) > WDT_WAIT_WRAPS)
			return 0;
	*sample = TCNT1L;
	wdt_fired = 0;
	return 1;
}

/* Fills the pool, one sample per watchdog timeout; called by sd_chip_init
 * with interrupts on and the UART still off. */
static void wdt_sample_pool(void)
{
	/* §10.9.2: the timed sequence (WDCE and WDE, then the new value
	 * within four cycles) with the watchdog in interrupt mode only. */
	cli();
	wdt_reset();
	wdt_fired = 0;
	WDTCSR = _BV(WDCE) | _BV(WDE);
	WDTCSR = _BV(WDIE);
	sei();
	for (pool_len = 0; pool_len < sizeof pool && wdt_wait(pool + pool_len); pool_len++)
		;
	wdt_disable();
}

uint32_t sd_chip_entropy(uint8_t *out, uint32_t len)
{
	uint8_t n = 0;

	/* Once: the pool is wiped as it is handed out. */
	while (n < len && n < pool_len) {
		out[n] = pool[n];
		pool[n++] = 0;
	}
	pool_len = 0;
	return n;
}

static void put_str(const char *s)
{
	while (*s != '\0')
		sd_chip_putc((uint8_t)*s++);
}

void sd_chip_exit(int code)
{
	char num[4];
	uint8_t v = (uint8_t)code, i = sizeof num;

	num[--i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_str("\r\n#exit ");
	put_str(num + i);
	put_str("\r\n");
	/* Let the last byte leave: once UDRE0 is set one frame may still be
	 * in the shift register; wait two frame times (10 bits each). simavr
	 * does not set TXC0, so that flag cannot be used. */
	while (!(UCSR0A & _BV(UDRE0)))
		;
	_delay_loop_2(FRAME_LOOPS);
	GPIOR1 = (uint8_t)code;
	GPIOR0 = SD_CHIP_MARK_EXIT;
	cli();
	sleep_cpu();
	for (;;)
		;
}
