/*
 * crypto/chachapoly.h: ChaCha20 (RFC 8439 §2.3-2.4), Poly1305 (§2.5), the
 * AEAD_CHACHA20_POLY1305 construction (§2.8) and the Noise ChaChaPoly
 * cipher functions (Noise Protocol Framework revision 34, §12.3).
 */
#ifndef SD_CRYPTO_CHACHAPOLY_H
#define SD_CRYPTO_CHACHAPOLY_H

#include <stddef.h>
#include <stdint.h>

#define SD_CHACHA20_KEY_LEN 32   /* 256-bit key, §2.3 */
#define SD_CHACHA20_NONCE_LEN 12 /* 96-bit nonce, §2.3 */
#define SD_CHACHA20_BLOCK_LEN 64 /* one block of key stream */
#define SD_POLY1305_KEY_LEN 32   /* r || s, §2.5 */
#define SD_POLY1305_TAG_LEN 16
#define SD_AEAD_TAG_LEN SD_POLY1305_TAG_LEN

/* RFC 8439 §2.3: one 64-byte block of key stream for (key, counter,
 * nonce). */
void sd_chacha20_block(uint8_t out[SD_CHACHA20_BLOCK_LEN],
		       const uint8_t key[SD_CHACHA20_KEY_LEN], uint32_t counter,
		       const uint8_t nonce[SD_CHACHA20_NONCE_LEN]);

/* RFC 8439 §2.4: out = in XOR key stream starting at block `counter`. out
 * may equal in. The caller keeps len below 64 * (2^32 - counter). */
void sd_chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		     const uint8_t key[SD_CHACHA20_KEY_LEN], uint32_t counter,
		     const uint8_t nonce[SD_CHACHA20_NONCE_LEN]);

typedef struct {
#if defined(SD_CRYPTO_SMALL) /* crypto/port.h */
	uint8_t r[17];  /* clamped r, radix 2^8 */
	uint8_t h[17];  /* accumulator, radix 2^8 */
#else
	uint32_t r[5];  /* clamped r, radix 2^26 */
	uint32_t h[5];  /* accumulator, radix 2^26 */
#endif
	uint8_t s[16];  /* s, added at the end */
	uint8_t buf[16];
	uint8_t used;   /* bytes pending in buf */
} sd_poly1305_ctx;

void sd_poly1305_init(sd_poly1305_ctx *c, const uint8_t key[SD_POLY1305_KEY_LEN]);
void sd_poly1305_update(sd_poly1305_ctx *c, const uint8_t *msg, size_t len);
/* sd_poly1305_final writes the tag and wipes c. */
void sd_poly1305_final(sd_poly1305_ctx *c, uint8_t tag[SD_POLY1305_TAG_LEN]);
void sd_poly1305(uint8_t tag[SD_POLY1305_TAG_LEN], const uint8_t *msg,
		 size_t len, const uint8_t key[SD_POLY1305_KEY_LEN]);

/* RFC 8439 §2.8: ct = ChaCha20(key, 1, nonce) XOR pt, tag over ad and ct.
 * ct may equal pt. */
void sd_aead_chacha20poly1305_seal(uint8_t *ct, uint8_t tag[SD_AEAD_TAG_LEN],
				   const uint8_t key[SD_CHACHA20_KEY_LEN],
				   const uint8_t nonce[SD_CHACHA20_NONCE_LEN],
				   const uint8_t *ad, size_t ad_len,
				   const uint8_t *pt, size_t len);

/* RFC 8439 §2.8: verifies the tag in constant time, then decrypts. On a
 * mismatch it returns SD_ERR_AUTH and zeroes pt[0..len), whatever pt held
 * (so in-place callers lose the ciphertext, never see unauthenticated
 * plaintext). pt may equal ct. */
int sd_aead_chacha20poly1305_open(uint8_t *pt,
				  const uint8_t key[SD_CHACHA20_KEY_LEN],
				  const uint8_t nonce[SD_CHACHA20_NONCE_LEN],
				  const uint8_t *ad, size_t ad_len,
				  const uint8_t *ct, size_t len,
				  const uint8_t tag[SD_AEAD_TAG_LEN]);

/* Noise §12.3: the 96-bit nonce is 32 bits of zeros followed by the
 * little-endian encoding of n. */
void sd_noise_chachapoly_nonce(uint8_t nonce[SD_CHACHA20_NONCE_LEN], uint64_t n);

/* Noise §12.3 ENCRYPT(k, n, ad, plaintext): writes len + 16 bytes,
 * ciphertext || tag, to out. out may equal pt. */
void sd_noise_chachapoly_encrypt(uint8_t *out, const uint8_t k[SD_CHACHA20_KEY_LEN],
				 uint64_t n, const uint8_t *ad, size_t ad_len,
				 const uint8_t *pt, size_t len);

/* Noise §12.3 DECRYPT(k, n, ad, ciphertext): ct_len includes the 16-byte
 * tag; writes ct_len - 16 bytes to out. Returns SD_ERR_LENGTH if ct_len <
 * 16, SD_ERR_AUTH (out zeroed) if authentication fails. out may equal ct. */
int sd_noise_chachapoly_decrypt(uint8_t *out, const uint8_t k[SD_CHACHA20_KEY_LEN],
				uint64_t n, const uint8_t *ad, size_t ad_len,
				const uint8_t *ct, size_t ct_len);

#endif /* SD_CRYPTO_CHACHAPOLY_H */
