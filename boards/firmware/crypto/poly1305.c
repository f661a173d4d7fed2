/*
 * crypto/poly1305.c: Poly1305, RFC 8439 §2.5.
 *
 * Two representations of the accumulator h and of r, chosen at compile
 * time (crypto/port.h):
 *
 * - by default five 26-bit limbs, so each limb product fits 52 bits and a
 *   row of five (with the factor 5 from the reduction 2^130 = 5 mod p)
 *   fits a 64-bit word: fast where a 32x32->64-bit multiplication is;
 * - with SD_CRYPTO_SMALL seventeen 8-bit limbs, whose products are the
 *   8x8->16-bit multiplication an 8-bit core has, summed in 32-bit words
 *   (the AVR image: a few hundred bytes of code instead of 2.5 KB, and no
 *   64-bit arithmetic).
 *
 * Either way no branch or index depends on the key or the message.
 */
#include <string.h>

#include "chachapoly.h"
#include "common.h"

#define BLOCK_LEN 16

/* §2.5.1: r = le_bytes_to_num(key[0..15]), clamped:
 * r[3], r[7], r[11], r[15] must have their top four bits clear;
 * r[4], r[8], r[12] must have their bottom two bits clear. */
static void clamp(uint8_t r[16], const uint8_t key[16])
{
	memcpy(r, key, 16);
	r[3] &= 15;
	r[7] &= 15;
	r[11] &= 15;
	r[15] &= 15;
	r[4] &= 252;
	r[8] &= 252;
	r[12] &= 252;
}

#if defined(SD_CRYPTO_SMALL)

/* Limb i of a number is its byte i: h = sum h[i] 2^(8i), 17 limbs, so bit
 * 128 (the "add one bit beyond the number of octets" of §2.5.1) is limb
 * 16. Between blocks h[0..15] < 2^8 and h[16] <= 4, so h < 5 * 2^128. */
#define LIMBS 17
/* 2^136 = 2^6 * 2^130 = 2^6 * 5 mod p: limb i + 17 folds onto limb i
 * times 320. */
#define FOLD 320u

void sd_poly1305_init(sd_poly1305_ctx *c, const uint8_t key[SD_POLY1305_KEY_LEN])
{
	clamp(c->r, key);
	c->r[16] = 0;
	memset(c->h, 0, sizeof c->h);
	memcpy(c->s, key + 16, 16); /* s = le_bytes_to_num(key[16..31]) */
	c->used = 0;
}

/* h = (h + block) * r mod 2^130 - 5, hibit = 1 for full blocks. */
static void block(sd_poly1305_ctx *c, const uint8_t m[BLOCK_LEN], uint8_t hibit)
{
	uint8_t *h = c->h;
	const uint8_t *r = c->r;
	uint32_t x[LIMBS], lo, hi, u;
	unsigned i, j;

	/* h += block, carried: every limb back below 2^8, h[16] <= 6. */
	u = 0;
	for (i = 0; i < BLOCK_LEN; i++) {
		u += (uint32_t)h[i] + m[i];
		h[i] = (uint8_t)u;
		u >>= 8;
	}
	h[16] = (uint8_t)(h[16] + u + hibit);

	/* x_i = sum over j <= i of h_j r_(i-j), plus 320 times the sum over
	 * j > i of h_j r_(i+17-j). Each product is 8x8 bits; each sum stays
	 * below 17 * 2^16, so x_i < 321 * 2^21 < 2^32. */
	for (i = 0; i < LIMBS; i++) {
		lo = 0;
		hi = 0;
		for (j = 0; j <= i; j++)
			lo += (uint16_t)((uint16_t)h[j] * r[i - j]);
		for (; j < LIMBS; j++)
			hi += (uint16_t)((uint16_t)h[j] * r[i + LIMBS - j]);
		x[i] = lo + (hi << 8) + (hi << 6); /* lo + 320 hi */
	}

	/* Carry into bytes; bits 130 and up fold back times 5 (2^130 = 5),
	 * then carry once more. */
	u = 0;
	for (i = 0; i < BLOCK_LEN; i++) {
		u += x[i];
		h[i] = (uint8_t)u;
		u >>= 8;
	}
	u += x[16];
	h[16] = (uint8_t)(u & 3);
	u = 5 * (u >> 2);
	for (i = 0; i < BLOCK_LEN; i++) {
		u += h[i];
		h[i] = (uint8_t)u;
		u >>= 8;
	}
	h[16] = (uint8_t)(h[16] + u);
	sd_wipe(x, sizeof x);
}

