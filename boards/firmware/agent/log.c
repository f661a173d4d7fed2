/*
 * agent/log.c: the agent's log (docs/board-protocol.md §5.8), a ring of
 * AGENT_LOG_LEN bytes of text lines. Every byte ever logged has a
 * position, counted from 0 at boot; READ_LOG reads from a position without
 * consuming. Lines come from fixed strings kept in ROM and numbers: nothing
 * received from the host or the server, and no key material, is logged.
 */
#include "crypto/port.h"
#include "internal.h"

#define LOG_NUM_DIGITS 10 /* 2^32 - 1 has 10 decimal digits */

static void log_byte(agent *a, uint8_t b)
{
	a->log[a->log_next % AGENT_LOG_LEN] = b;
	a->log_next++;
}

void agent_log(agent *a, const char *rom)
{
	uint8_t c;

	while ((c = sd_rom_u8(rom)) != 0) {
		log_byte(a, c);
		rom++;
	}
}

void agent_log_num(agent *a, uint32_t v)
{
	uint8_t d[LOG_NUM_DIGITS];
	unsigned n = 0;

	do {
		d[n++] = (uint8_t)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		log_byte(a, d[--n]);
}

uint8_t agent_log_read(agent *a, uint8_t *out, uint32_t cursor, uint8_t cap)
{
	uint32_t first = a->log_next > AGENT_LOG_LEN ? a->log_next - AGENT_LOG_LEN : 0;
	uint32_t n;
	uint8_t i;

	/* A position the ring overwrote (or one not yet written) reads from
	 * the oldest byte kept; first says so. */
	if (cursor < first || cursor > a->log_next)
		cursor = first;
	n = a->log_next - cursor;
	if (n > (uint32_t)cap - BP_LOG_RSP_FIXED_LEN)
		n = (uint32_t)cap - BP_LOG_RSP_FIXED_LEN;
	/* 4B first | 4B next | text */
	put_be32(out, cursor);
	put_be32(out + 4, cursor + n);
	for (i = 0; i < n; i++)
		out[BP_LOG_RSP_FIXED_LEN + i] = a->log[(cursor + i) % AGENT_LOG_LEN];
	return (uint8_t)(BP_LOG_RSP_FIXED_LEN + n);
}
