/* seed/psk.c: the device side of the psk profile (see psk.h). */
#include "psk.h"

#include <string.h>

#include "crypto/common.h"
#include "crypto/port.h"
#include "seed.h"

static const char kdf_label[] SD_ROM = SD_PSK_KDF_LABEL;

size_t sd_psk_msg1(uint8_t *out, const uint8_t *id, size_t id_len)
{
	if (!sd_valid_device_id(id, id_len))
		return 0;
	/* 1B version | 1B idlen | idlen B device ID */
	out[0] = SD_PSK_VERSION;
	out[1] = (uint8_t)id_len;
	memcpy(out + SD_PSK_MSG1_HEADER_LEN, id, id_len);
	return SD_PSK_MSG1_HEADER_LEN + id_len;
}

int sd_psk_derive(sd_gcm_session *s, const uint8_t psk[SD_PSK_KEY_LEN],
		  const uint8_t *id, size_t id_len)
{
	if (!sd_valid_device_id(id, id_len))
		return SD_ERR_LENGTH;
	return sd_gcm_session_derive(s, kdf_label, psk, SD_PSK_KEY_LEN,
				     id, id_len, SD_AES256_KEY_LEN);
}
