/*
 * agent/agent.c: boot, receiving and checking frames (docs/board-protocol.md
 * §3.3), the command dispatcher with its retransmission rule (§4.2), and
 * the commands that only read: HELLO, INFO, READ_COUNTERS, READ_LOG,
 * RESET.
 */
#include <string.h>

#include "crypto/common.h"
#include "crypto/port.h"
#include "internal.h"
#include "port.h"

/* agent.rx_flags */
#define RX_IN_CHUNK 0x01  /* bytes arrived since the last delimiter */
#define RX_ZERO 0x02      /* the current block implies a zero after it */
#define RX_INVALID 0x04   /* the chunk can no longer be a frame */

#define FIRMWARE_NAME "shakedown agent 0.1.0"

static const char firmware_name[] SD_ROM = FIRMWARE_NAME;
static const char log_boot[] SD_ROM = "boot ";
static const char log_nl[] SD_ROM = "\n";

void agent_boot(agent *a, uint8_t reason)
{
	uint8_t *p;

	/* Nothing survives a boot but what storage holds. */
	sd_wipe(a, sizeof *a);
	a->boot_ms = port_millis();
	store_boot(a);
	/* BOOT, seq 0, before any other output (§5.9). */
	p = agent_tx(a);
	p[0] = reason;
	p[1] = BP_VERSION;
	p[2] = AGENT_MAX_PAYLOAD;
	put_be32(p + 3, a->boot_count);
	agent_emit(a, BP_EVT_BOOT, BP_BOOT_LEN);
	agent_log(a, log_boot);
	agent_log_num(a, a->boot_count);
	agent_log(a, log_nl);
}

/* ---------------------------------------------------------------- commands */

static uint8_t cmd_hello(agent *a, const uint8_t *p, uint8_t len)
{
	uint8_t *r = TX_PAYLOAD(a) + 1;

	if (len != BP_HELLO_REQ_LEN)
		return BP_BAD_LENGTH;
	if (p[0] > BP_VERSION || p[1] < BP_VERSION)
		return BP_UNSUPPORTED_VERSION;
	/* 1B version | 1B max_payload | 1B state | 4B boot_count */
	r[0] = BP_VERSION;
	r[1] = AGENT_MAX_PAYLOAD;
	r[2] = a->state;
	put_be32(r + 3, a->boot_count);
	a->resp_len = BP_HELLO_RSP_LEN;
	return BP_OK;
}

/* Appends an INFO string of at most cap bytes: 1B length | text. */
static uint8_t *put_string(uint8_t *r, uint8_t which, uint8_t cap)
{
	uint8_t n, i;

	if (which == 0xFF) {
		for (n = 0; n < cap && n < sizeof firmware_name - 1; n++)
			r[1 + n] = sd_rom_u8(firmware_name + n);
	} else {
		n = port_string(which, r + 1, cap);
		if (n > cap)
			n = cap;
		for (i = 0; i < n; i++)
			if (r[1 + i] < 0x20 || r[1 + i] > 0x7E)
				r[1 + i] = '?'; /* §5.2: printable ASCII only */
	}
	r[0] = n;
	return r + 1 + n;
}

