/*
 * crypto/aead.c: AEAD_CHACHA20_POLY1305 (RFC 8439 §2.6, §2.8) and the Noise
 * ChaChaPoly cipher functions (Noise revision 34, §12.3).
 */
#include <string.h>

#include "chachapoly.h"
#include "common.h"

#define NOISE_TAG_LEN SD_AEAD_TAG_LEN

/*
 * §2.8 mac_data, fed to Poly1305 keyed by §2.6's one-time key:
 *   AAD | pad16(AAD) | ciphertext | pad16(ciphertext)
 *   | num_to_8_le_bytes(AAD.length) | num_to_8_le_bytes(ciphertext.length)
 */
static void aead_tag(uint8_t tag[SD_AEAD_TAG_LEN],
		     const uint8_t key[SD_CHACHA20_KEY_LEN],
		     const uint8_t nonce[SD_CHACHA20_NONCE_LEN],
		     const uint8_t *ad, size_t ad_len, const uint8_t *ct,
		     size_t len)
{
	uint8_t block[SD_CHACHA20_BLOCK_LEN], lens[16];
	sd_poly1305_ctx p;
	size_t al = ad_len, cl = len;
	unsigned i;

	/* §2.6: the Poly1305 key is the first 32 bytes of block 0. */
	sd_chacha20_block(block, key, 0, nonce);
	sd_poly1305_init(&p, block);
	sd_wipe(block, sizeof block);

	/* lens doubles as the zero padding before it holds the lengths. */
	memset(lens, 0, sizeof lens);
	sd_poly1305_update(&p, ad, ad_len);
	sd_poly1305_update(&p, lens, (16 - ad_len % 16) % 16);
	sd_poly1305_update(&p, ct, len);
	sd_poly1305_update(&p, lens, (16 - len % 16) % 16);
	/* Little-endian, byte by byte: a size_t shifted by 8 at a time
	 * runs out of bits without a shift wider than the type. */
	for (i = 0; i < 8; i++) {
		lens[i] = (uint8_t)al;
		lens[8 + i] = (uint8_t)cl;
		al >>= 8;
		cl >>= 8;
	}
	sd_poly1305_update(&p, lens, sizeof lens);
	sd_poly1305_final(&p, tag);
}

void sd_aead_chacha20poly1305_seal(uint8_t *ct, uint8_t tag[SD_AEAD_TAG_LEN],
				   const uint8_t key[SD_CHACHA20_KEY_LEN],
				   const uint8_t nonce[SD_CHACHA20_NONCE_LEN],
				   const uint8_t *ad, size_t ad_len,
				   const uint8_t *pt, size_t len)
{
	/* §2.8: encrypt with the block counter starting at 1. */
	sd_chacha20_xor(ct, pt, len, key, 1, nonce);
	aead_tag(tag, key, nonce, ad, ad_len, ct, len);
}

int sd_aead_chacha20poly1305_open(uint8_t *pt,
				  const uint8_t key[SD_CHACHA20_KEY_LEN],
				  const uint8_t nonce[SD_CHACHA20_NONCE_LEN],
				  const uint8_t *ad, size_t ad_len,
				  const uint8_t *ct, size_t len,
				  const uint8_t tag[SD_AEAD_TAG_LEN])
{
	uint8_t want[SD_AEAD_TAG_LEN];
	int ok;

	/* Authenticate first: plaintext is produced only for a good tag. */
	aead_tag(want, key, nonce, ad, ad_len, ct, len);
	ok = sd_ct_equal(want, tag, sizeof want);
	sd_wipe(want, sizeof want);
	if (!ok) {
		sd_wipe(pt, len);
		return SD_ERR_AUTH;
	}
	sd_chacha20_xor(pt, ct, len, key, 1, nonce);
	return SD_OK;
}

void sd_noise_chachapoly_nonce(uint8_t nonce[SD_CHACHA20_NONCE_LEN], uint64_t n)
{
	unsigned i;

	/* Noise §12.3: 32 bits of zeros, then n as 64 bits little-endian. */
	nonce[0] = nonce[1] = nonce[2] = nonce[3] = 0;
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

void sd_noise_chachapoly_encrypt(uint8_t *out, const uint8_t k[SD_CHACHA20_KEY_LEN],
				 uint64_t n, const uint8_t *ad, size_t ad_len,
				 const uint8_t *pt, size_t len)
{
	uint8_t nonce[SD_CHACHA20_NONCE_LEN];

	sd_noise_chachapoly_nonce(nonce, n);
	sd_aead_chacha20poly1305_seal(out, out + len, k, nonce, ad, ad_len, pt,
				      len);
}

int sd_noise_chachapoly_decrypt(uint8_t *out, const uint8_t k[SD_CHACHA20_KEY_LEN],
				uint64_t n, const uint8_t *ad, size_t ad_len,
				const uint8_t *ct, size_t ct_len)
{
	uint8_t nonce[SD_CHACHA20_NONCE_LEN];
	uint8_t tag[NOISE_TAG_LEN];
	size_t len;

	if (ct_len < NOISE_TAG_LEN)
		return SD_ERR_LENGTH;
	len = ct_len - NOISE_TAG_LEN;
	/* Copy the tag aside: an in-place open may wipe the buffer. */
	memcpy(tag, ct + len, sizeof tag);
	sd_noise_chachapoly_nonce(nonce, n);
	return sd_aead_chacha20poly1305_open(out, k, nonce, ad, ad_len, ct, len,
					     tag);
}
