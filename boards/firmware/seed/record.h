/*
 * seed/record.h: the record layer shared by the seed and psk profiles
 * (docs/protocol.md, "Records"): after the handshake every frame holds one
 * AES-GCM record (NIST SP 800-38D) without associated data,
 *
 *   2B  length L, big-endian
 *   L-16 B ciphertext
 *   16B tag
 *
 * under the key of its direction, with the 96-bit nonce
 *
 *   4B  00 00 00 00
 *   8B  record counter, big-endian, from 0 in each direction; never sent.
 *
 * The seed profile uses AES-128-GCM, psk AES-256-GCM. Framing is the
 * caller's.
 */
#ifndef SD_SEED_RECORD_H
#define SD_SEED_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/aesgcm.h"

#define SD_RECORD_TAG_LEN SD_GCM_TAG_LEN
#define SD_RECORD_NONCE_ZERO_LEN 4 /* the zero prefix of the nonce */

/* One direction: its key and the counter of its next record. */
typedef struct {
	uint8_t key[SD_AES256_KEY_LEN];
	uint8_t key_len; /* SD_AES128_KEY_LEN or SD_AES256_KEY_LEN */
	uint64_t n;
} sd_gcm_record;

/* A session: send is device -> server, recv server -> device. */
typedef struct {
	sd_gcm_record send;
	sd_gcm_record recv;
} sd_gcm_session;

/* Seals len bytes into ct (ct may equal pt) and tag with the next counter.
 * SD_OK, or SD_ERR_LENGTH when the counter is exhausted. */
int sd_gcm_record_seal(sd_gcm_record *r, uint8_t *ct,
		       uint8_t tag[SD_RECORD_TAG_LEN], const uint8_t *pt,
		       size_t len);

/* Opens rec = ciphertext || tag (rec_len >= 16) into pt (rec_len - 16
 * bytes; pt may equal rec) with the next counter, which is used up either
 * way: a failed record ends the session. SD_OK, SD_ERR_LENGTH or
 * SD_ERR_AUTH (pt zeroed). */
int sd_gcm_record_open(sd_gcm_record *r, uint8_t *pt, const uint8_t *rec,
		       size_t rec_len);

/*
 * The key schedule of both profiles (RFC 5869 §2, empty salt):
 *   OKM = HKDF-SHA256(IKM = ikm, info = label || 0x00 || id, L = 2 key_len)
 *   send key (device -> server) = OKM[0:key_len], recv key = the rest.
 * label is a NUL-terminated string kept in ROM (SD_ROM, crypto/port.h).
 * The counters start at 0. Returns SD_OK, or SD_ERR_LENGTH for an ID over
 * 64 bytes, a label over 20, or a key length AES does not take.
 */
int sd_gcm_session_derive(sd_gcm_session *s, const char *label,
			  const uint8_t *ikm, size_t ikm_len,
			  const uint8_t *id, size_t id_len, size_t key_len);

#endif /* SD_SEED_RECORD_H */
