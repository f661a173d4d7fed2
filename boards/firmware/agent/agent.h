/*
 * agent/agent.h: the board agent of docs/board-protocol.md in C99: the
 * frame codec (COBS, CRC-16/CCITT-FALSE), the commands, the device side of
 * the noise (IK), seed and psk profiles in relay mode, the persistent
 * message-1 counter, counters and log.
 *
 * Everything lives in one struct the port allocates statically; nothing is
 * allocated, secrets are wiped when a handshake or session ends, and the
 * chip-specific part is agent/port.h. Use:
 *
 *	static agent the_agent;
 *	agent_boot(&the_agent, BP_BOOT_POWER_ON);   // sends BOOT
 *	for (;;) {
 *		n = uart_read(buf, sizeof buf);       // whatever arrived
 *		if (agent_rx(&the_agent, buf, n) & AGENT_ACT_REBOOT)
 *			reboot_the_chip();
 *		agent_tick(&the_agent);
 *	}
 *
 * Sizes are compile-time choices (below). The defaults fit the RAM of an
 * ATmega328P: max_payload 128 as §10 of the protocol recommends, a relay buffer
 * that holds noise message 2 (115 bytes on the wire) and, in a session,
 * one record of up to AGENT_RELAY_LEN - 18 bytes of application data; a
 * longer record from the server ends the session with oversize_frame.
 */
#ifndef SD_AGENT_AGENT_H
#define SD_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "noise/noise.h"
#include "proto.h"
#include "seed/record.h"

/* ---------------------------------------------------------------- profiles */

/* The profiles this firmware carries, 1 or 0 each. With all three and
 * BENCH the agent takes about 41 KB of AVR flash with plain avr-gcc -Os
 * (before the port; `make -f agent.mk size-agent-avr`); the ATmega328P
 * image of `make agents` carries all three in 31.7 KB of its 32 KB only
 * with link-time optimisation and the compact crypto (agent.mk,
 * AGENT_AVR_CHIP_FLAGS). A profile left out is UNSUPPORTED in PROVISION
 * and HANDSHAKE and absent from INFO; BENCH keeps the curves and AEADs
 * still linked. */
#ifndef AGENT_NOISE
#define AGENT_NOISE 1
#endif
#ifndef AGENT_SEED
#define AGENT_SEED 1 /* P-256, secp160r1, AES-128-GCM */
#endif
#ifndef AGENT_PSK
#define AGENT_PSK 1 /* AES-256-GCM */
#endif
#ifndef AGENT_BENCH
#define AGENT_BENCH 1 /* BENCH; without it, UNKNOWN_COMMAND */
#endif
/* Network mode (§5.5): the board connects to the server itself through
 * port/net.h. Only a port with a network builds it (the host port). */
#ifndef AGENT_NETWORK
#define AGENT_NETWORK 0
#endif
#if !AGENT_NOISE && !AGENT_SEED && !AGENT_PSK
#error "the agent needs at least one profile"
#endif
#define AGENT_GCM (AGENT_SEED || AGENT_PSK)

/* Whether this firmware carries profile p (a BP_PROFILE_* code). */
#define AGENT_HAS_PROFILE(p)                                   \
	(((p) == BP_PROFILE_NOISE && AGENT_NOISE) ||           \
	 ((p) == BP_PROFILE_SEED && AGENT_SEED) ||             \
	 ((p) == BP_PROFILE_PSK && AGENT_PSK))

/* ---------------------------------------------------------------- sizes */

#ifndef AGENT_MAX_PAYLOAD
#define AGENT_MAX_PAYLOAD 128 /* announced in HELLO, INFO and BOOT: 64-255 */
#endif
#ifndef AGENT_RELAY_LEN
#define AGENT_RELAY_LEN 160 /* relay bytes the board stores; credit at most this */
#endif
#ifndef AGENT_LOG_LEN
#define AGENT_LOG_LEN 64 /* the log ring */
#endif
#ifndef AGENT_HANDSHAKE_TIMEOUT_MS
#define AGENT_HANDSHAKE_TIMEOUT_MS 10000u /* §7: the board's default deadline */
#endif
#ifndef AGENT_RX_IDLE_MS
#define AGENT_RX_IDLE_MS 100u /* §7: silence after which a partial chunk is dropped */
#endif
#ifndef AGENT_COUNTER_BLOCK
#define AGENT_COUNTER_BLOCK 16u /* message-1 counter values reserved per storage write */
#endif

#if AGENT_MAX_PAYLOAD < BP_MIN_PAYLOAD_LIMIT || AGENT_MAX_PAYLOAD > BP_MAX_PAYLOAD
#error "AGENT_MAX_PAYLOAD must be 64-255 (docs/board-protocol.md §5.1)"
#endif
/* The relay buffer holds a whole handshake message: noise message 2 is the
 * longest, 2 + 113 bytes. */
#if AGENT_RELAY_LEN < 2 + SD_NOISE_IK_MSG2_LEN || AGENT_RELAY_LEN > 65535
#error "AGENT_RELAY_LEN must hold noise message 2 (115 bytes)"
#endif

