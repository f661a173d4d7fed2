/*
 * test/agent/testport.h: agent/port.h for the host tests: storage in an
 * array (with injectable write failures), a clock the test sets, random
 * bytes the test queues, and the serial output captured and decoded into
 * frames by a decoder of the test's own (COBS and CRC written from
 * docs/board-protocol.md §3, independently of agent/frame.c).
 */
#ifndef SD_TEST_AGENT_TESTPORT_H
#define SD_TEST_AGENT_TESTPORT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"

#define TP_OUT_MAX 65536

extern uint8_t tp_nv[AGENT_NV_SIZE];
extern int tp_nv_fail_writes; /* > 0: that many writes from now fail ... */
extern int tp_nv_fail_after;  /* ... after this many more succeed */
extern uint32_t tp_ms;        /* port_millis */
extern uint32_t tp_cycles;    /* port_cycles: advances by TP_CYCLE_STEP per read */
#define TP_CYCLE_STEP 7u
extern int tp_random_fail;
/* port_random_seed: the last bytes given, how many, how many calls;
 * tp_seed_fail makes it fail (after keeping the bytes). */
#define TP_SEED_MAX 64
extern uint8_t tp_seed[TP_SEED_MAX];
extern size_t tp_seed_len;
extern int tp_seeds;
extern int tp_seed_fail;
extern uint8_t tp_random_status; /* port_random_status */

/* Erased storage, empty output, clock at 0, no queued randomness. */
void tp_reset(void);
/* The next port_random calls return these bytes first. */
void tp_random_queue(const uint8_t *p, size_t n);

/* The serial output since the last tp_take, as frames. */
typedef struct {
	uint8_t ver, type, seq, len;
	uint8_t payload[255];
} tp_frame;

/* Decodes the output captured so far into frames (at most cap); returns
 * how many, and how many chunks failed to decode in *bad. Clears the
 * output. */
size_t tp_take(tp_frame *out, size_t cap, size_t *bad);
/* The raw output since the last tp_take or tp_raw, cleared. */
size_t tp_raw(uint8_t *out, size_t cap);

/* Encodes a frame body as 0x00 | COBS | 0x00 with the test's own encoder. */
size_t tp_encode(uint8_t *wire, size_t cap, uint8_t ver, uint8_t type, uint8_t seq,
		 const uint8_t *payload, uint8_t len);
/* Sends a version-1 command to the agent; returns agent_rx's result. */
unsigned tp_command(agent *a, uint8_t type, uint8_t seq, const uint8_t *payload, uint8_t len);

uint16_t tp_crc16(const uint8_t *p, size_t n);

#endif /* SD_TEST_AGENT_TESTPORT_H */