static uint8_t cmd_info(agent *a, uint8_t len)
{
	uint8_t *r = TX_PAYLOAD(a) + 1, *end;
	/* §5.2: the four strings must fit max_payload; each gets a quarter of
	 * what remains when 32 bytes each would not fit. */
	uint8_t room = (uint8_t)((AGENT_MAX_PAYLOAD - 1 - BP_INFO_FIXED_LEN - 4) / 4);
	uint8_t cap = room < BP_INFO_STRING_MAX ? room : BP_INFO_STRING_MAX;

	if (len != 0)
		return BP_BAD_LENGTH;
	r[0] = BP_VERSION;
	r[1] = AGENT_MAX_PAYLOAD;
	/* port.h's PORT_RANDOM_ bits are the caps' own. */
	r[2] = (uint8_t)(BP_CAP_RELAY | BP_CAP_STORAGE | (AGENT_NETWORK ? BP_CAP_NETWORK : 0) |
			 (port_random_status() & (BP_CAP_ENTROPY | BP_CAP_SEEDED)));
	put_be32(r + 3, port_clock_hz());
	r[7] = port_cost_unit();
	/* What this build carries (agent.h); BENCH covers the same curves
	 * and AEADs. */
	r[8] = (uint8_t)((AGENT_NOISE ? BP_BIT(BP_PROFILE_NOISE) : 0) |
			 (AGENT_SEED ? BP_BIT(BP_PROFILE_SEED) : 0) |
			 (AGENT_PSK ? BP_BIT(BP_PROFILE_PSK) : 0));
	r[9] = (uint8_t)(BP_BIT(BP_CURVE_X25519) |
			 (AGENT_SEED ? BP_BIT(BP_CURVE_P256) | BP_BIT(BP_CURVE_SECP160R1) : 0));
	r[10] = (uint8_t)(BP_BIT(BP_AEAD_CHACHAPOLY) |
			  (AGENT_GCM ? BP_BIT(BP_AEAD_AES128GCM) | BP_BIT(BP_AEAD_AES256GCM) : 0));
	end = put_string(r + BP_INFO_FIXED_LEN, PORT_STRING_BOARD, cap);
	end = put_string(end, PORT_STRING_CHIP, cap);
	end = put_string(end, 0xFF, cap);
	end = put_string(end, PORT_STRING_SERIAL, cap);
	a->resp_len = (uint8_t)(end - r);
	return BP_OK;
}

#if PORT_RANDOM_ENTROPY != BP_CAP_ENTROPY || PORT_RANDOM_SEEDED != BP_CAP_SEEDED
#error "port.h's PORT_RANDOM_ bits must be INFO's caps"
#endif

/* Appends one READ_COUNTERS entry, 1B id | 8B value, when it fits. */
static uint8_t put_counter(uint8_t *r, uint8_t n, uint8_t id, uint64_t v)
{
	if (n >= (AGENT_MAX_PAYLOAD - 1) / BP_COUNTER_ENTRY_LEN)
		return n;
	r += n * BP_COUNTER_ENTRY_LEN;
	r[0] = id;
	put_be64(r + 1, v);
	return (uint8_t)(n + 1);
}

static uint8_t cmd_read_counters(agent *a, uint8_t len)
{
	/* §5.8: ids 1-13, stack_free (14) where the port measures it, and
	 * uptime (15). With max_payload 128 only 14 entries fit the 127
	 * bytes after the status: a board that measures its stack leaves
	 * uptime out. */
	static const uint8_t volatile_ids[AGENT_N_COUNTERS] SD_ROM = {
		BP_C_FRAMES_RX, BP_C_FRAMES_TX, BP_C_BAD_FRAMES, BP_C_HANDSHAKES,
		BP_C_HANDSHAKES_OK, BP_C_HANDSHAKES_FAILED, BP_C_MESSAGES_SENT,
		BP_C_MESSAGES_RECEIVED, BP_C_RELAY_BYTES_RX, BP_C_RELAY_BYTES_TX};
	uint8_t *r = TX_PAYLOAD(a) + 1;
	uint8_t n, i;
	uint16_t peak, least_free;

	if (len != 0)
		return BP_BAD_LENGTH;
	n = put_counter(r, 0, BP_C_BOOTS, a->boot_count);
	n = put_counter(r, n, BP_C_MESSAGE_COUNTER, a->counter_last);
	for (i = 0; i < AGENT_N_COUNTERS; i++)
		n = put_counter(r, n, sd_rom_u8(volatile_ids + i), a->n[i]);
	n = put_counter(r, n, BP_C_LAST_FAILURE_REASON, a->last_failure);
	if (port_stack_read(&peak, &least_free) == 0)
		n = put_counter(r, n, BP_C_STACK_FREE, least_free);
	n = put_counter(r, n, BP_C_UPTIME_MS, (uint32_t)(port_millis() - a->boot_ms));
	a->resp_len = (uint8_t)(n * BP_COUNTER_ENTRY_LEN);
	return BP_OK;
}

