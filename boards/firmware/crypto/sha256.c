/* crypto/sha256.c: SHA-256 as specified in FIPS 180-4. */
#include "sha256.h"

#include <string.h>

#include "common.h"
#include "port.h"

/* FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] SD_ROM = {
	0x428a2f98UL, 0x71374491UL, 0xb5c0fbcfUL, 0xe9b5dba5UL,
	0x3956c25bUL, 0x59f111f1UL, 0x923f82a4UL, 0xab1c5ed5UL,
	0xd807aa98UL, 0x12835b01UL, 0x243185beUL, 0x550c7dc3UL,
	0x72be5d74UL, 0x80deb1feUL, 0x9bdc06a7UL, 0xc19bf174UL,
	0xe49b69c1UL, 0xefbe4786UL, 0x0fc19dc6UL, 0x240ca1ccUL,
	0x2de92c6fUL, 0x4a7484aaUL, 0x5cb0a9dcUL, 0x76f988daUL,
	0x983e5152UL, 0xa831c66dUL, 0xb00327c8UL, 0xbf597fc7UL,
	0xc6e00bf3UL, 0xd5a79147UL, 0x06ca6351UL, 0x14292967UL,
	0x27b70a85UL, 0x2e1b2138UL, 0x4d2c6dfcUL, 0x53380d13UL,
	0x650a7354UL, 0x766a0abbUL, 0x81c2c92eUL, 0x92722c85UL,
	0xa2bfe8a1UL, 0xa81a664bUL, 0xc24b8b70UL, 0xc76c51a3UL,
	0xd192e819UL, 0xd6990624UL, 0xf40e3585UL, 0x106aa070UL,
	0x19a4c116UL, 0x1e376c08UL, 0x2748774cUL, 0x34b0bcb5UL,
	0x391c0cb3UL, 0x4ed8aa4aUL, 0x5b9cca4fUL, 0x682e6ff3UL,
	0x748f82eeUL, 0x78a5636fUL, 0x84c87814UL, 0x8cc70208UL,
	0x90befffaUL, 0xa4506cebUL, 0xbef9a3f7UL, 0xc67178f2UL,
};

/* FIPS 180-4 §3.2: ROTR^n(x), for 0 < n < 32. */
static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* FIPS 180-4 §4.1.2, functions (4.2) to (4.7). */
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (rotr((x), 2) ^ rotr((x), 13) ^ rotr((x), 22))
#define BSIG1(x) (rotr((x), 6) ^ rotr((x), 11) ^ rotr((x), 25))
#define SSIG0(x) (rotr((x), 7) ^ rotr((x), 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr((x), 17) ^ rotr((x), 19) ^ ((x) >> 10))

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#if defined(SD_CRYPTO_SMALL)
/*
 * The compact form (crypto/port.h): the eight working variables in an
 * array that shifts down one word per round, and Σ/σ computed by one
 * function taking the rotation amounts, a third of the code on the AVR
 * (where eight 32-bit variables do not fit the registers) at some speed.
 * Same steps as below. The rotation amounts are constants: no timing
 * depends on the data.
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static uint32_t sigma(uint32_t x, uint8_t r1, uint8_t r2, uint8_t r3, uint8_t shift)
{
	/* ROTR^r1 ^ ROTR^r2, then ROTR^r3 (Σ) or SHR^shift (σ). */
	uint32_t v = rotr(x, r1) ^ rotr(x, r2);

	return v ^ (shift != 0 ? x >> shift : rotr(x, r3));
}