/* Fully reduces h (< 5 * 2^128 < 2p) and writes tag = (h + s) mod 2^128. */
static void finish(sd_poly1305_ctx *c, uint8_t tag[SD_POLY1305_TAG_LEN])
{
	uint8_t *h = c->h;
	uint8_t g[LIMBS], mask;
	unsigned i;
	uint16_t u;

	/* g = h + 5 - 2^130; keep it when it does not go negative, i.e. when
	 * h >= p. */
	u = 5;
	for (i = 0; i < BLOCK_LEN; i++) {
		u = (uint16_t)(u + h[i]);
		g[i] = (uint8_t)u;
		u >>= 8;
	}
	g[16] = (uint8_t)(h[16] + u - 4);
	mask = (uint8_t)((g[16] >> 7) - 1); /* all ones when g >= 0 */
	for (i = 0; i < LIMBS; i++)
		h[i] = (uint8_t)((h[i] & ~mask) | (g[i] & mask));
	u = 0;
	for (i = 0; i < BLOCK_LEN; i++) {
		u = (uint16_t)(u + h[i] + c->s[i]);
		tag[i] = (uint8_t)u;
		u >>= 8;
	}
	sd_wipe(g, sizeof g);
}

#else /* radix 2^26 */

#define MASK26 0x3ffffffUL

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Splits a 16-byte little-endian number into 26-bit limbs; bit 128 (the
 * "add one bit beyond the number of octets" of §2.5.1) is hibit << 24 in
 * the top limb. */
static void split26(uint32_t l[5], const uint8_t b[16], uint32_t hibit)
{
	l[0] = load_le32(b) & MASK26;
	l[1] = (load_le32(b + 3) >> 2) & MASK26;
	l[2] = (load_le32(b + 6) >> 4) & MASK26;
	l[3] = (load_le32(b + 9) >> 6) & MASK26;
	l[4] = (load_le32(b + 12) >> 8) | hibit << 24;
}

void sd_poly1305_init(sd_poly1305_ctx *c, const uint8_t key[SD_POLY1305_KEY_LEN])
{
	uint8_t r[16];

	clamp(r, key);
	split26(c->r, r, 0);
	memset(c->h, 0, sizeof c->h);
	memcpy(c->s, key + 16, 16); /* s = le_bytes_to_num(key[16..31]) */
	c->used = 0;
	sd_wipe(r, sizeof r);
}

/* a = (a + block) * r mod 2^130 - 5, hibit = 1 for full blocks. Written
 * out in full: on the AVR the loop form is 1 KB smaller but 40% slower
 * (SD_CRYPTO_SMALL takes the radix-2^8 code above instead). */
static void block(sd_poly1305_ctx *c, const uint8_t m[BLOCK_LEN], uint8_t hibit)
{
	uint32_t *h = c->h;
	const uint32_t *r = c->r;
	uint32_t mb[5];
	uint32_t s1 = r[1] * 5, s2 = r[2] * 5, s3 = r[3] * 5, s4 = r[4] * 5;
	uint64_t d0, d1, d2, d3, d4;

	split26(mb, m, hibit);
	h[0] += mb[0];
	h[1] += mb[1];
	h[2] += mb[2];
	h[3] += mb[3];
	h[4] += mb[4];

	/* Limb i times limb j lands at 26(i+j) bits; at 130 bits and above
	 * it wraps around multiplied by 5 (s_j = 5 r_j). */
	d0 = sd_mul32(h[0], r[0]) + sd_mul32(h[1], s4) + sd_mul32(h[2], s3) +
	     sd_mul32(h[3], s2) + sd_mul32(h[4], s1);
	d1 = sd_mul32(h[0], r[1]) + sd_mul32(h[1], r[0]) + sd_mul32(h[2], s4) +
	     sd_mul32(h[3], s3) + sd_mul32(h[4], s2);
	d2 = sd_mul32(h[0], r[2]) + sd_mul32(h[1], r[1]) + sd_mul32(h[2], r[0]) +
	     sd_mul32(h[3], s4) + sd_mul32(h[4], s3);
	d3 = sd_mul32(h[0], r[3]) + sd_mul32(h[1], r[2]) + sd_mul32(h[2], r[1]) +
	     sd_mul32(h[3], r[0]) + sd_mul32(h[4], s4);
	d4 = sd_mul32(h[0], r[4]) + sd_mul32(h[1], r[3]) + sd_mul32(h[2], r[2]) +
	     sd_mul32(h[3], r[1]) + sd_mul32(h[4], r[0]);

	/* Carry back to 26-bit limbs; the carry out of the top limb is
	 * worth 2^130 = 5. */
	d1 += d0 >> 26;
	h[0] = (uint32_t)d0 & MASK26;
	d2 += d1 >> 26;
	h[1] = (uint32_t)d1 & MASK26;
	d3 += d2 >> 26;
	h[2] = (uint32_t)d2 & MASK26;
	d4 += d3 >> 26;
	h[3] = (uint32_t)d3 & MASK26;
	h[4] = (uint32_t)d4 & MASK26;
	d0 = (uint64_t)h[0] + (d4 >> 26) * 5;
	h[0] = (uint32_t)d0 & MASK26;
	h[1] += (uint32_t)(d0 >> 26);
	sd_wipe(mb, sizeof mb);
}

