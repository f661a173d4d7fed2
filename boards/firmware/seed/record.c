/* seed/record.c: AES-GCM records with counter nonces (seed and psk). */
#include "record.h"

#include <string.h>

#include "crypto/common.h"
#include "crypto/port.h"
#include "crypto/sha256.h"

#define COUNTER_MAX UINT64_MAX
#define LABEL_MAX_LEN 20 /* "shakedown seed v1", "shakedown psk v1" */
#define ID_MAX_LEN 64

/* nonce = 4B zero || 8B big-endian counter, then the counter moves on. */
static int next_nonce(sd_gcm_record *r, uint8_t nonce[SD_GCM_IV_LEN])
{
	unsigned i;

	if (r->n == COUNTER_MAX)
		return SD_ERR_LENGTH;
	memset(nonce, 0, SD_RECORD_NONCE_ZERO_LEN);
	for (i = 0; i < 8; i++)
		nonce[SD_RECORD_NONCE_ZERO_LEN + i] = (uint8_t)(r->n >> (56 - 8 * i));
	r->n++;
	return SD_OK;
}

int sd_gcm_record_seal(sd_gcm_record *r, uint8_t *ct,
		       uint8_t tag[SD_RECORD_TAG_LEN], const uint8_t *pt,
		       size_t len)
{
	uint8_t nonce[SD_GCM_IV_LEN];
	int err = next_nonce(r, nonce);

	if (err != SD_OK)
		return err;
	return sd_aes_gcm_seal(ct, tag, r->key, r->key_len, nonce, NULL, 0, pt, len);
}

int sd_gcm_record_open(sd_gcm_record *r, uint8_t *pt, const uint8_t *rec,
		       size_t rec_len)
{
	uint8_t nonce[SD_GCM_IV_LEN], tag[SD_RECORD_TAG_LEN];
	size_t len;
	int err;

	if (rec_len < SD_RECORD_TAG_LEN)
		return SD_ERR_LENGTH;
	err = next_nonce(r, nonce);
	if (err != SD_OK)
		return err;
	len = rec_len - SD_RECORD_TAG_LEN;
	/* The tag aside: an in-place open may wipe the buffer. */
	memcpy(tag, rec + len, sizeof tag);
	return sd_aes_gcm_open(pt, r->key, r->key_len, nonce, NULL, 0, rec, len, tag);
}

int sd_gcm_session_derive(sd_gcm_session *s, const char *label,
			  const uint8_t *ikm, size_t ikm_len,
			  const uint8_t *id, size_t id_len, size_t key_len)
{
	uint8_t info[LABEL_MAX_LEN + 1 + ID_MAX_LEN];
	uint8_t okm[2 * SD_AES256_KEY_LEN];
	size_t label_len = 0;
	int err;

	if (id_len > ID_MAX_LEN || (key_len != SD_AES128_KEY_LEN && key_len != SD_AES256_KEY_LEN))
		return SD_ERR_LENGTH;
	/* info = label || 0x00 || device ID; the label's NUL is the 0x00. */
	while ((info[label_len] = sd_rom_u8(label + label_len)) != 0)
		if (++label_len == LABEL_MAX_LEN)
			return SD_ERR_LENGTH;
	memcpy(info + label_len + 1, id, id_len);
	err = sd_hkdf(okm, 2 * key_len, NULL, 0, ikm, ikm_len, info,
		      label_len + 1 + id_len);
	if (err == SD_OK) {
		memset(s, 0, sizeof *s);
		memcpy(s->send.key, okm, key_len);
		memcpy(s->recv.key, okm + key_len, key_len);
		s->send.key_len = s->recv.key_len = (uint8_t)key_len;
	}
	sd_wipe(okm, sizeof okm);
	return err;
}
