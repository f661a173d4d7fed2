/*
 * crypto/hmac_hkdf.c: HMAC-SHA256 (RFC 2104 §2), HKDF-SHA256 (RFC 5869 §2)
 * and the Noise HKDF (Noise Protocol Framework revision 34, §4.3).
 */
#include <string.h>

#include "common.h"
#include "sha256.h"

#define IPAD 0x36 /* RFC 2104 §2: ipad = the byte 0x36 repeated B times */
#define OPAD 0x5c /* RFC 2104 §2: opad = the byte 0x5C repeated B times */

void sd_hmac_sha256_init(sd_hmac_sha256_ctx *c, const uint8_t *key, size_t key_len)
{
	uint8_t k[SD_SHA256_BLOCK_LEN];
	unsigned i;

	/* RFC 2104 §2: keys longer than B bytes are first hashed; the key
	 * is then padded with zeros to B bytes. The hash runs in c->inner,
	 * free until below: no second context on the stack. */
	memset(k, 0, sizeof k);
	if (key_len > SD_SHA256_BLOCK_LEN) {
		sd_sha256_init(&c->inner);
		sd_sha256_update(&c->inner, key, key_len);
		sd_sha256_final(&c->inner, k);
	} else if (key_len > 0) {
		memcpy(k, key, key_len);
	}

	for (i = 0; i < SD_SHA256_BLOCK_LEN; i++)
		k[i] ^= IPAD;
	sd_sha256_init(&c->inner);
	sd_sha256_update(&c->inner, k, sizeof k);

	for (i = 0; i < SD_SHA256_BLOCK_LEN; i++)
		k[i] ^= IPAD ^ OPAD;
	sd_sha256_init(&c->outer);
	sd_sha256_update(&c->outer, k, sizeof k);
	sd_wipe(k, sizeof k);
}

void sd_hmac_sha256_update(sd_hmac_sha256_ctx *c, const void *data, size_t len)
{
	sd_sha256_update(&c->inner, data, len);
}

void sd_hmac_sha256_final(sd_hmac_sha256_ctx *c, uint8_t out[SD_SHA256_LEN])
{
	uint8_t ih[SD_SHA256_LEN];

	/* H(K XOR opad, H(K XOR ipad, text)) */
	sd_sha256_final(&c->inner, ih);
	sd_sha256_update(&c->outer, ih, sizeof ih);
	sd_sha256_final(&c->outer, out);
	sd_wipe(ih, sizeof ih);
}

void sd_hmac_sha256(uint8_t out[SD_SHA256_LEN], const uint8_t *key,
		    size_t key_len, const void *data, size_t len)
{
	sd_hmac_sha256_ctx c;

	sd_hmac_sha256_init(&c, key, key_len);
	sd_hmac_sha256_update(&c, data, len);
	sd_hmac_sha256_final(&c, out);
}

void sd_hkdf_extract(uint8_t prk[SD_SHA256_LEN], const uint8_t *salt,
		     size_t salt_len, const uint8_t *ikm, size_t ikm_len)
{
	/* RFC 5869 §2.2: a missing salt is HashLen zero bytes. HMAC pads
	 * every key with zeros to B bytes (RFC 2104 §2), so HashLen zeros and
	 * the empty key are the same key. */
	if (salt == NULL)
		salt_len = 0;
	sd_hmac_sha256(prk, salt, salt_len, ikm, ikm_len);
}

int sd_hkdf_expand(uint8_t *okm, size_t okm_len,
		   const uint8_t prk[SD_SHA256_LEN], const uint8_t *info,
		   size_t info_len)
{
	sd_hmac_sha256_ctx c;
	uint8_t t[SD_SHA256_LEN];
	uint8_t i = 0; /* the single-octet counter of RFC 5869 §2.3 */
	size_t n;

	if (okm_len > SD_HKDF_MAX_LEN)
		return SD_ERR_LENGTH;
	/* T(i) = HMAC-Hash(PRK, T(i-1) | info | i), T(0) empty. */
	while (okm_len > 0) {
		sd_hmac_sha256_init(&c, prk, SD_SHA256_LEN);
		if (i > 0)
			sd_hmac_sha256_update(&c, t, sizeof t);
		if (info_len > 0)
			sd_hmac_sha256_update(&c, info, info_len);
		i++;
		sd_hmac_sha256_update(&c, &i, 1);
		sd_hmac_sha256_final(&c, t);
		n = okm_len < SD_SHA256_LEN ? okm_len : SD_SHA256_LEN;
		memcpy(okm, t, n);
		okm += n;
		okm_len -= n;
	}
	sd_wipe(t, sizeof t);
	return SD_OK;
}

int sd_hkdf(uint8_t *okm, size_t okm_len, const uint8_t *salt, size_t salt_len,
	    const uint8_t *ikm, size_t ikm_len, const uint8_t *info,
	    size_t info_len)
{
	uint8_t prk[SD_SHA256_LEN];
	int err;

	if (okm_len > SD_HKDF_MAX_LEN)
		return SD_ERR_LENGTH;
	sd_hkdf_extract(prk, salt, salt_len, ikm, ikm_len);
	err = sd_hkdf_expand(okm, okm_len, prk, info, info_len);
	sd_wipe(prk, sizeof prk);
	return err;
}

void sd_noise_hkdf(uint8_t out1[SD_SHA256_LEN], uint8_t out2[SD_SHA256_LEN],
		   uint8_t out3[SD_SHA256_LEN], const uint8_t ck[SD_SHA256_LEN],
		   const uint8_t *ikm, size_t ikm_len)
{
	sd_hmac_sha256_ctx c; /* the one HMAC context, for each HMAC in turn */
	uint8_t temp_key[SD_SHA256_LEN];
	uint8_t n;

	/* temp_key = HMAC-HASH(chaining_key, input_key_material) */
	sd_hmac_sha256_init(&c, ck, SD_SHA256_LEN);
	sd_hmac_sha256_update(&c, ikm, ikm_len);
	sd_hmac_sha256_final(&c, temp_key);
	/* output1 = HMAC-HASH(temp_key, byte(0x01)) */
	n = 0x01;
	sd_hmac_sha256_init(&c, temp_key, sizeof temp_key);
	sd_hmac_sha256_update(&c, &n, 1);
	sd_hmac_sha256_final(&c, out1);
	/* output2 = HMAC-HASH(temp_key, output1 || byte(0x02)) */
	n = 0x02;
	sd_hmac_sha256_init(&c, temp_key, sizeof temp_key);
	sd_hmac_sha256_update(&c, out1, SD_SHA256_LEN);
	sd_hmac_sha256_update(&c, &n, 1);
	sd_hmac_sha256_final(&c, out2);
	if (out3 != NULL) {
		/* output3 = HMAC-HASH(temp_key, output2 || byte(0x03)) */
		n = 0x03;
		sd_hmac_sha256_init(&c, temp_key, sizeof temp_key);
		sd_hmac_sha256_update(&c, out2, SD_SHA256_LEN);
		sd_hmac_sha256_update(&c, &n, 1);
		sd_hmac_sha256_final(&c, out3);
	}
	sd_wipe(temp_key, sizeof temp_key);
}
