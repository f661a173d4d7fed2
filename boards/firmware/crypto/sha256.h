/*
 * crypto/sha256.h: SHA-256 (FIPS 180-4 §6.2), HMAC-SHA256 (RFC 2104,
 * FIPS 198-1), HKDF-SHA256 (RFC 5869) and the HKDF of the Noise Protocol
 * Framework (revision 34, §4.3).
 *
 * All state lives in caller-provided structs; nothing is allocated.
 * Contexts that held keys are wiped by the *_final functions.
 */
#ifndef SD_CRYPTO_SHA256_H
#define SD_CRYPTO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SD_SHA256_LEN 32       /* HASHLEN: digest bytes */
#define SD_SHA256_BLOCK_LEN 64 /* BLOCKLEN: message block bytes */
#define SD_HKDF_MAX_LEN (255 * SD_SHA256_LEN) /* RFC 5869 §2.3: L <= 255*HashLen */

typedef struct {
	uint32_t h[8];                     /* H(i), FIPS 180-4 §6.2.2 */
	uint64_t len;                      /* message bytes so far */
	uint8_t block[SD_SHA256_BLOCK_LEN]; /* pending bytes, len % 64 of them */
} sd_sha256_ctx;

void sd_sha256_init(sd_sha256_ctx *c);
void sd_sha256_update(sd_sha256_ctx *c, const void *data, size_t len);
/* sd_sha256_final writes the digest and wipes c. */
void sd_sha256_final(sd_sha256_ctx *c, uint8_t out[SD_SHA256_LEN]);
void sd_sha256(uint8_t out[SD_SHA256_LEN], const void *data, size_t len);

typedef struct {
	sd_sha256_ctx inner; /* H(K xor ipad || text) in progress */
	sd_sha256_ctx outer; /* H(K xor opad || ...) waiting for the inner digest */
} sd_hmac_sha256_ctx;

/* Keys longer than BLOCKLEN are hashed first (RFC 2104 §2). */
void sd_hmac_sha256_init(sd_hmac_sha256_ctx *c, const uint8_t *key, size_t key_len);
void sd_hmac_sha256_update(sd_hmac_sha256_ctx *c, const void *data, size_t len);
/* sd_hmac_sha256_final writes the MAC and wipes c. */
void sd_hmac_sha256_final(sd_hmac_sha256_ctx *c, uint8_t out[SD_SHA256_LEN]);
void sd_hmac_sha256(uint8_t out[SD_SHA256_LEN], const uint8_t *key,
		    size_t key_len, const void *data, size_t len);

/* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); a NULL or empty salt means
 * HashLen zero bytes. */
void sd_hkdf_extract(uint8_t prk[SD_SHA256_LEN], const uint8_t *salt,
		     size_t salt_len, const uint8_t *ikm, size_t ikm_len);
/* RFC 5869 §2.3: OKM = T(1) | T(2) | ... truncated to okm_len bytes.
 * Returns SD_ERR_LENGTH (and writes nothing) if okm_len > 255*HashLen.
 * okm must not overlap prk. */
int sd_hkdf_expand(uint8_t *okm, size_t okm_len,
		   const uint8_t prk[SD_SHA256_LEN], const uint8_t *info,
		   size_t info_len);
/* Extract then expand. */
int sd_hkdf(uint8_t *okm, size_t okm_len, const uint8_t *salt, size_t salt_len,
	    const uint8_t *ikm, size_t ikm_len, const uint8_t *info,
	    size_t info_len);

/*
 * Noise §4.3, HKDF(chaining_key, input_key_material, num_outputs):
 *   temp_key = HMAC-HASH(chaining_key, input_key_material)
 *   output1  = HMAC-HASH(temp_key, byte(0x01))
 *   output2  = HMAC-HASH(temp_key, output1 || byte(0x02))
 *   output3  = HMAC-HASH(temp_key, output2 || byte(0x03))
 * Pass out3 = NULL for num_outputs = 2. out1 may alias ck (MixKey writes
 * the new chaining key over the old one); the outputs must not alias each
 * other.
 */
void sd_noise_hkdf(uint8_t out1[SD_SHA256_LEN], uint8_t out2[SD_SHA256_LEN],
		   uint8_t out3[SD_SHA256_LEN], const uint8_t ck[SD_SHA256_LEN],
		   const uint8_t *ikm, size_t ikm_len);

#endif /* SD_CRYPTO_SHA256_H */
