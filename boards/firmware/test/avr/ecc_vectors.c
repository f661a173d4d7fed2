/*
 * test/avr/ecc_vectors.c: the ATmega328P's vector test of ECDH and the
 * Weierstrass fields (`make test-chips`; test/avr/vectors.c has X25519,
 * AEAD and SHA-256). On the simulated chip it checks:
 *
 *   - ECDH: RFC 5903 §8.1 on P-256 and GEC 2's example on secp160r1, and
 *     pseudo-random key pairs agreeing both ways on both curves;
 *   - in the fast build, port/avr/p256_fast.S's reduction of P-256
 *     products against long division, on words of 0, all ones and
 *     pseudo-random values (every carry the reduction can take);
 *   - in the fast build, port/avr/p160_fast.S's multiplication and
 *     squaring mod secp160r1's p against a byte-wise product and long
 *     division: every pair of edge values (0, 1, p - 1, p, p + 1,
 *     2^160 - 1, 2^159, 2^31 + 1), pseudo-random values whose bytes are
 *     0, 0xFF or random, and in place (r = a), as ecc.c calls them.
 *
 * The output is vcheck.h's.
 */
#include <stdint.h>
#include <string.h>

#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/port.h"
#include "vcheck.h"

#if !defined(SD_CRYPTO_SMALL)
void sd_p256_reduce_avr(uint8_t t[64]);
void sd_p160_mul_avr(uint8_t r[20], const uint8_t a[20], const uint8_t b[20],
		     uint8_t t[60]);
void sd_p160_sqr_avr(uint8_t r[20], const uint8_t a[20], uint8_t t[60]);
#endif

/* RFC 5903 §8.1 */
static const char p256_i[] SD_ROM =
	"c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433";
static const char p256_gr[] SD_ROM =
	"04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	"56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab";
static const char p256_z[] SD_ROM =
	"d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";
/* GEC 2 §2.1.3 (ECDH over secp160r1): dU, QV, z */
static const char s160_du[] SD_ROM =
	"00aa374ffc3ce144e6b073307972cb6d57b2a4e982";
static const char s160_qv[] SD_ROM =
	"0449b41e0e9c0369c2328739d90f63d56707c6e5bc26e008b567015ed96d232a03"
	"111c3edc0e9c8f83";
static const char s160_z[] SD_ROM = "ca7c0f8c3ffa87a96e1b74ac8e6af594347bb40a";

#define P256_REDUCE_CASES 150
#define P160_RANDOM_CASES 120
#define P160_EDGES 8
#define RANDOM_ECDH_CASES 2

static uint8_t x[SD_ECC_MAX_SCALAR_LEN], y[SD_ECC_MAX_SCALAR_LEN];
static uint8_t z[SD_ECC_MAX_FIELD_LEN], w[SD_ECC_MAX_FIELD_LEN];
static uint8_t pt[SD_ECC_MAX_POINT_LEN], pt2[SD_ECC_MAX_POINT_LEN];

static void ecdh_published(void)
{
	unhex(x, p256_i, 32);
	unhex(pt, p256_gr, 65);
	check(sd_ecdh(&sd_p256, z, x, pt, 65) == SD_OK && equal_hex(z, p256_z, 32));
	group("RFC 5903 8.1 ECDH P-256");

	unhex(x, s160_du, 21);
	unhex(pt, s160_qv, 41);
	check(sd_ecdh(&sd_secp160r1, z, x, pt, 41) == SD_OK &&
	      equal_hex(z, s160_z, 20));
	group("GEC 2 ECDH secp160r1");
}

/* Two pseudo-random private keys below 2^(8 (len - 1)) (so below n): the
 * public keys and the shared x agree both ways. */
static void ecdh_agree(const sd_ecc_curve *c, const char *name)
{
	uint8_t len = (uint8_t)sd_ecc_scalar_len(c), i;
	uint8_t plen = (uint8_t)sd_ecc_point_len(c);
	uint8_t flen = (uint8_t)sd_ecc_field_len(c);

	for (i = 0; i < RANDOM_ECDH_CASES; i++) {
		x[0] = y[0] = 0;
		random_bytes(x + 1, (uint8_t)(len - 1));
		random_bytes(y + 1, (uint8_t)(len - 1));
		check(sd_ecc_public(c, pt, x) == SD_OK);
		check(sd_ecc_public(c, pt2, y) == SD_OK);
		check(sd_ecdh(c, z, x, pt2, plen) == SD_OK);
		check(sd_ecdh(c, w, y, pt, plen) == SD_OK);
		check(memcmp(z, w, flen) == 0);
	}
	group(name);
}

#if !defined(SD_CRYPTO_SMALL)
/* P-256's p, little-endian: words (from the top) FFFFFFFF 00000001
 * 00000000 00000000 00000000 FFFFFFFF FFFFFFFF FFFFFFFF. */
static void p256_p(uint8_t p[33])
{
	memset(p, 0, 33);
	memset(p, 0xFF, 12);
	p[24] = 1;
	memset(p + 28, 0xFF, 4);
}

/* r (33 bytes) -= p if r >= p. */
static void sub_p_if_above(uint8_t r[33], const uint8_t p[33])
{
	uint8_t d[33], i;
	int16_t s = 0;

	for (i = 0; i < 33; i++) {
		s = (int16_t)(r[i] - p[i] + s);
		d[i] = (uint8_t)s;
		s = s < 0 ? -1 : 0;
	}
	if (s == 0)
		memcpy(r, d, 33);
}

/* r = t mod p by long division, one bit of t (n bytes) at a time; p
 * below 2^256 in 33 bytes. */