/* Propagates the carries of h once around the five limbs. */
static void carry_around(uint32_t h[5])
{
	uint32_t c;

	c = h[1] >> 26; h[1] &= MASK26; h[2] += c;
	c = h[2] >> 26; h[2] &= MASK26; h[3] += c;
	c = h[3] >> 26; h[3] &= MASK26; h[4] += c;
	c = h[4] >> 26; h[4] &= MASK26; h[0] += c * 5;
	c = h[0] >> 26; h[0] &= MASK26; h[1] += c;
}

/* Fully reduces h and writes tag = (h + s) mod 2^128. */
static void finish(sd_poly1305_ctx *c, uint8_t tag[SD_POLY1305_TAG_LEN])
{
	uint32_t *h = c->h;
	uint32_t g[5], mask, w[4], carry;
	unsigned i;

	/* Fully reduce h to [0, p): compute g = h + 5 - 2^130 and keep it
	 * when it does not go negative, i.e. when h >= p. */
	carry_around(h);
	carry_around(h);
	g[0] = h[0] + 5;
	g[1] = h[1] + (g[0] >> 26); g[0] &= MASK26;
	g[2] = h[2] + (g[1] >> 26); g[1] &= MASK26;
	g[3] = h[3] + (g[2] >> 26); g[2] &= MASK26;
	g[4] = h[4] + (g[3] >> 26) - (1UL << 26); g[3] &= MASK26;
	mask = (g[4] >> 31) - 1; /* all ones when g >= 0 */
	for (i = 0; i < 5; i++)
		h[i] = (h[i] & ~mask) | (g[i] & mask);

	/* tag = (h + s) mod 2^128, little-endian, in 32-bit words. The
	 * carry out of a + b is the top bit of (a & b) | ((a | b) & ~(a + b)):
	 * no branch, and no 64-bit addition. */
	w[0] = h[0] | h[1] << 26;
	w[1] = h[1] >> 6 | h[2] << 20;
	w[2] = h[2] >> 12 | h[3] << 14;
	w[3] = h[3] >> 18 | h[4] << 8;
	carry = 0;
	for (i = 0; i < 4; i++) {
		uint32_t s = load_le32(c->s + 4 * i);
		uint32_t t = w[i] + s;
		uint32_t u = t + carry;

		/* At most one of the two additions carries. */
		carry = (((w[i] & s) | ((w[i] | s) & ~t)) |
			 ((t & carry) | ((t | carry) & ~u))) >> 31;
		tag[4 * i] = (uint8_t)u;
		tag[4 * i + 1] = (uint8_t)(u >> 8);
		tag[4 * i + 2] = (uint8_t)(u >> 16);
		tag[4 * i + 3] = (uint8_t)(u >> 24);
	}
	sd_wipe(g, sizeof g);
	sd_wipe(w, sizeof w);
}

#endif /* SD_CRYPTO_SMALL */

void sd_poly1305_update(sd_poly1305_ctx *c, const uint8_t *msg, size_t len)
{
	while (len > 0) {
		size_t n = BLOCK_LEN - c->used;

		if (n > len)
			n = len;
		memcpy(c->buf + c->used, msg, n);
		c->used = (uint8_t)(c->used + n);
		msg += n;
		len -= n;
		if (c->used == BLOCK_LEN) {
			block(c, c->buf, 1);
			c->used = 0;
		}
	}
}

void sd_poly1305_final(sd_poly1305_ctx *c, uint8_t tag[SD_POLY1305_TAG_LEN])
{
	/* §2.5.1: a last partial block gets the 0x01 byte after its
	 * octets and zeros up to 16 bytes, with no 2^128 bit. */
	if (c->used > 0) {
		c->buf[c->used] = 1;
		memset(c->buf + c->used + 1, 0, BLOCK_LEN - 1u - c->used);
		block(c, c->buf, 0);
	}
	finish(c, tag);
	sd_wipe(c, sizeof *c);
}

void sd_poly1305(uint8_t tag[SD_POLY1305_TAG_LEN], const uint8_t *msg,
		 size_t len, const uint8_t key[SD_POLY1305_KEY_LEN])
{
	sd_poly1305_ctx c;

	sd_poly1305_init(&c, key);
	sd_poly1305_update(&c, msg, len);
	sd_poly1305_final(&c, tag);
}
