/*
 * test/avr/ctime.c: the constant-time check of X25519 on the emulated
 * ATmega328P and RV32 (`make test-chips` builds and runs it on both). It
 * runs sd_x25519 on the same u-coordinate with the all-zero scalar, the
 * all-0xFF scalar and pseudo-random scalars, and requires the chip's
 * count to be exactly the same for every one:
 *
 *   - on the ATmega328P the count is clock cycles (sd_chip_cycles: Timer1
 *     less the cost of its own overflow interrupts, so the count does not
 *     depend on where the timer stood when a call began); simavr runs
 *     every instruction with its datasheet cycles, so equal counts mean
 *     equal time on the chip;
 *   - on the RV32 (QEMU sifive_e) the count is instructions retired
 *     (minstret under -icount): equal counts mean the same number of
 *     instructions, not the same time; QEMU models no pipeline or cache.
 *     Equal instruction counts rule out secret-dependent branches and
 *     loop bounds, which is what this build can show.
 *
 * A second u-coordinate repeats the scalars, so the check covers the
 * input point too. Scalars are clamped by X25519 itself (RFC 7748 §5):
 * zero and all-0xFF differ in every bit the ladder reads. It prints
 *
 *   chip <name> unit <cycles|instructions>
 *   ctime x25519 <u> <scalar> <count>
 *   ok x25519 constant | FAIL x25519 constant
 *   #exit <number of differing counts>
 *
 * and waits for one byte on the UART before it starts (see bench.c).
 */
#include <stdint.h>
#include <string.h>

#include "port/chip.h"
#include "out.h"
#include "crypto/x25519.h"

#define RANDOM_SCALARS 3
#define SCALARS (2 + RANDOM_SCALARS)
#define POINTS 2

static uint8_t k[SD_X25519_LEN], u[SD_X25519_LEN], out[SD_X25519_LEN];
static uint32_t rng = 0x2545F491u;

/* xorshift32 (Marsaglia 2003): the same scalars every run. */
static void random_bytes(uint8_t *p, uint8_t n)
{
	while (n-- > 0) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		*p++ = (uint8_t)rng;
	}
}

/* Scalar s: 0 all zeros, 1 all 0xFF, then pseudo-random. */
static const char *scalar(uint8_t s)
{
	if (s == 0) {
		memset(k, 0, sizeof k);
		return "zero";
	}
	if (s == 1) {
		memset(k, 0xFF, sizeof k);
		return "ones";
	}
	random_bytes(k, sizeof k);
	return "random";
}

/* Point p: 0 the base point u = 9, 1 a pseudo-random u. */
static const char *point(uint8_t p)
{
	memset(u, 0, sizeof u);
	if (p == 0) {
		u[0] = 9;
		return "base";
	}
	random_bytes(u, sizeof u);
	return "random";
}

int main(void)
{
	uint32_t first = 0, n, t0;
	uint8_t p, s, differ = 0;
	const char *pname, *sname;

	sd_chip_init();
	while (sd_chip_getc() < 0)
		;
	put_str("chip " SD_CHIP_NAME " unit " SD_CHIP_UNIT "\r\n");
	for (p = 0; p < POINTS; p++) {
		pname = point(p);
		for (s = 0; s < SCALARS; s++) {
			sname = scalar(s);
			t0 = sd_chip_cycles();
			(void)sd_x25519(out, k, u);
			n = sd_chip_cycles() - t0;
			if (p == 0 && s == 0)
				first = n;
			differ = (uint8_t)(differ + (n != first));
			put_str("ctime x25519 ");
			put_str(pname);
			sd_chip_putc(' ');
			put_str(sname);
			sd_chip_putc(' ');
			put_u32(n);
			put_str("\r\n");
		}
	}
	put_str(differ == 0 ? "ok" : "FAIL");
	put_str(" x25519 constant\r\n");
	sd_chip_exit(differ);
}
