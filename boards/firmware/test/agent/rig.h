/*
 * test/agent/rig.h: a host for the agent in the tests: it numbers and
 * sends commands, sorts what comes back into the response and the events,
 * follows relay credit, and collects the relayed byte stream.
 */
#ifndef SD_TEST_AGENT_RIG_H
#define SD_TEST_AGENT_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "testport.h"

#define RIG_EVENTS 64
#define RIG_STREAM 4096

typedef struct {
	agent a;
	uint8_t seq;          /* seq of the next command */
	tp_frame rsp;         /* the last response */
	size_t events_before; /* events of the last command that preceded its response */
	tp_frame ev[RIG_EVENTS];
	size_t nev;           /* events since rig_clear */
	uint8_t next_ev_seq;  /* the event seq expected next */
	int ev_gap;           /* an event seq was skipped */
	size_t bad;           /* chunks of output that were not frames */
	uint32_t credit;      /* relay credit the board granted, not yet used */
	uint8_t stream[RIG_STREAM]; /* relay bytes from the board */
	size_t stream_len;
	unsigned act;         /* agent_rx's result of the last command */
} rig;

/* Erased storage, boot (power-on), BOOT taken. */
void rig_fresh(rig *r);
/* Boot again on the same storage (a reset). */
void rig_reboot(rig *r, uint8_t reason);
/* Forgets the events and the relayed stream. */
void rig_clear(rig *r);
/* Takes the output now waiting (events after a tick, say). */
void rig_take(rig *r);
/* Sends a command and returns its status (0xFF when no response came). */
uint8_t rig_cmd(rig *r, uint8_t type, const uint8_t *p, uint8_t len);
/* Sends the same command again with the same seq (a retransmission). */
uint8_t rig_retransmit(rig *r, uint8_t type, const uint8_t *p, uint8_t len);
/* Carries server bytes to the board within its credit; returns the first
 * status that was not OK, or 0. */
uint8_t rig_relay(rig *r, const uint8_t *p, size_t n, size_t chunk);
/* The first event of type since rig_clear, or NULL. */
const tp_frame *rig_event(const rig *r, uint8_t type);
/* How many events of type since rig_clear. */
size_t rig_count(const rig *r, uint8_t type);

/* PROVISION building: appends a TLV at p + *n. */
void tlv(uint8_t *p, uint8_t *n, uint8_t tag, const uint8_t *v, uint8_t len);
void tlv_byte(uint8_t *p, uint8_t *n, uint8_t tag, uint8_t v);
void tlv_u64(uint8_t *p, uint8_t *n, uint8_t tag, uint64_t v);

/* Provisions identities (status returned). */
uint8_t rig_provision_noise(rig *r, const uint8_t key[32], const uint8_t server[32], uint64_t counter);
uint8_t rig_provision_seed(rig *r, const char *id, uint8_t curve, const uint8_t *key, uint8_t klen);
uint8_t rig_provision_psk(rig *r, const char *id, const uint8_t key[32]);
/* Starts a relay handshake: HANDSHAKE relay profile, timeout 0. */
uint8_t rig_handshake(rig *r, uint8_t profile);

uint64_t be64(const uint8_t *p);

#endif /* SD_TEST_AGENT_RIG_H */