static uint8_t cmd_read_log(agent *a, const uint8_t *p, uint8_t len)
{
	if (len != BP_LOG_REQ_LEN)
		return BP_BAD_LENGTH;
	a->resp_len = agent_log_read(a, TX_PAYLOAD(a) + 1, get_be32(p),
				     AGENT_MAX_PAYLOAD - 1);
	return BP_OK;
}

static uint8_t cmd_reset(agent *a, const uint8_t *p, uint8_t len)
{
	if (len != 1)
		return BP_BAD_LENGTH;
	if (p[0] == BP_RESET_SOFT)
		a->after = AFTER_SOFT_RESET;
	else if (p[0] == BP_RESET_REBOOT)
		a->after = AFTER_REBOOT;
	else
		return BP_BAD_VALUE;
	return BP_OK;
}

/* §4.2: queries run again when retransmitted; other commands do not. */
static int is_query(uint8_t type)
{
	return type == BP_CMD_HELLO || type == BP_CMD_INFO || type == BP_CMD_BENCH ||
	       type == BP_CMD_READ_COUNTERS || type == BP_CMD_READ_LOG;
}

static uint8_t execute(agent *a, uint8_t type, uint8_t *p, uint8_t len)
{
	switch (type) {
	case BP_CMD_HELLO:
		return cmd_hello(a, p, len);
	case BP_CMD_INFO:
		return cmd_info(a, len);
	case BP_CMD_PROVISION:
		return agent_cmd_provision(a, p, len);
#if AGENT_BENCH
	case BP_CMD_BENCH:
		return agent_cmd_bench(a, p, len);
#endif
	case BP_CMD_HANDSHAKE:
		return agent_cmd_handshake(a, p, len);
	case BP_CMD_RELAY_DATA:
		return agent_cmd_relay_data(a, p, len);
	case BP_CMD_RELAY_CLOSE:
		return agent_cmd_relay_close(a, p, len);
	case BP_CMD_SEND:
		return agent_cmd_send(a, p, len);
	case BP_CMD_READ_COUNTERS:
		return cmd_read_counters(a, len);
	case BP_CMD_READ_LOG:
		return cmd_read_log(a, p, len);
	case BP_CMD_RESET:
		return cmd_reset(a, p, len);
	case BP_CMD_CLOSE:
		return agent_cmd_close(a, p, len);
	}
	return BP_UNKNOWN_COMMAND;
}

/* Sends the response: status, then resp_len body bytes already in place. */
static void respond(agent *a, uint8_t type, uint8_t seq, uint8_t status)
{
	uint8_t *r = agent_tx(a);

	r[0] = status;
	if (status != BP_OK && type != BP_CMD_PROVISION)
		a->resp_len = 0; /* §5: a refusal is the status byte alone */
	agent_send(a, (uint8_t)(type | BP_RESPONSE_BIT), seq, (uint8_t)(1 + a->resp_len));
}

/* Acts on one valid frame: the body is in rx. */
static unsigned dispatch(agent *a)
{
	uint8_t type = a->rx[BP_OFF_TYPE], seq = a->rx[BP_OFF_SEQ];
	uint8_t len = a->rx[BP_OFF_LEN], status, after, arg;
	uint8_t *p = a->rx + BP_HEADER_LEN;

	if (type < BP_CMD_FIRST || type > BP_CMD_LAST)
		return 0; /* responses and events have no business here */
	agent_relay_flush(a); /* tx is free from here on */
	if (a->rx[BP_OFF_VER] != BP_VERSION) {
		/* §4.4: a version-1 response saying so. */
		a->resp_len = 0;
		respond(a, type, seq, BP_UNSUPPORTED_VERSION);
		return 0;
	}
	if (a->last_valid && a->last_type == type && a->last_seq == seq && !is_query(type)) {
		/* §4.2: a retransmission: the remembered status, the rest of
		 * the body zero (PROVISION: tag 0). */
		a->resp_len = 0;
		if (type == BP_CMD_PROVISION) {
			TX_PAYLOAD(a)[1] = 0;
			a->resp_len = 1;
		}
		respond(a, type, seq, a->last_status);
		return 0;
	}
	a->resp_len = 0;
	a->after = AFTER_NONE;
	status = execute(a, type, p, len);
	if (type == BP_CMD_PROVISION)
		sd_wipe(a->rx, sizeof a->rx); /* it carried a private key */
	after = a->after;
	arg = a->after_arg;
	a->after = AFTER_NONE;
	respond(a, type, seq, status);
	a->last_valid = 1;
	a->last_type = type;
	a->last_seq = seq;
	a->last_status = status;
	if (status != BP_OK)
		return 0;
	switch (after) {
	case AFTER_NONE:
		break;
	case AFTER_SOFT_RESET:
		agent_run_drop(a);
		agent_boot(a, BP_BOOT_SOFT);
		break;
	case AFTER_REBOOT:
		agent_run_drop(a);
		return AGENT_ACT_REBOOT;
	default:
		agent_run_after(a, after, arg);
	}
	return 0;
}

