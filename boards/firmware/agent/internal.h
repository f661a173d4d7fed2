/*
 * agent/internal.h: what the agent's files share; not for ports.
 */
#ifndef SD_AGENT_INTERNAL_H
#define SD_AGENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* What a command leaves to do once its response is out (agent.after). */
enum {
	AFTER_NONE,
	AFTER_START,       /* HANDSHAKE: run the profile's first message */
	AFTER_RELAY,       /* RELAY_DATA: process the relay buffer */
	AFTER_RELAY_CLOSE, /* RELAY_CLOSE: end of stream, reason in after_arg */
	AFTER_CLOSE,       /* CLOSE: end the run, send CLOSED */
	AFTER_SOFT_RESET,  /* RESET kind 0 */
	AFTER_REBOOT       /* RESET kind 1 */
};

/* The payload of the frame being built in tx. */
#define TX_PAYLOAD(a) ((a)->tx + BP_HEADER_LEN)

/* ---------------------------------------------------------------- frame.c */

/* §3.1 CRC-16/CCITT-FALSE over n bytes. */
uint16_t agent_crc16(const uint8_t *p, size_t n);
/* Returns where to build the payload of the next frame, after sending the
 * relay bytes queued there. Every frame is built through it. */
uint8_t *agent_tx(agent *a);
/* Sends the frame in tx: header, len payload bytes at TX_PAYLOAD, CRC; as
 * 0x00 | COBS(body) | 0x00 (§3.2). */
void agent_send(agent *a, uint8_t type, uint8_t seq, uint8_t len);
/* Sends the event in tx with the next event seq (§4.3). */
void agent_emit(agent *a, uint8_t type, uint8_t len);
/* Queues relay bytes for the host: RELAY_DATA events of at most
 * max_payload bytes each (§5.6). */
void agent_relay_out(agent *a, const uint8_t *p, size_t n);
/* Sends the queued relay bytes now. */
void agent_relay_flush(agent *a);

/* ---------------------------------------------------------------- log.c */

/* Appends a string kept in ROM (SD_ROM) to the log. */
void agent_log(agent *a, const char *rom);
/* Appends a number in decimal. */
void agent_log_num(agent *a, uint32_t v);
/* Fills the READ_LOG response body from cursor; returns its length. */
uint8_t agent_log_read(agent *a, uint8_t *out, uint32_t cursor, uint8_t cap);

/* ---------------------------------------------------------------- store.c */

/* Opens the storage at boot: formats it when it holds no agent data, counts
 * the boot, loads the message-1 counter. Returns 0 or -1. */
int store_boot(agent *a);
/* Hands out the next message-1 counter value, reserving a block of
 * AGENT_COUNTER_BLOCK values in storage first when the reserve is used up
 * (docs/protocol.md: persisted before message 1 is sent). 0 or -1. */
int store_counter_next(agent *a, uint64_t *out);
/* Sets the last counter used (PROVISION counter). 0 or -1. */
int store_counter_set(agent *a, uint64_t last);

/* Identity fields, per profile (BP_PROFILE_NOISE, _SEED, _PSK). */
enum {
	ID_HAS_ID = 0x01,
	ID_HAS_KEY = 0x02,
	ID_HAS_SERVER = 0x04,
	ID_HAS_NEXT = 0x08,
	ID_HAS_CURVE = 0x10,
	ID_HAS_PUB = 0x20 /* noise: the static public key is cached */
};
enum {
	ID_FIELD_ID,     /* 1B length | 64B device ID */
	ID_FIELD_KEY,    /* 1B length | 32B device private key */
	ID_FIELD_CURVE,  /* 1B BP_CURVE_* */
	ID_FIELD_PUB,    /* 32B static public key (noise) */
	ID_FIELD_SERVER, /* 32B pinned current server key (noise) */
	ID_FIELD_NEXT    /* 32B pinned next server key (noise) */
};
#define ID_MAX_LEN 64
#define ID_KEY_MAX 32

/* The present-field flags of profile's identity (0 when none or unreadable). */
uint8_t store_flags(uint8_t profile);
int store_set_flags(uint8_t profile, uint8_t flags);
/* Reads or writes a field; variable-length fields (ID, key) carry their
 * length in the first byte of the field. 0 or -1. */
int store_read(uint8_t profile, uint8_t field, uint8_t *out, uint8_t n);
int store_write(uint8_t profile, uint8_t field, const uint8_t *p, uint8_t n);
/* Reads a variable-length field: returns its length (0 on failure). */
uint8_t store_read_var(uint8_t profile, uint8_t field, uint8_t *out, uint8_t cap);
int store_write_var(uint8_t profile, uint8_t field, const uint8_t *p, uint8_t n);
/* Wipes every identity (PROVISION erase). 0 or -1. */
int store_erase(void);

/* ---------------------------------------------------------------- commands */

uint8_t agent_cmd_provision(agent *a, const uint8_t *p, uint8_t len);
uint8_t agent_cmd_bench(agent *a, const uint8_t *p, uint8_t len);
uint8_t agent_cmd_handshake(agent *a, const uint8_t *p, uint8_t len);
uint8_t agent_cmd_relay_data(agent *a, const uint8_t *p, uint8_t len);
uint8_t agent_cmd_relay_close(agent *a, const uint8_t *p, uint8_t len);
uint8_t agent_cmd_send(agent *a, uint8_t *p, uint8_t len);
uint8_t agent_cmd_close(agent *a, const uint8_t *p, uint8_t len);
/* run.c: the work a command left for after its response. */
void agent_run_after(agent *a, uint8_t after, uint8_t arg);
/* run.c: the handshake deadline. */
void agent_run_tick(agent *a);
/* run.c: ends any run silently and wipes its secrets (reset). */
void agent_run_drop(agent *a);

/* ---------------------------------------------------------------- bytes */

void put_be16(uint8_t *p, uint16_t v);
void put_be32(uint8_t *p, uint32_t v);
void put_be64(uint8_t *p, uint64_t v);
uint16_t get_be16(const uint8_t *p);
uint32_t get_be32(const uint8_t *p);
uint64_t get_be64(const uint8_t *p);

#endif /* SD_AGENT_INTERNAL_H */
