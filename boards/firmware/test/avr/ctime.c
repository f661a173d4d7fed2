/*
 * test/avr/ctime.c: the constant-time check of X25519 and ECDH on the
 * emulated ATmega328P and RV32 (`make test-chips` builds and runs it on
 * both). It runs each operation on the same input point with scalars at
 * both ends of the range and pseudo-random ones, and requires the chip's
 * count to be exactly the same for every scalar of that operation:
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
 * X25519: the all-zero scalar, the all-0xFF scalar and pseudo-random
 * scalars, on the base point and a pseudo-random u. Scalars are clamped
 * by X25519 itself (RFC 7748 §5): zero and all-0xFF differ in every bit
 * the ladder reads.
 *
 * ECDH (P-256, secp160r1): a valid scalar lies in [1, n - 1], and sd_ecdh
 * refuses 0 and all-0xFF (above n) before any work on the secret, which
 * the program checks; the timed scalars are the ends of the valid range
 * in bit pattern: 1 (every bit zero but the last) and 2^(m-1) - 1 (every
 * bit one below the order's top bit m, the all-ones scalar the curve
 * accepts), and pseudo-random ones below 2^(m-1). The peer's point is the
 * public key of a pseudo-random scalar, made on the chip first. It prints
 *
 *   chip <name> unit <cycles|instructions>
 *   ctime <op> <point> <scalar> <count>
 *   ok <op> constant | FAIL <op> constant
 *   ok <op> refuses zero and all-0xFF | FAIL ...   (ECDH only)
 *   #exit <number of failures>
 *
 * and waits for one byte on the UART before it starts (see bench.c).
 */
#include <stdint.h>
#include <string.h>

#include "port/chip.h"
#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/x25519.h"
#include "out.h"

#define RANDOM_SCALARS 3
#define SCALARS (2 + RANDOM_SCALARS)
#define POINTS 2
#define ECDH_SCALARS 3 /* 1, all ones below the top bit, one random */

static uint8_t k[SD_ECC_MAX_SCALAR_LEN], u[SD_X25519_LEN], out[SD_X25519_LEN];
static uint8_t peer[SD_ECC_MAX_POINT_LEN];
static uint32_t rng = 0x2545F491u;
static uint8_t failures;

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

/* Prints one count and the name of what was counted; 1 if it differs
 * from *first, which the first call of an operation sets (first_call). */
static uint8_t report(const char *op, const char *pname, const char *sname,
		      uint32_t n, uint32_t *first, uint8_t first_call)
{
	if (first_call)
		*first = n;
	put_str("ctime ");
	put_str(op);
	sd_chip_putc(' ');
	put_str(pname);
	sd_chip_putc(' ');
	put_str(sname);
	sd_chip_putc(' ');
	put_u32(n);
	put_str("\r\n");
	return n != *first;
}

/* Prints "ok <op> <what>" or "FAIL ..." and counts a failure. */
static void verdict(uint8_t ok, const char *op, const char *what)
{
	put_str(ok ? "ok " : "FAIL ");
	put_str(op);
	sd_chip_putc(' ');
	put_str(what);
	put_str("\r\n");
	failures = (uint8_t)(failures + !ok);
}

static void x25519_constant(void)
{
	uint32_t first = 0, t0, n;
	uint8_t p, s, differ = 0;
	const char *pname, *sname;

	for (p = 0; p < POINTS; p++) {
		pname = point(p);
		for (s = 0; s < SCALARS; s++) {
			sname = scalar(s);
			t0 = sd_chip_cycles();
			(void)sd_x25519(out, k, u);
			n = sd_chip_cycles() - t0; /* nothing else timed */
			differ |= report("x25519", pname, sname, n, &first,
					 p == 0 && s == 0);
		}
	}
	verdict(differ == 0, "x25519", "constant");
}

/* ECDH scalar s of len bytes: 0 is 1, 1 is 2^(m-1) - 1 (top & top_mask,
 * then all ones), then pseudo-random below 2^(m-1). */
static const char *ecdh_scalar(uint8_t s, uint8_t len, uint8_t top_mask)
{
	if (s == 0) {
		memset(k, 0, len);
		k[len - 1] = 1;
		return "one";
	}
	if (s == 1) {
		memset(k, 0xFF, len);
		k[0] = top_mask;
		return "ones";
	}
	random_bytes(k, len);
	k[0] &= top_mask;
	return "random";
}

/* top_mask: the bits of a scalar's first byte below the order's top bit. */
static void ecdh_constant(const sd_ecc_curve *c, const char *op,
			  uint8_t top_mask)
{
	uint8_t len = (uint8_t)sd_ecc_scalar_len(c), s, differ = 0, refused;
	size_t plen = sd_ecc_point_len(c);
	uint32_t first = 0, t0, n;
	int err = SD_OK;

	random_bytes(k, len);
	k[0] &= top_mask;
	refused = sd_ecc_public(c, peer, k) == SD_OK;
	memset(k, 0, len);
	refused &= sd_ecdh(c, out, k, peer, plen) == SD_ERR_SCALAR;
	memset(k, 0xFF, len);
	refused &= sd_ecdh(c, out, k, peer, plen) == SD_ERR_SCALAR;
	verdict(refused, op, "refuses zero and all-0xFF");
	for (s = 0; s < ECDH_SCALARS; s++) {
		const char *sname = ecdh_scalar(s, len, top_mask);

		t0 = sd_chip_cycles();
		err |= sd_ecdh(c, out, k, peer, plen);
		n = sd_chip_cycles() - t0;
		differ |= report(op, "peer", sname, n, &first, s == 0);
	}
	verdict(differ == 0 && err == SD_OK, op, "constant");
}

int main(void)
{
	sd_chip_init();
	while (sd_chip_getc() < 0)
		;
	put_str("chip " SD_CHIP_NAME " unit " SD_CHIP_UNIT "\r\n");
	x25519_constant();
	/* P-256: n has 256 bits, 2^255 - 1 is 0x7F FF..; secp160r1: n has
	 * 161 bits in 21 bytes, 2^160 - 1 is 0x00 FF.. */
	ecdh_constant(&sd_p256, "ecdh_p256", 0x7F);
	ecdh_constant(&sd_secp160r1, "ecdh_secp160r1", 0x00);
	sd_chip_exit(failures);
}