/* A frame body: header, payload, CRC (§3.1). */
#define AGENT_BODY_LEN (BP_HEADER_LEN + AGENT_MAX_PAYLOAD + BP_CRC_LEN)

/* The agent's non-volatile storage, in bytes (agent/store.h has the layout). */
#define AGENT_NV_SIZE 640u

/* agent_rx results: what the port must do. */
#define AGENT_ACT_REBOOT 0x01 /* RESET kind 1: reboot the chip (watchdog) */

/* Counters kept in RAM (§5.8), 32 bits each; reported as 64. */
enum {
	AGENT_N_FRAMES_RX,
	AGENT_N_FRAMES_TX,
	AGENT_N_BAD_FRAMES,
	AGENT_N_HANDSHAKES,
	AGENT_N_HANDSHAKES_OK,
	AGENT_N_HANDSHAKES_FAILED,
	AGENT_N_MESSAGES_SENT,
	AGENT_N_MESSAGES_RECEIVED,
	AGENT_N_RELAY_RX,
	AGENT_N_RELAY_TX,
	AGENT_N_COUNTERS
};

/* The secrets of a run: a handshake in progress or the session after it.
 * Only one exists at a time. */
typedef union {
#if AGENT_NOISE
	sd_noise_ik noise_hs; /* noise, until message 2 is read */
	struct {
		sd_noise_cipher send; /* device -> server */
		sd_noise_cipher recv; /* server -> device */
	} noise;              /* noise session */
#endif
#if AGENT_GCM
	sd_gcm_session gcm;   /* seed and psk sessions */
#endif
} agent_secrets;

typedef struct {
	/* Receiving: the chunk between two delimiters, COBS-decoded into rx
	 * as it arrives (§3.3). */
	uint8_t rx[AGENT_BODY_LEN];
	uint16_t rx_len;     /* decoded bytes so far */
	uint8_t rx_code;     /* bytes left in the current COBS block */
	uint8_t rx_flags;    /* AGENT_RX_* of agent.c */
	uint32_t rx_last_ms; /* when the last byte of the chunk arrived */

	/* Sending: one frame body at a time, COBS-encoded as it is written. */
	uint8_t tx[AGENT_BODY_LEN];
	uint8_t tx_fill;   /* relay bytes waiting in tx for their RELAY_DATA event */
	uint8_t ev_seq;    /* seq of the next event (§4.3) */

	/* The last command executed, for retransmissions (§4.2). */
	uint8_t last_valid, last_type, last_seq, last_status;
	uint8_t resp_len;  /* body bytes a handler put after the status */
	uint8_t after;     /* what to do once the response is out */
	uint8_t after_arg;

	uint8_t prov_profile; /* profile of the last PROVISION since boot */

	/* The run: a relay-mode handshake and the session after it. */
	uint8_t state;   /* BP_STATE_* */
	uint8_t profile; /* BP_PROFILE_* of the run */
	uint8_t stage;   /* BP_STAGE_* the run is in */
	uint8_t curve;   /* seed: the run's curve (BP_CURVE_*) */
	uint16_t relay_fill; /* bytes in relay */
	uint16_t credit;     /* relay credit granted and not yet used */
	uint32_t deadline_ms;
	uint32_t hs_total, hs_crypto; /* cost units of the handshake */
	uint16_t hs_sent, hs_recv;    /* handshake bytes on the wire */
	uint64_t hs_counter;          /* the message-1 counter sent */
	uint8_t relay[AGENT_RELAY_LEN];
#if AGENT_NETWORK
	/* Network mode: the run's own connection (port/net.h), and the
	 * server HANDSHAKE named until it is dialled. */
	uint8_t net_mode;  /* the run is in network mode */
	uint8_t net_open;  /* net_sock is a connection of port/net.h */
	uint8_t net_failed; /* a write to it failed */
	int net_sock;
	uint16_t net_port;
	char net_host[BP_HOST_MAX + 1];
#endif
	agent_secrets sec;

	/* The message-1 counter (noise): the last value used, and the
	 * highest value reserved in storage. */
	uint64_t counter_last, counter_reserved;
	uint8_t counter_ok; /* storage gave a counter: noise may run */

	uint32_t boot_count;
	uint32_t boot_ms;
	uint32_t n[AGENT_N_COUNTERS];
	uint8_t last_failure;

	/* The log ring: position log_next is the next byte ever logged. */
	uint8_t log[AGENT_LOG_LEN];
	uint32_t log_next;
} agent;

/* Boots the agent: clears every volatile field, opens the storage (boot
 * count + 1) and sends BOOT with reason (BP_BOOT_*). */
void agent_boot(agent *a, uint8_t reason);

/* Feeds bytes received from the serial line. Returns AGENT_ACT_* bits; on
 * AGENT_ACT_REBOOT the rest of p was not read and the port reboots. */
unsigned agent_rx(agent *a, const uint8_t *p, size_t n);

/* Time-driven work: the handshake deadline, dropping a stalled chunk. */
void agent_tick(agent *a);

#endif /* SD_AGENT_AGENT_H */
