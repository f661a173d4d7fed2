/*
 * noise/transport.c: the transport of the noise profile (docs/protocol.md,
 * "Transport"): one ChaChaPoly ciphertext per frame with empty associated
 * data, and REKEY (Noise rev. 34 §11.3) after every 65,536 messages of a
 * direction, n being kept.
 */
#include "noise.h"

#include <string.h>

#include "crypto/chachapoly.h"
#include "crypto/common.h"

#define NONCE_MAX UINT64_MAX

/* After a message, n counts the messages of this direction so far. */
static void after_message(sd_noise_cipher *cs)
{
	cs->n++;
	if (cs->n % SD_NOISE_REKEY_INTERVAL == 0)
		sd_noise_rekey(cs);
}

int sd_noise_transport_seal(sd_noise_cipher *cs, uint8_t *ct,
			    uint8_t tag[SD_NOISE_TAGLEN], const uint8_t *pt,
			    size_t len)
{
	uint8_t nonce[SD_CHACHA20_NONCE_LEN];

	if (!cs->has_key || cs->n == NONCE_MAX)
		return SD_ERR_LENGTH;
	sd_noise_chachapoly_nonce(nonce, cs->n);
	sd_aead_chacha20poly1305_seal(ct, tag, cs->k, nonce, NULL, 0, pt, len);
	after_message(cs);
	return SD_OK;
}

int sd_noise_transport_open(sd_noise_cipher *cs, uint8_t *pt,
			    const uint8_t *rec, size_t rec_len)
{
	int err;

	if (!cs->has_key || cs->n == NONCE_MAX || rec_len < SD_NOISE_TAGLEN)
		return SD_ERR_LENGTH;
	err = sd_noise_chachapoly_decrypt(pt, cs->k, cs->n, NULL, 0, rec, rec_len);
	if (err == SD_OK)
		after_message(cs);
	return err;
}
