/* test/avr/out.c: the UART output of the chip test programs (out.h). */
#include "out.h"

#include "port/chip.h"

void put_str(const char *s)
{
	while (*s != '\0')
		sd_chip_putc((uint8_t)*s++);
}

void put_u32(uint32_t v)
{
	char d[11];
	uint8_t i = sizeof d;

	d[--i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_str(d + i);
}
