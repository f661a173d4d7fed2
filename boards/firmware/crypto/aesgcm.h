/*
 * crypto/aesgcm.h: the AES block cipher (FIPS 197) with 128- and 256-bit
 * keys, and AES-GCM (NIST SP 800-38D) with 96-bit IVs and 128-bit tags:
 * the record ciphers of the seed (AES-128-GCM) and psk (AES-256-GCM)
 * profiles.
 *
 * Constant-time: the S-box is computed (§5.1.1: the multiplicative
 * inverse in GF(2^8) followed by the affine transformation) instead of
 * looked up, and GHASH multiplies bit by bit with masks (SP 800-38D §6.3,
 * Algorithm 1); no branch and no memory index depends on a key, a
 * plaintext or a hash subkey. The price is speed: a table-free AES is a
 * few times slower than a table one, which matters little next to the
 * scalar multiplication of a handshake.
 *
 * All state lives in caller-provided memory; the GCM functions expand the
 * key on their own stack and wipe it before returning.
 */
#ifndef SD_CRYPTO_AESGCM_H
#define SD_CRYPTO_AESGCM_H

#include <stddef.h>
#include <stdint.h>

#define SD_AES_BLOCK_LEN 16    /* Nb = 4 words of 32 bits, FIPS 197 §3.1 */
#define SD_AES128_KEY_LEN 16   /* Nk = 4, Nr = 10 (FIPS 197 §5, Figure 4) */
#define SD_AES256_KEY_LEN 32   /* Nk = 8, Nr = 14 */
#define SD_AES_MAX_ROUNDS 14
/* Nb (Nr + 1) words of round keys (§5.2), at most 240 bytes. */
#define SD_AES_MAX_SCHEDULE_LEN (SD_AES_BLOCK_LEN * (SD_AES_MAX_ROUNDS + 1))

#define SD_GCM_IV_LEN 12  /* the 96-bit IV of SP 800-38D §5.2.1.1 */
#define SD_GCM_TAG_LEN 16 /* t = 128 */

typedef struct {
	uint8_t rk[SD_AES_MAX_SCHEDULE_LEN]; /* w[0..Nb(Nr+1)), FIPS 197 §5.2 */
	uint8_t rounds;                      /* Nr: 10 or 14 */
} sd_aes_ctx;

/*
 * FIPS 197 §5.2 KeyExpansion. key_len is SD_AES128_KEY_LEN or
 * SD_AES256_KEY_LEN, else SD_ERR_LENGTH. Wipe c (sd_wipe) after use.
 */
int sd_aes_init(sd_aes_ctx *c, const uint8_t *key, size_t key_len);

/* FIPS 197 §5.1 Cipher: out = AES(key, in). out may equal in. */
void sd_aes_encrypt(const sd_aes_ctx *c, uint8_t out[SD_AES_BLOCK_LEN],
		    const uint8_t in[SD_AES_BLOCK_LEN]);

/*
 * SP 800-38D §7.1 GCM-AE_K(IV, P, A) with a 96-bit IV: ct = GCTR(inc32(J0),
 * pt), tag = GCTR(J0, GHASH(A, C)). ct may equal pt. Returns SD_OK, or
 * SD_ERR_LENGTH for a key that is neither 16 nor 32 bytes.
 */
int sd_aes_gcm_seal(uint8_t *ct, uint8_t tag[SD_GCM_TAG_LEN],
		    const uint8_t *key, size_t key_len,
		    const uint8_t iv[SD_GCM_IV_LEN], const uint8_t *ad,
		    size_t ad_len, const uint8_t *pt, size_t len);

/*
 * SP 800-38D §7.2 GCM-AD_K(IV, C, A, T): checks the tag in constant time
 * before decrypting. On a mismatch it returns SD_ERR_AUTH and zeroes
 * pt[0..len), whatever it held (§7.2 step 8: the plaintext is not
 * released); pt may equal ct. SD_ERR_LENGTH for a bad key length.
 */
int sd_aes_gcm_open(uint8_t *pt, const uint8_t *key, size_t key_len,
		    const uint8_t iv[SD_GCM_IV_LEN], const uint8_t *ad,
		    size_t ad_len, const uint8_t *ct, size_t len,
		    const uint8_t tag[SD_GCM_TAG_LEN]);

#endif /* SD_CRYPTO_AESGCM_H */
