/*
 * seed/seed.h: the device side of the seed profile (docs/protocol.md,
 * "The seed profile"), INSECURE BY DESIGN: the server's ephemeral point is
 * not authenticated, so whoever knows the device's public point can play
 * the server. It exists to reproduce the seed discussion's design on a
 * real chip, and it validates every point it receives (SEC 1 v2.0
 * §3.2.2.1) so that at least the invalid-curve attack fails.
 *
 *   msg1, device -> server:  1B version 0x01 | 1B curve | 1B idlen | id
 *   msg2, server -> device:  E = 0x04 || X || Y (65 B on P-256, 41 B on secp160r1)
 *   shared = x(d * E), field length, leading zeros kept
 *   OKM    = HKDF-SHA256(salt = "", IKM = shared,
 *                        info = "shakedown seed v1" || 0x00 || id, L = 32)
 *   k_ds = OKM[0:16], k_sd = OKM[16:32], AES-128-GCM records (record.h)
 *
 * Framing (the 2-byte length of every message) is the caller's.
 */
#ifndef SD_SEED_SEED_H
#define SD_SEED_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SD_SEED_VERSION 0x01
#define SD_SEED_CURVE_P256 0x01      /* msg1 curve code */
#define SD_SEED_CURVE_SECP160R1 0x02 /* msg1 curve code */
#define SD_SEED_MAX_ID_LEN 64
/* msg1: version, curve, idlen, then the ID. */
#define SD_SEED_MSG1_HEADER_LEN 3
#define SD_SEED_MSG1_MAX_LEN (SD_SEED_MSG1_HEADER_LEN + SD_SEED_MAX_ID_LEN)
#define SD_SEED_KEY_LEN 16 /* AES-128 */
#define SD_SEED_KDF_LABEL "shakedown seed v1"

/* A device ID may travel in msg1 (seed, psk): 1-64 bytes of
 * [A-Za-z0-9._-]. Returns 1 or 0. */
int sd_valid_device_id(const uint8_t *id, size_t len);

/* The point length of a seed curve code (65 or 41), 0 when unknown. */
size_t sd_seed_point_len(uint8_t curve_code);

/* Writes msg1 for curve_code and id into out (at most
 * SD_SEED_MSG1_MAX_LEN bytes) and returns its length; 0 (nothing written)
 * for an unknown curve or an invalid ID. */
size_t sd_seed_msg1(uint8_t *out, uint8_t curve_code, const uint8_t *id,
		    size_t id_len);

/*
 * The device's step 3-4: validates msg2's point E (SEC 1 v2.0 §3.2.2.1:
 * uncompressed encoding of the curve's length, coordinates below p, on the
 * curve) and computes shared = x(priv * E). priv is the curve's scalar
 * length (32 on P-256, 21 on secp160r1). shared gets 32 or 20 bytes.
 * Returns SD_OK, SD_ERR_LENGTH (msg2 is not one point long, or an unknown
 * curve), SD_ERR_POINT, SD_ERR_SCALAR or SD_ERR_LOW_ORDER.
 */
int sd_seed_agree(uint8_t curve_code, uint8_t *shared, const uint8_t *priv,
		  const uint8_t *msg2, size_t len);

/* The key schedule: s gets k_ds (send) and k_sd (recv), counters at 0. */
int sd_seed_derive(sd_gcm_session *s, const uint8_t *shared,
		   size_t shared_len, const uint8_t *id, size_t id_len);

#endif /* SD_SEED_SEED_H */