/* ---------------------------------------------------------------- receiving */

/* §3.3: the chunk between two delimiters is complete: check it and act. */
static unsigned end_chunk(agent *a)
{
	uint16_t n = a->rx_len;
	uint8_t flags = a->rx_flags;

	a->rx_len = 0;
	a->rx_code = 0;
	a->rx_flags = 0;
	if (!(flags & RX_IN_CHUNK))
		return 0; /* two delimiters in a row: an empty chunk */
	if ((flags & RX_INVALID) || n < BP_MIN_BODY_LEN ||
	    a->rx[BP_OFF_LEN] != n - BP_MIN_BODY_LEN ||
	    agent_crc16(a->rx, (size_t)n - BP_CRC_LEN) != get_be16(a->rx + n - BP_CRC_LEN)) {
		a->n[AGENT_N_BAD_FRAMES]++;
		return 0;
	}
	a->n[AGENT_N_FRAMES_RX]++;
	return dispatch(a);
}

unsigned agent_rx(agent *a, const uint8_t *p, size_t n)
{
	uint8_t b;
	unsigned act;

	while (n-- > 0) {
		b = *p++;
		if (b == BP_DELIMITER) {
			/* A block still open when the chunk ends ran past it. */
			if (a->rx_code != 0)
				a->rx_flags |= RX_INVALID;
			a->rx_code = 0;
			act = end_chunk(a);
			if (act != 0)
				return act;
			continue;
		}
		a->rx_flags |= RX_IN_CHUNK;
		a->rx_last_ms = port_millis();
		if (a->rx_flags & RX_INVALID)
			continue; /* wait for the next delimiter */
		if (a->rx_code == 0) {
			/* A code byte: the previous block's zero, if it had
			 * one, comes first (the last block's is dropped). */
			if (a->rx_flags & RX_ZERO) {
				if (a->rx_len == AGENT_BODY_LEN) {
					a->rx_flags |= RX_INVALID;
					continue;
				}
				a->rx[a->rx_len++] = 0;
			}
			a->rx_code = (uint8_t)(b - 1);
			if (b == BP_COBS_FULL_CODE)
				a->rx_flags &= (uint8_t)~RX_ZERO;
			else
				a->rx_flags |= RX_ZERO;
			continue;
		}
		if (a->rx_len == AGENT_BODY_LEN) {
			/* Longer than any frame this agent takes. */
			a->rx_flags |= RX_INVALID;
			continue;
		}
		a->rx[a->rx_len++] = b;
		a->rx_code--;
	}
	return 0;
}

void agent_tick(agent *a)
{
	/* §3.3: a partial chunk may be dropped after 100 ms of silence. */
	if ((a->rx_flags & RX_IN_CHUNK) &&
	    (uint32_t)(port_millis() - a->rx_last_ms) >= AGENT_RX_IDLE_MS) {
		a->rx_len = 0;
		a->rx_code = 0;
		a->rx_flags = 0;
		a->n[AGENT_N_BAD_FRAMES]++;
	}
	agent_run_tick(a);
}
