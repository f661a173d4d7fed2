/*
 * seed/psk.h: the device side of the psk profile (docs/protocol.md,
 * "Profile psk"), INSECURE BY DESIGN: the session keys depend on the
 * pre-shared key and the device ID only, so every session of a device
 * uses the same keys and nonces. Kept to reproduce the seed discussion's
 * simpler design.
 *
 *   msg1, device -> server (the only handshake message): 1B 0x01 | 1B idlen | id
 *   OKM  = HKDF-SHA256(salt = "", IKM = PSK,
 *                      info = "shakedown psk v1" || 0x00 || id, L = 64)
 *   k_ds = OKM[0:32], k_sd = OKM[32:64], AES-256-GCM records (record.h)
 */
#ifndef SD_SEED_PSK_H
#define SD_SEED_PSK_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SD_PSK_VERSION 0x01
#define SD_PSK_KEY_LEN 32
#define SD_PSK_MSG1_HEADER_LEN 2 /* version, idlen */
#define SD_PSK_MSG1_MAX_LEN (SD_PSK_MSG1_HEADER_LEN + 64)
#define SD_PSK_KDF_LABEL "shakedown psk v1"

/* Writes msg1 into out and returns its length; 0 for an invalid ID. */
size_t sd_psk_msg1(uint8_t *out, const uint8_t *id, size_t id_len);

/* The key schedule from the 32-byte PSK: s gets k_ds (send) and k_sd
 * (recv), counters at 0. SD_OK or SD_ERR_LENGTH (invalid ID). */
int sd_psk_derive(sd_gcm_session *s, const uint8_t psk[SD_PSK_KEY_LEN],
		  const uint8_t *id, size_t id_len);

#endif /* SD_SEED_PSK_H */
