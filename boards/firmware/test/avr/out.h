/* test/avr/out.h: the UART output of the chip test programs (bench.c,
 * vectors.c, ctime.c), built for each chip against port/chip.h. */
#ifndef SD_TEST_AVR_OUT_H
#define SD_TEST_AVR_OUT_H

#include <stdint.h>

/* Writes the NUL-terminated s. */
void put_str(const char *s);
/* Writes v in decimal. */
void put_u32(uint32_t v);

#endif
