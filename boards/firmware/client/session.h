/*
 * client/session.h: the device side of the noise profile over a byte
 * stream the device opens itself (board protocol network mode): the
 * handshake of docs/protocol.md ("noise": message 1 with the counter,
 * message 2 with the key announcement, each a 2-byte-length frame) and the
 * records after it, read as a byte stream that MQTT runs on.
 *
 * The stream is anything with a blocking send and a receive with a
 * deadline: port/net.h through port/common/net_stream.c, or an Arduino
 * Client& (arduino/ShakedownNoise). Nothing is allocated: the caller gives
 * the session its work buffer, which holds one whole frame (the handshake
 * needs SD_SESSION_BUF_MIN bytes; records up to the buffer less 18).
 *
 * Every function returns SD_SESSION_OK, a non-negative count, or a
 * negative code: the stream's own (PORT_NET_ERR_*, -1..-7) passed on, or
 * SD_SESSION_ERR_* below. s->stage says where a handshake failed.
 */
#ifndef SD_CLIENT_SESSION_H
#define SD_CLIENT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "noise/noise.h"

/* A byte stream. send writes all n bytes or fails; recv returns 1..cap
 * bytes, or a negative code, PORT_NET_ERR_TIMEOUT (-4) when timeout_ms
 * passed with nothing read, PORT_NET_ERR_CLOSED (-5) at the peer's close. */
typedef struct {
	void *ctx;
	int (*send)(void *ctx, const uint8_t *p, size_t n);
	int (*recv)(void *ctx, uint8_t *p, size_t cap, uint32_t timeout_ms);
} sd_stream;

#define SD_SESSION_OK 0
#define SD_SESSION_ERR_STATE (-16)    /* no session, or a handshake already done */
#define SD_SESSION_ERR_BUFFER (-17)   /* the work buffer cannot hold the frame */
#define SD_SESSION_ERR_FRAME (-18)    /* a frame of the wrong length (0, short or too long) */
#define SD_SESSION_ERR_AUTH (-19)     /* a message or record failed authentication */
#define SD_SESSION_ERR_POINT (-20)    /* a DH result of all zeros (pinned or peer key of small order) */
#define SD_SESSION_ERR_MALFORMED (-21) /* the key announcement is not version 1 with a current key */
#define SD_SESSION_ERR_COUNTER (-22)  /* a counter of 0 or 2^64-1 (docs/protocol.md, "Counter") */
#define SD_SESSION_ERR_NONCE (-23)    /* a direction's nonce is exhausted */

/* Stages of a failure, as the board protocol numbers them (§6.3). */
#define SD_SESSION_STAGE_NONE 0
#define SD_SESSION_STAGE_MSG1 3
#define SD_SESSION_STAGE_MSG2 4
#define SD_SESSION_STAGE_TRANSPORT 6

#define SD_SESSION_FRAME_HEADER 2 /* protocol.md "Framing": 2B length */
/* The largest handshake frame: message 2 with its header. */
#define SD_SESSION_BUF_MIN (SD_SESSION_FRAME_HEADER + SD_NOISE_IK_MSG2_LEN)

typedef struct {
	const sd_stream *io;
	uint8_t *buf;        /* one frame; the record being read */
	size_t buf_len;
	size_t rd, fill;     /* unread plaintext: buf[rd..fill) */
	sd_noise_cipher tx;  /* device -> server (Split's c1) */
	sd_noise_cipher rx;  /* server -> device (c2) */
	uint8_t open;        /* a handshake succeeded and nothing failed since */
	uint8_t stage;       /* SD_SESSION_STAGE_* of the last failure */
} sd_session;

/* The keys of one handshake. */
typedef struct {
	const uint8_t *device_key;  /* 32: the device's static private key */
	const uint8_t *device_pub;  /* 32: its public key */
	const uint8_t *server_pub;  /* 32: the pinned server static key */
	const uint8_t *ephemeral;   /* 32 fresh random bytes, used once */
	uint64_t counter;           /* message-1 counter, stored in NV before the call */
} sd_session_keys;

void sd_session_init(sd_session *s, const sd_stream *io, uint8_t *buf,
		     size_t buf_len);

/*
 * -> e, es, s, ss (payload: the counter); <- e, ee, se (payload: the key
 * announcement), each frame within timeout_ms of the stream's receive.
 * On success announcement (when not NULL) gets the 65 bytes of message 2's
 * payload, the device should pin its keys (protocol.md, "What the device
 * checks in message 2", step 5), and the session is open.
 */
int sd_session_handshake(sd_session *s, const sd_session_keys *k,
			 uint8_t announcement[SD_NOISE_ANNOUNCEMENT_LEN],
			 uint32_t timeout_ms);

/* Where a record's plaintext can be written in place, *room bytes of it
 * (buf_len - 18): then sd_session_write(s, that, n) seals it there. room
 * is 0 while bytes of a received record are still unread (they live in
 * the same buffer) or before the handshake. */
uint8_t *sd_session_record(sd_session *s, size_t *room);

/* Sends n bytes (1..buf_len - 18) as one record; p may be the space
 * sd_session_record gave. SD_SESSION_ERR_BUFFER while bytes of a received
 * record are unread. */
int sd_session_write(sd_session *s, const uint8_t *p, size_t n);

/* Reads 1..cap bytes of the server's stream: what is left of the current
 * record, or the next record, waiting timeout_ms for it. */
int sd_session_read(sd_session *s, uint8_t *p, size_t cap, uint32_t timeout_ms);

/* Wipes the keys and the buffer; the stream is the caller's to close. */
void sd_session_close(sd_session *s);

#endif /* SD_CLIENT_SESSION_H */
