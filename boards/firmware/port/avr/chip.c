/*
 * port/avr/chip.c: the ATmega328P port. Register names and bits are those
 * of the ATmega328P datasheet (Atmel DS40002061): USART0 §19-20, Timer1
 * §15, EEPROM §7.4, general-purpose I/O registers §7.4.9-7.4.11.
 */
#include "chip.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
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

static volatile uint8_t rx_buf[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint16_t overflows; /* Timer1 wraps: bits 16-31 of the count */
static uint16_t paint_sp;

extern uint8_t __heap_start; /* the end of .bss, from the linker script */

ISR(USART_RX_vect)
{
	uint8_t c = UDR0;
	uint8_t next = (uint8_t)((rx_head + 1) & (RX_RING - 1));

	if (next != rx_tail) { /* a full ring drops the byte */
		rx_buf[rx_head] = c;
		rx_head = next;
	}
}

ISR(TIMER1_OVF_vect)
{
	overflows++;
}

void sd_chip_init(void)
{
	UBRR0H = (uint8_t)(UBRR_VALUE >> 8);
	UBRR0L = (uint8_t)UBRR_VALUE;
	UCSR0A = _BV(U2X0);
	UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
	UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);

	/* Timer1 in normal mode at clk/1 (§15.11.2, CS10), overflow
	 * interrupt on. */
	TCCR1A = 0;
	TCCR1B = _BV(CS10);
	TCNT1 = 0;
	TIMSK1 = _BV(TOIE1);
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

uint32_t sd_chip_count(void)
{
	uint8_t sreg = SREG;
	uint16_t hi, lo;

	cli();
	lo = TCNT1;
	hi = overflows;
	/* A wrap not yet served: TOV1 is set and lo read after it. */
	if ((TIFR1 & _BV(TOV1)) && lo < 0x8000u)
		hi++;
	SREG = sreg;
	return (uint32_t)hi << 16 | lo;
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
