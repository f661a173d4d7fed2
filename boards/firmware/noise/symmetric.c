/*
 * noise/symmetric.c: CipherState (Noise rev. 34 §5.1, with REKEY of §4.2)
 * and SymmetricState (§5.2) for ChaChaPoly and SHA256.
 */
#include "noise.h"

#include <string.h>

#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/sha256.h"

/* §5.1: the nonce 2^64-1 is reserved for REKEY; reaching it exhausts k. */
#define NONCE_MAX UINT64_MAX

int sd_noise_encrypt_with_ad(sd_noise_cipher *cs, uint8_t *out,
			     const uint8_t *ad, size_t ad_len,
			     const uint8_t *pt, size_t len)
{
	if (!cs->has_key) {
		memmove(out, pt, len);
		return SD_OK;
	}
	if (cs->n == NONCE_MAX)
		return SD_ERR_LENGTH;
	sd_noise_chachapoly_encrypt(out, cs->k, cs->n, ad, ad_len, pt, len);
	cs->n++;
	return SD_OK;
}

int sd_noise_decrypt_with_ad(sd_noise_cipher *cs, uint8_t *out,
			     const uint8_t *ad, size_t ad_len,
			     const uint8_t *ct, size_t ct_len)
{
	int err;

	if (!cs->has_key) {
		memmove(out, ct, ct_len);
		return SD_OK;
	}
	if (cs->n == NONCE_MAX)
		return SD_ERR_LENGTH;
	err = sd_noise_chachapoly_decrypt(out, cs->k, cs->n, ad, ad_len, ct, ct_len);
	if (err == SD_OK)
		cs->n++;
	return err;
}

void sd_noise_rekey(sd_noise_cipher *cs)
{
	uint8_t buf[SD_NOISE_KEYLEN + SD_NOISE_TAGLEN];

	/* REKEY(k) = ENCRYPT(k, maxnonce, zerolen, zeros) truncated to 32. */
	memset(buf, 0, SD_NOISE_KEYLEN);
	sd_noise_chachapoly_encrypt(buf, cs->k, NONCE_MAX, NULL, 0, buf,
				    SD_NOISE_KEYLEN);
	memcpy(cs->k, buf, SD_NOISE_KEYLEN);
	sd_wipe(buf, sizeof buf);
}

void sd_noise_initialize_symmetric(sd_noise_symmetric *ss, const char *name,
				   size_t name_len)
{
	/* If protocol_name is at most HASHLEN bytes, h = protocol_name padded
	 * with zeros; otherwise h = HASH(protocol_name). ck = h. */
	memset(ss->h, 0, sizeof ss->h);
	if (name_len <= SD_NOISE_HASHLEN)
		memcpy(ss->h, name, name_len);
	else
		sd_sha256(ss->h, name, name_len);
	memcpy(ss->ck, ss->h, sizeof ss->ck);
	/* InitializeKey(empty) */
	memset(&ss->cs, 0, sizeof ss->cs);
}

void sd_noise_mix_key(sd_noise_symmetric *ss, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[SD_NOISE_HASHLEN];

	/* ck, temp_k = HKDF(ck, input_key_material, 2); HASHLEN = 32 needs
	 * no truncation of temp_k. InitializeKey(temp_k): n = 0. */
	sd_noise_hkdf(ss->ck, temp_k, NULL, ss->ck, ikm, len);
	memcpy(ss->cs.k, temp_k, SD_NOISE_KEYLEN);
	ss->cs.n = 0;
	ss->cs.has_key = 1;
	sd_wipe(temp_k, sizeof temp_k);
}

void sd_noise_mix_hash(sd_noise_symmetric *ss, const uint8_t *data, size_t len)
{
	sd_sha256_ctx c;

	/* h = HASH(h || data) */
	sd_sha256_init(&c);
	sd_sha256_update(&c, ss->h, sizeof ss->h);
	sd_sha256_update(&c, data, len);
	sd_sha256_final(&c, ss->h);
}

int sd_noise_encrypt_and_hash(sd_noise_symmetric *ss, uint8_t *out,
			      const uint8_t *pt, size_t len)
{
	int err;

	/* ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext) */
	err = sd_noise_encrypt_with_ad(&ss->cs, out, ss->h, sizeof ss->h, pt, len);
	if (err != SD_OK)
		return err;
	sd_noise_mix_hash(ss, out, len + (ss->cs.has_key ? SD_NOISE_TAGLEN : 0));
	return SD_OK;
}

int sd_noise_decrypt_and_hash(sd_noise_symmetric *ss, uint8_t *out,
			      const uint8_t *ct, size_t ct_len)
{
	sd_sha256_ctx c;
	uint8_t next_h[SD_NOISE_HASHLEN];
	int err;

	/* plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext).
	 * The new h is computed first: an in-place decryption overwrites
	 * the ciphertext. */
	sd_sha256_init(&c);
	sd_sha256_update(&c, ss->h, sizeof ss->h);
	sd_sha256_update(&c, ct, ct_len);
	sd_sha256_final(&c, next_h);
	err = sd_noise_decrypt_with_ad(&ss->cs, out, ss->h, sizeof ss->h, ct, ct_len);
	if (err == SD_OK)
		memcpy(ss->h, next_h, sizeof ss->h);
	sd_wipe(next_h, sizeof next_h);
	return err;
}

void sd_noise_split(sd_noise_symmetric *ss, sd_noise_cipher *c1,
		    sd_noise_cipher *c2)
{
	/* temp_k1, temp_k2 = HKDF(ck, zerolen, 2); both keys are HASHLEN =
	 * 32 bytes already. */
	sd_noise_hkdf(c1->k, c2->k, NULL, ss->ck, NULL, 0);
	c1->n = c2->n = 0;
	c1->has_key = c2->has_key = 1;
	sd_wipe(ss->ck, sizeof ss->ck);
	sd_wipe(&ss->cs, sizeof ss->cs);
}