static void compress(uint32_t h[8], const uint8_t block[SD_SHA256_BLOCK_LEN])
{
	uint32_t w[16], v[8], t1, t2;
	unsigned t;

	memcpy(v, h, sizeof v); /* a, b, c, d, e, f, g, h */
	for (t = 0; t < 64; t++) {
		if (t < 16)
			w[t] = load_be32(block + 4 * t);
		else
			w[t & 15] += sigma(w[(t - 2) & 15], 17, 19, 0, 10) + w[(t - 7) & 15] +
				     sigma(w[(t - 15) & 15], 7, 18, 0, 3);
		t1 = v[7] + sigma(v[4], 6, 11, 25, 0) + CH(v[4], v[5], v[6]) +
		     sd_rom_u32(&K[t]) + w[t & 15];
		t2 = sigma(v[0], 2, 13, 22, 0) + MAJ(v[0], v[1], v[2]);
		memmove(v + 1, v, sizeof v - sizeof v[0]); /* h = g, ..., b = a */
		v[4] += t1;                                /* e = d + T1 */
		v[0] = t1 + t2;                            /* a = T1 + T2 */
	}
	for (t = 0; t < 8; t++)
		h[t] += v[t];
	sd_wipe(w, sizeof w);
	sd_wipe(v, sizeof v);
}
#else
/*
 * FIPS 180-4 §6.2.2, steps 1 to 4, for one 512-bit block. The message
 * schedule W0..W63 is kept as a sliding window of 16 words (W[t mod 16]),
 * which is all step 1's recurrence reads: 64 bytes of stack instead of 256.
 */
static void compress(uint32_t h[8], const uint8_t block[SD_SHA256_BLOCK_LEN])
{
	uint32_t w[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
	uint32_t t1, t2;
	unsigned t;

	for (t = 0; t < 64; t++) {
		if (t < 16) {
			w[t] = load_be32(block + 4 * t);
		} else {
			/* W_t = σ1(W_t-2) + W_t-7 + σ0(W_t-15) + W_t-16 */
			w[t & 15] += SSIG1(w[(t - 2) & 15]) + w[(t - 7) & 15] +
				     SSIG0(w[(t - 15) & 15]);
		}
		t1 = hh + BSIG1(e) + CH(e, f, g) + sd_rom_u32(&K[t]) + w[t & 15];
		t2 = BSIG0(a) + MAJ(a, b, c);
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
	sd_wipe(w, sizeof w);
}
#endif

void sd_sha256_init(sd_sha256_ctx *c)
{
	/* FIPS 180-4 §5.3.3: H(0). */
	c->h[0] = 0x6a09e667UL;
	c->h[1] = 0xbb67ae85UL;
	c->h[2] = 0x3c6ef372UL;
	c->h[3] = 0xa54ff53aUL;
	c->h[4] = 0x510e527fUL;
	c->h[5] = 0x9b05688cUL;
	c->h[6] = 0x1f83d9abUL;
	c->h[7] = 0x5be0cd19UL;
	c->len = 0;
}

void sd_sha256_update(sd_sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = (const uint8_t *)data;
	size_t used = (size_t)(c->len % SD_SHA256_BLOCK_LEN);

	c->len += len;
	while (len > 0) {
		size_t n = SD_SHA256_BLOCK_LEN - used;

		if (n > len)
			n = len;
		memcpy(c->block + used, p, n);
		used += n;
		p += n;
		len -= n;
		if (used == SD_SHA256_BLOCK_LEN) {
			compress(c->h, c->block);
			used = 0;
		}
	}
}

void sd_sha256_final(sd_sha256_ctx *c, uint8_t out[SD_SHA256_LEN])
{
	/* FIPS 180-4 §5.1.1: append bit 1, zeros to 448 mod 512 bits, then
	 * the message length in bits as a 64-bit big-endian integer. */
	uint64_t bits = c->len * 8;
	size_t used = (size_t)(c->len % SD_SHA256_BLOCK_LEN);
	unsigned i;

	c->block[used++] = 0x80;
	if (used > SD_SHA256_BLOCK_LEN - 8) {
		memset(c->block + used, 0, SD_SHA256_BLOCK_LEN - used);
		compress(c->h, c->block);
		used = 0;
	}
	memset(c->block + used, 0, SD_SHA256_BLOCK_LEN - 8 - used);
	store_be32(c->block + 56, (uint32_t)(bits >> 32));
	store_be32(c->block + 60, (uint32_t)bits);
	compress(c->h, c->block);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	sd_wipe(c, sizeof *c);
}

void sd_sha256(uint8_t out[SD_SHA256_LEN], const void *data, size_t len)
{
	sd_sha256_ctx c;

	sd_sha256_init(&c);
	sd_sha256_update(&c, data, len);
	sd_sha256_final(&c, out);
}
