/*
 * test/avr/all.c: an AVR image that calls every primitive once, so that
 * `make size-avr` measures the code and data of the whole crypto/ set
 * after --gc-sections. Inputs come from a volatile source so that nothing
 * folds away; it is built, never run.
 */
#include <stdint.h>

#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"

static volatile uint8_t source;
static volatile uint8_t sink;

static void fill(uint8_t *b, uint8_t n)
{
	while (n-- > 0)
		*b++ = source;
}

static void drain(const uint8_t *b, uint8_t n)
{
	while (n-- > 0)
		sink = *b++;
}

int main(void)
{
	uint8_t k[32], u[32], out[65], msg[48], ad[16], tag[16], k2[32];
	int err;

	fill(k, 32);
	fill(u, 32);
	fill(msg, 48);
	fill(ad, 16);

	sd_sha256(out, msg, sizeof msg);
	sd_hmac_sha256(out, k, 32, msg, sizeof msg);
	err = sd_hkdf(out, 42, k, 32, msg, sizeof msg, ad, sizeof ad);
	sd_noise_hkdf(out, k2, u, k, msg, 32);
	drain(out, 32);

	sd_aead_chacha20poly1305_seal(msg, tag, k, u, ad, sizeof ad, msg, 32);
	err |= sd_aead_chacha20poly1305_open(msg, k, u, ad, sizeof ad, msg, 32, tag);
	sd_noise_chachapoly_encrypt(msg, k, 1, ad, sizeof ad, msg, 16);
	err |= sd_noise_chachapoly_decrypt(msg, k, 1, ad, sizeof ad, msg, 32);
	drain(msg, 32);

	err |= sd_x25519(out, k, u);
	sd_x25519_base(u, k);
	drain(out, 32);
	drain(u, 32);

	err |= sd_ecc_public(&sd_p256, out, k);
	err |= sd_ecdh(&sd_p256, u, k, out, SD_P256_POINT_LEN);
	err |= sd_ecc_public(&sd_secp160r1, out, k);
	err |= sd_ecdh(&sd_secp160r1, u, k, out, SD_SECP160R1_POINT_LEN);
	err |= sd_ecc_validate(&sd_p256, out, SD_P256_POINT_LEN);
	drain(u, 32);
	sd_wipe(k, sizeof k);
	sink = (uint8_t)err;
	for (;;)
		;
}
