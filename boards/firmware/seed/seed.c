/* seed/seed.c: the device side of the seed profile (see seed.h). */
#include "seed.h"

#include <string.h>

#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/port.h"

static const char kdf_label[] SD_ROM = SD_SEED_KDF_LABEL;

int sd_valid_device_id(const uint8_t *id, size_t len)
{
	size_t i;
	uint8_t b;

	if (len == 0 || len > SD_SEED_MAX_ID_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		b = id[i];
		if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
		      (b >= '0' && b <= '9') || b == '.' || b == '_' || b == '-'))
			return 0;
	}
	return 1;
}

static const sd_ecc_curve *curve_of(uint8_t code)
{
	switch (code) {
	case SD_SEED_CURVE_P256:
		return &sd_p256;
	case SD_SEED_CURVE_SECP160R1:
		return &sd_secp160r1;
	}
	return NULL;
}

size_t sd_seed_point_len(uint8_t curve_code)
{
	const sd_ecc_curve *c = curve_of(curve_code);

	return c != NULL ? sd_ecc_point_len(c) : 0;
}

size_t sd_seed_msg1(uint8_t *out, uint8_t curve_code, const uint8_t *id,
		    size_t id_len)
{
	if (curve_of(curve_code) == NULL || !sd_valid_device_id(id, id_len))
		return 0;
	/* 1B version | 1B curve | 1B idlen | idlen B device ID */
	out[0] = SD_SEED_VERSION;
	out[1] = curve_code;
	out[2] = (uint8_t)id_len;
	memcpy(out + SD_SEED_MSG1_HEADER_LEN, id, id_len);
	return SD_SEED_MSG1_HEADER_LEN + id_len;
}

int sd_seed_agree(uint8_t curve_code, uint8_t *shared, const uint8_t *priv,
		  const uint8_t *msg2, size_t len)
{
	const sd_ecc_curve *c = curve_of(curve_code);

	if (c == NULL || len != sd_ecc_point_len(c))
		return SD_ERR_LENGTH;
	/* sd_ecdh validates E before it touches priv (SEC 1 v2.0 §3.2.2.1). */
	return sd_ecdh(c, shared, priv, msg2, len);
}

int sd_seed_derive(sd_gcm_session *s, const uint8_t *shared,
		   size_t shared_len, const uint8_t *id, size_t id_len)
{
	if (shared_len != SD_P256_FIELD_LEN && shared_len != SD_SECP160R1_FIELD_LEN)
		return SD_ERR_LENGTH;
	return sd_gcm_session_derive(s, kdf_label, shared, shared_len,
				     id, id_len, SD_SEED_KEY_LEN);
}
