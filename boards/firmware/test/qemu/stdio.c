/*
 * test/qemu/stdio.c: runs the host test suite (test/check.c and
 * test/test_*.c, unchanged) on an emulated Cortex-M3 or RV32. It gives
 * picolibc's stdio its standard streams on the chip's UART and its _exit
 * to the port, whose start-up (built with -DSD_CHIP_WAIT_INPUT) waits for
 * the runner's first byte and then calls the suite's main. The suite's
 * last lines, "N checks, M failed" and "#exit <status>", tell the runner
 * the verdict.
 */
#include <stdio.h>
#include <stdint.h>

#include "port/chip.h"

void _exit(int code);

static int chip_put(char c, FILE *f)
{
	(void)f;
	if (c == '\n')
		sd_chip_putc('\r');
	sd_chip_putc((uint8_t)c);
	return (unsigned char)c;
}

static int chip_get(FILE *f)
{
	int c;

	(void)f;
	while ((c = sd_chip_getc()) < 0)
		;
	return c;
}

static FILE chip_stdio = FDEV_SETUP_STREAM(chip_put, chip_get, NULL, _FDEV_SETUP_RW);

FILE *const stdin = &chip_stdio;
FILE *const stdout = &chip_stdio;
FILE *const stderr = &chip_stdio;

void _exit(int code)
{
	sd_chip_exit(code);
}
