/*
 * crypto/aes.c: the AES block cipher, FIPS 197, encryption only (GCM and
 * the counter modes never decrypt a block).
 *
 * The state is the 16-byte array of §3.4 in its input order: byte
 * in[r + 4c] is s[r][c], row r of column c. The S-box is not a table: each
 * SubBytes computes §5.1.1 directly, the inverse in GF(2^8) as x^254 by a
 * fixed chain of multiplications, each a loop of 8 masked steps, then the
 * affine transformation. Every step runs the same instructions whatever
 * the byte, so the cipher leaks nothing through timing or cache state.
 */
#include "aesgcm.h"

#include <string.h>

#include "common.h"

#define AES_NB 4               /* columns of the state (§3.1) */
#define AES_WORD_LEN 4         /* bytes of a word */
#define AES_AFFINE_C 0x63      /* §5.1.1: c = {63} */
#define AES_REDUCE 0x1B        /* §4.2.1: m(x) = x^8 + x^4 + x^3 + x + 1, less x^8 */

/* §4.2.1 xtime(): multiplication by x, reduced modulo m(x), by mask. */
static uint8_t xtime(uint8_t a)
{
	return (uint8_t)((uint8_t)(a << 1) ^ (AES_REDUCE & (uint8_t)-(a >> 7)));
}

/* §4.2: a * b in GF(2^8), one masked step per bit of b. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	unsigned i;

	for (i = 0; i < 8; i++) {
		r ^= (uint8_t)(a & (uint8_t)-(b & 1u));
		a = xtime(a);
		b >>= 1;
	}
	return r;
}

static uint8_t rotl8(uint8_t x, unsigned n)
{
	return (uint8_t)((uint8_t)(x << n) | (x >> (8 - n)));
}

/*
 * §5.1.1 SubBytes() on one byte: the multiplicative inverse (with {00}
 * mapped to itself, as x^254 does) then
 *   b' = b ^ (b <<< 1) ^ (b <<< 2) ^ (b <<< 3) ^ (b <<< 4) ^ {63},
 * the matrix of equation (5.1) written as rotations.
 */
static uint8_t sub_byte(uint8_t x)
{
	uint8_t x2, x3, x12, x15, t;

	/* x^254 = x^(2+12+240): 7 squarings, 4 multiplications. */
	x2 = gf_mul(x, x);
	x3 = gf_mul(x2, x);
	t = gf_mul(x3, x3);       /* x^6 */
	x12 = gf_mul(t, t);
	x15 = gf_mul(x12, x3);
	t = gf_mul(x15, x15);     /* x^30 */
	t = gf_mul(t, t);         /* x^60 */
	t = gf_mul(t, t);         /* x^120 */
	t = gf_mul(t, t);         /* x^240 */
	t = gf_mul(t, x12);       /* x^252 */
	t = gf_mul(t, x2);        /* x^254 = x^-1 */
	return (uint8_t)(t ^ rotl8(t, 1) ^ rotl8(t, 2) ^ rotl8(t, 3) ^
			 rotl8(t, 4) ^ AES_AFFINE_C);
}

/* §5.2: key schedule for Nk = key_len / 4 words, Nr = Nk + 6 rounds. */
int sd_aes_init(sd_aes_ctx *c, const uint8_t *key, size_t key_len)
{
	uint8_t temp[AES_WORD_LEN], rcon = 0x01, t0;
	unsigned nk, words, i, k;

	if (key_len != SD_AES128_KEY_LEN && key_len != SD_AES256_KEY_LEN)
		return SD_ERR_LENGTH;
	nk = (unsigned)key_len / AES_WORD_LEN;
	c->rounds = (uint8_t)(nk + 6);
	words = AES_NB * (c->rounds + 1u);
	memcpy(c->rk, key, key_len);
	for (i = nk; i < words; i++) {
		memcpy(temp, c->rk + AES_WORD_LEN * (i - 1), AES_WORD_LEN);
		if (i % nk == 0) {
			/* temp = SubWord(RotWord(temp)) xor Rcon[i/Nk] */
			t0 = temp[0];
			temp[0] = (uint8_t)(sub_byte(temp[1]) ^ rcon);
			temp[1] = sub_byte(temp[2]);
			temp[2] = sub_byte(temp[3]);
			temp[3] = sub_byte(t0);
			rcon = xtime(rcon);
		} else if (nk > 6 && i % nk == 4) {
			for (k = 0; k < AES_WORD_LEN; k++)
				temp[k] = sub_byte(temp[k]);
		}
		for (k = 0; k < AES_WORD_LEN; k++)
			c->rk[AES_WORD_LEN * i + k] =
				(uint8_t)(c->rk[AES_WORD_LEN * (i - nk) + k] ^ temp[k]);
	}
	sd_wipe(temp, sizeof temp);
	return SD_OK;
}

/* §5.1.4 AddRoundKey(): the round's Nb words, one per column. */
static void add_round_key(uint8_t s[SD_AES_BLOCK_LEN], const uint8_t *rk)
{
	unsigned i;

	for (i = 0; i < SD_AES_BLOCK_LEN; i++)
		s[i] ^= rk[i];
}

static void sub_bytes(uint8_t s[SD_AES_BLOCK_LEN])
{
	unsigned i;

	for (i = 0; i < SD_AES_BLOCK_LEN; i++)
		s[i] = sub_byte(s[i]);
}

/* §5.1.2 ShiftRows(): s'[r][c] = s[r][(c + r) mod 4]. */
static void shift_rows(uint8_t s[SD_AES_BLOCK_LEN])
{
	uint8_t t[SD_AES_BLOCK_LEN];
	unsigned r, col;

	for (r = 0; r < 4; r++)
		for (col = 0; col < AES_NB; col++)
			t[r + 4 * col] = s[r + 4 * ((col + r) % AES_NB)];
	memcpy(s, t, sizeof t);
	sd_wipe(t, sizeof t);
}

/* §5.1.3 MixColumns(): each column times {03}x^3 + {01}x^2 + {01}x + {02}. */
static void mix_columns(uint8_t s[SD_AES_BLOCK_LEN])
{
	unsigned col;
	uint8_t *p, a0, a1, a2, a3;

	for (col = 0; col < AES_NB; col++) {
		p = s + 4 * col;
		a0 = p[0];
		a1 = p[1];
		a2 = p[2];
		a3 = p[3];
		/* s'0 = {02}s0 ^ {03}s1 ^ s2 ^ s3, and so on round the column;
		 * {03}a = xtime(a) ^ a. */
		p[0] = (uint8_t)(xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3);
		p[1] = (uint8_t)(a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3);
		p[2] = (uint8_t)(a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3);
		p[3] = (uint8_t)(xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3));
	}
}

void sd_aes_encrypt(const sd_aes_ctx *c, uint8_t out[SD_AES_BLOCK_LEN],
		    const uint8_t in[SD_AES_BLOCK_LEN])
{
	uint8_t s[SD_AES_BLOCK_LEN];
	unsigned round;

	memcpy(s, in, sizeof s);
	add_round_key(s, c->rk);
	for (round = 1; round < c->rounds; round++) {
		sub_bytes(s);
		shift_rows(s);
		mix_columns(s);
		add_round_key(s, c->rk + SD_AES_BLOCK_LEN * round);
	}
	/* The final round has no MixColumns(). */
	sub_bytes(s);
	shift_rows(s);
	add_round_key(s, c->rk + SD_AES_BLOCK_LEN * c->rounds);
	memcpy(out, s, sizeof s);
	sd_wipe(s, sizeof s);
}
