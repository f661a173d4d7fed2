/*
 * test/avr/ecc_vectors.c: the ATmega328P's vector test of ECDH and the
 * Weierstrass fields (`make test-chips`; test/avr/vectors.c has X25519,
 * AEAD and SHA-256). On the simulated chip it checks:
 *
 *   - ECDH: RFC 5903 §8.1 on P-256 and GEC 2's example on secp160r1, and
 *     pseudo-random key pairs agreeing both ways on both curves;
 *   - in the fast build, port/avr/p256_fast.S's reduction of P-256
 *     products against long division, on words of 0, all ones and
 *     pseudo-random values (every carry the reduction can take).
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
#endif
	vcheck_end();
}
