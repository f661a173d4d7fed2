/*
 * crypto/gcm.c: AES-GCM, NIST SP 800-38D, for 96-bit IVs and full 128-bit
 * tags.
 *
 * Blocks are big-endian bit strings as in §6.1: bit 0 is the most
 * significant bit of byte 0. GHASH multiplies with Algorithm 1 of §6.3,
 * one masked step per bit, so its time depends on no data. The tags of
 * seal and open are computed the same way; open compares them in constant
 * time before it decrypts anything.
 */
#include "aesgcm.h"

#include <string.h>

#include "common.h"

#define GCM_R 0xE1           /* §6.3: R = 11100001 || 0^120 */
#define GCM_COUNTER_OFF 12   /* §6.2 inc32: the last 32 bits of the block */

typedef struct {
	sd_aes_ctx aes;
	uint8_t h[SD_AES_BLOCK_LEN];  /* H = CIPH_K(0^128), §7.1 step 1 */
	uint8_t j0[SD_AES_BLOCK_LEN]; /* J0 = IV || 0^31 || 1, §7.1 step 2 */
	uint8_t y[SD_AES_BLOCK_LEN];  /* the GHASH accumulator */
	uint8_t t[SD_AES_BLOCK_LEN];  /* scratch: key stream, lengths, tag */
} gcm_state;

/* §6.3 Algorithm 1: y = y • H. Z accumulates V = H·x^i for each set bit
 * x_i of y; V >> 1 reduces by R when the bit shifted out is 1. */
static void gf128_mul(uint8_t y[SD_AES_BLOCK_LEN], const uint8_t h[SD_AES_BLOCK_LEN])
{
	uint8_t z[SD_AES_BLOCK_LEN], v[SD_AES_BLOCK_LEN], mask, lsb;
	unsigned i, j;

	memset(z, 0, sizeof z);
	memcpy(v, h, sizeof v);
	for (i = 0; i < 8 * SD_AES_BLOCK_LEN; i++) {
		mask = (uint8_t)-((y[i / 8] >> (7 - i % 8)) & 1u);
		for (j = 0; j < SD_AES_BLOCK_LEN; j++)
			z[j] ^= (uint8_t)(v[j] & mask);
		lsb = (uint8_t)-(v[SD_AES_BLOCK_LEN - 1] & 1u);
		for (j = SD_AES_BLOCK_LEN - 1; j > 0; j--)
			v[j] = (uint8_t)((v[j] >> 1) | (uint8_t)(v[j - 1] << 7));
		v[0] = (uint8_t)((v[0] >> 1) ^ (GCM_R & lsb));
	}
	memcpy(y, z, sizeof z);
	sd_wipe(z, sizeof z);
	sd_wipe(v, sizeof v);
}

/* §6.4 GHASH over data zero-padded to whole blocks: A and C are each
 * padded on their own (§7.1 step 5). */
static void ghash(gcm_state *g, const uint8_t *data, size_t len)
{
	size_t n, i;

	while (len > 0) {
		n = len < SD_AES_BLOCK_LEN ? len : SD_AES_BLOCK_LEN;
		for (i = 0; i < n; i++)
			g->y[i] ^= data[i];
		gf128_mul(g->y, g->h);
		data += n;
		len -= n;
	}
}

/* §6.2 inc32: the last 32 bits of the block, big-endian, plus one mod 2^32. */
static void inc32(uint8_t cb[SD_AES_BLOCK_LEN])
{
	unsigned i = SD_AES_BLOCK_LEN;

	while (i > GCM_COUNTER_OFF && ++cb[--i] == 0)
		;
}

/* §6.5 GCTR with ICB = inc32(J0): out = in xor the key stream. */
static void gctr(gcm_state *g, uint8_t *out, const uint8_t *in, size_t len)
{
	uint8_t cb[SD_AES_BLOCK_LEN];
	size_t n, i;

	memcpy(cb, g->j0, sizeof cb);
	while (len > 0) {
		inc32(cb);
		sd_aes_encrypt(&g->aes, g->t, cb);
		n = len < SD_AES_BLOCK_LEN ? len : SD_AES_BLOCK_LEN;
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(in[i] ^ g->t[i]);
		in += n;
		out += n;
		len -= n;
	}
}

static int gcm_init(gcm_state *g, const uint8_t *key, size_t key_len,
		    const uint8_t iv[SD_GCM_IV_LEN])
{
	int err = sd_aes_init(&g->aes, key, key_len);

	if (err != SD_OK)
		return err;
	memset(g->h, 0, sizeof g->h);
	sd_aes_encrypt(&g->aes, g->h, g->h);
	/* §7.1 step 2, len(IV) = 96: J0 = IV || 0^31 || 1. */
	memcpy(g->j0, iv, SD_GCM_IV_LEN);
	memset(g->j0 + SD_GCM_IV_LEN, 0, SD_AES_BLOCK_LEN - SD_GCM_IV_LEN);
	g->j0[SD_AES_BLOCK_LEN - 1] = 1;
	memset(g->y, 0, sizeof g->y);
	return SD_OK;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* §7.1 steps 5-6: S = GHASH(A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64),
 * T = MSB_128(GCTR(J0, S)). */
static void gcm_tag(gcm_state *g, uint8_t tag[SD_GCM_TAG_LEN],
		    const uint8_t *ad, size_t ad_len, const uint8_t *ct,
		    size_t len)
{
	unsigned i;

	ghash(g, ad, ad_len);
	ghash(g, ct, len);
	put_be64(g->t, (uint64_t)ad_len * 8u);
	put_be64(g->t + 8, (uint64_t)len * 8u);
	ghash(g, g->t, SD_AES_BLOCK_LEN);
	sd_aes_encrypt(&g->aes, g->t, g->j0);
	for (i = 0; i < SD_GCM_TAG_LEN; i++)
		tag[i] = (uint8_t)(g->t[i] ^ g->y[i]);
}

int sd_aes_gcm_seal(uint8_t *ct, uint8_t tag[SD_GCM_TAG_LEN],
		    const uint8_t *key, size_t key_len,
		    const uint8_t iv[SD_GCM_IV_LEN], const uint8_t *ad,
		    size_t ad_len, const uint8_t *pt, size_t len)
{
	gcm_state g;
	int err = gcm_init(&g, key, key_len, iv);

	if (err == SD_OK) {
		gctr(&g, ct, pt, len);
		gcm_tag(&g, tag, ad, ad_len, ct, len);
	}
	sd_wipe(&g, sizeof g);
	return err;
}

int sd_aes_gcm_open(uint8_t *pt, const uint8_t *key, size_t key_len,
		    const uint8_t iv[SD_GCM_IV_LEN], const uint8_t *ad,
		    size_t ad_len, const uint8_t *ct, size_t len,
		    const uint8_t tag[SD_GCM_TAG_LEN])
{
	gcm_state g;
	uint8_t want[SD_GCM_TAG_LEN];
	int err = gcm_init(&g, key, key_len, iv);

	if (err == SD_OK) {
		/* §7.2 steps 6-8: T' from C, compare, and only then decrypt. */
		gcm_tag(&g, want, ad, ad_len, ct, len);
		if (sd_ct_equal(want, tag, sizeof want))
			gctr(&g, pt, ct, len);
		else
			err = SD_ERR_AUTH;
	}
	if (err == SD_ERR_AUTH)
		sd_wipe(pt, len);
	sd_wipe(want, sizeof want);
	sd_wipe(&g, sizeof g);
	return err;
}