static void mod_p(uint8_t r[33], const uint8_t *t, uint8_t n,
		  const uint8_t p[33])
{
	uint8_t i, carry;
	int16_t bit;

	memset(r, 0, 33);
	for (bit = (int16_t)(8 * n - 1); bit >= 0; bit--) {
		carry = (uint8_t)((t[bit >> 3] >> (bit & 7)) & 1);
		for (i = 0; i < 33; i++) {
			uint8_t top = (uint8_t)(r[i] >> 7);

			r[i] = (uint8_t)(r[i] << 1 | carry);
			carry = top;
		}
		sub_p_if_above(r, p);
	}
}

/* secp160r1's p = 2^160 - 2^31 - 1, little-endian in 33 bytes. */
static void p160_p(uint8_t p[33])
{
	memset(p, 0, 33);
	memset(p, 0xFF, 20);
	p[3] = 0x7F;
}

/* v = edge value i (below P160_EDGES), little-endian: 0, 1, p - 1, p,
 * p + 1, 2^160 - 1, 2^159, 2^31 + 1. */
static void p160_edge(uint8_t v[20], uint8_t i)
{
	memset(v, 0, 20);
	if (i >= 2 && i <= 5)
		memset(v, 0xFF, 20);
	if (i >= 2 && i <= 4)
		v[3] = 0x7F;
	if (i == 2)
		v[0] = 0xFE;
	if (i == 4) { /* p + 1 = 2^160 - 2^31 */
		memset(v, 0, 3);
		v[3] = 0x80;
	}
	if (i == 1 || i == 7)
		v[0] = 1;
	if (i == 6)
		v[19] = 0x80;
	if (i == 7)
		v[3] = 0x80;
}

/* Pseudo-random bytes, each 0, 0xFF or random. */
static void p160_random(uint8_t v[20])
{
	uint8_t i, kind[1];

	random_bytes(v, 20);
	for (i = 0; i < 20; i++) {
		random_bytes(kind, 1);
		if (kind[0] % 4 == 0)
			v[i] = 0;
		else if (kind[0] % 4 == 1)
			v[i] = 0xFF;
	}
}

/* t[0..40) = a b, byte by byte. */
static void product_bytes(uint8_t t[40], const uint8_t *a, const uint8_t *b)
{
	uint8_t i, j;

	memset(t, 0, 40);
	for (i = 0; i < 20; i++) {
		uint16_t carry = 0;

		for (j = 0; j < 20; j++) {
			uint16_t v = (uint16_t)(a[i] * b[j] + t[i + j] + carry);

			t[i + j] = (uint8_t)v;
			carry = v >> 8;
		}
		t[i + 20] = (uint8_t)carry;
	}
}

/* The assembly's a b and a^2, also in place, against long division. */
static void p160_case(const uint8_t *a, const uint8_t *b, const uint8_t p[33])
{
	uint8_t t[60], prod[40], want[33], r[20];

	product_bytes(prod, a, b);
	mod_p(want, prod, 40, p);
	sd_p160_mul_avr(r, a, b, t);
	check(memcmp(r, want, 20) == 0);
	memcpy(r, a, 20);
	sd_p160_mul_avr(r, r, b, t);
	check(memcmp(r, want, 20) == 0);
	product_bytes(prod, a, a);
	mod_p(want, prod, 40, p);
	memcpy(r, a, 20);
	sd_p160_sqr_avr(r, r, t);
	check(memcmp(r, want, 20) == 0);
}

static void p160_field(void)
{
	uint8_t a[20], b[20], p[33], i, j;

	p160_p(p);
	for (i = 0; i < P160_EDGES; i++) {
		for (j = 0; j < P160_EDGES; j++) {
			p160_edge(a, i);
			p160_edge(b, j);
			p160_case(a, b, p);
		}
	}
	for (i = 0; i < P160_RANDOM_CASES; i++) {
		p160_random(a);
		p160_random(b);
		p160_case(a, b, p);
	}
	group("secp160r1 multiplication and squaring (assembly) against long division");
}

/* Each word of a test product is 0 (half of them, so that sums near zero
 * and below it come up), all ones or pseudo-random. */
static void p256_case(uint8_t t[64])
{
	uint8_t i, kind[1];

	for (i = 0; i < 16; i++) {
		random_bytes(kind, 1);
		random_bytes(t + 4 * i, 4);
		if (kind[0] % 4 < 2)
			memset(t + 4 * i, 0, 4);
		else if (kind[0] % 4 == 2)
			memset(t + 4 * i, 0xFF, 4);
	}
}

static void p256_reduction(void)
{
	uint8_t t[64], want[33], got[33], p[33];
	uint16_t n;

	p256_p(p);
	for (n = 0; n < P256_REDUCE_CASES; n++) {
		p256_case(t);
		if (n == 0)
			memset(t, 0xFF, 64);
		if (n == 1) { /* c10 alone: a sum just below -2^256 */
			memset(t, 0, 64);
			memset(t + 40, 0xFF, 4);
		}
		mod_p(want, t, 64, p);
		sd_p256_reduce_avr(t);
		memcpy(got, t, 32);
		got[32] = 0;
		sub_p_if_above(got, p);
		check(memcmp(got, want, 33) == 0);
	}
	group("P-256 reduction (assembly) against long division");
}
#endif

int main(void)
{
	vcheck_begin("ecc vectors");
	ecdh_published();
	ecdh_agree(&sd_p256, "P-256 key pairs agree both ways");
	ecdh_agree(&sd_secp160r1, "secp160r1 key pairs agree both ways");
#if !defined(SD_CRYPTO_SMALL)
	p256_reduction();
	p160_field();
#endif
	vcheck_end();
}
