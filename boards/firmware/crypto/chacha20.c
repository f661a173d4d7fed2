/* crypto/chacha20.c: the ChaCha20 block function and cipher, RFC 8439
 * §2.1 to §2.4. */
#include <string.h>

#include "chachapoly.h"
#include "common.h"

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* "<<<", a left rotation by n bits, 0 < n < 32. */
static uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

/* §2.1 The ChaCha Quarter Round, applied to four words of the state. */
static void quarter_round(uint32_t x[16], unsigned a, unsigned b, unsigned c,
			  unsigned d)
{
	x[a] += x[b]; x[d] ^= x[a]; x[d] = rotl(x[d], 16);
	x[c] += x[d]; x[b] ^= x[c]; x[b] = rotl(x[b], 12);
	x[a] += x[b]; x[d] ^= x[a]; x[d] = rotl(x[d], 8);
	x[c] += x[d]; x[b] ^= x[c]; x[b] = rotl(x[b], 7);
}

void sd_chacha20_block(uint8_t out[SD_CHACHA20_BLOCK_LEN],
		       const uint8_t key[SD_CHACHA20_KEY_LEN], uint32_t counter,
		       const uint8_t nonce[SD_CHACHA20_NONCE_LEN])
{
	/*
	 * §2.3 state, sixteen 32-bit words:
	 *   cccccccc  cccccccc  cccccccc  cccccccc   constants
	 *   kkkkkkkk  kkkkkkkk  kkkkkkkk  kkkkkkkk   key, little-endian
	 *   kkkkkkkk  kkkkkkkk  kkkkkkkk  kkkkkkkk
	 *   bbbbbbbb  nnnnnnnn  nnnnnnnn  nnnnnnnn   block count, nonce
	 */
	uint32_t in[16], x[16];
	unsigned i;

	in[0] = 0x61707865UL;
	in[1] = 0x3320646eUL;
	in[2] = 0x79622d32UL;
	in[3] = 0x6b206574UL;
	for (i = 0; i < 8; i++)
		in[4 + i] = load_le32(key + 4 * i);
	in[12] = counter;
	for (i = 0; i < 3; i++)
		in[13 + i] = load_le32(nonce + 4 * i);

	memcpy(x, in, sizeof x);
	/* 20 rounds: 10 iterations of a column round and a diagonal round. */
	for (i = 0; i < 10; i++) {
		quarter_round(x, 0, 4, 8, 12);
		quarter_round(x, 1, 5, 9, 13);
		quarter_round(x, 2, 6, 10, 14);
		quarter_round(x, 3, 7, 11, 15);
		quarter_round(x, 0, 5, 10, 15);
		quarter_round(x, 1, 6, 11, 12);
		quarter_round(x, 2, 7, 8, 13);
		quarter_round(x, 3, 4, 9, 14);
	}
	/* Add the original input words, serialize little-endian. */
	for (i = 0; i < 16; i++)
		store_le32(out + 4 * i, x[i] + in[i]);
	sd_wipe(in, sizeof in);
	sd_wipe(x, sizeof x);
}

void sd_chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		     const uint8_t key[SD_CHACHA20_KEY_LEN], uint32_t counter,
		     const uint8_t nonce[SD_CHACHA20_NONCE_LEN])
{
	uint8_t ks[SD_CHACHA20_BLOCK_LEN];

	while (len > 0) {
		size_t n = len < sizeof ks ? len : sizeof ks;
		size_t i;

		sd_chacha20_block(ks, key, counter, nonce);
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(in[i] ^ ks[i]);
		out += n;
		in += n;
		len -= n;
		counter++;
	}
	sd_wipe(ks, sizeof ks);
}
