/*
 * agent/frame.c: sending frames (docs/board-protocol.md §3): the body is
 * built in agent.tx and COBS-encoded while it is written, block by block,
 * so no second buffer holds the encoding. Relay bytes for the host gather
 * in tx until an event is full or another frame must go out.
 */
#include <string.h>

#include "internal.h"
#include "port.h"

uint16_t agent_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = BP_CRC_INIT;
	unsigned i;

	while (n-- > 0) {
		crc ^= (uint16_t)(*p++ << 8);
		for (i = 0; i < 8; i++)
			crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ BP_CRC_POLY)
					      : (uint16_t)(crc << 1);
	}
	return crc;
}

/* §3.2: each block is a code byte (1 + the non-zero bytes that follow)
 * then those bytes; a code of 0xFF holds 254 bytes and no zero; the zero
 * implied by the last block is dropped, and no empty block follows a
 * final 0xFF block. */
static void write_cobs(const uint8_t *body, size_t n)
{
	size_t i = 0, j;
	uint8_t code;

	for (;;) {
		j = i;
		while (j < n && body[j] != 0 && j - i < BP_COBS_MAX_RUN)
			j++;
		code = (uint8_t)(j - i + 1);
		port_write(&code, 1);
		port_write(body + i, j - i);
		if (j - i == BP_COBS_MAX_RUN) {
			i = j;
			if (i == n)
				break;
			continue;
		}
		if (j == n)
			break;
		i = j + 1; /* the zero the code stands for */
	}
}

static void send_body(agent *a, uint8_t type, uint8_t seq, uint8_t len)
{
	uint16_t crc;
	uint8_t code;
	size_t n = BP_HEADER_LEN + (size_t)len;

	a->tx[BP_OFF_VER] = BP_VERSION;
	a->tx[BP_OFF_TYPE] = type;
	a->tx[BP_OFF_SEQ] = seq;
	a->tx[BP_OFF_LEN] = len;
	crc = agent_crc16(a->tx, n);
	put_be16(a->tx + n, crc);
	n += BP_CRC_LEN;
	/* 0x00 | COBS(body) | 0x00: the leading delimiter ends whatever the
	 * line carried before. */
	code = BP_DELIMITER;
	port_write(&code, 1);
	write_cobs(a->tx, n);
	port_write(&code, 1);
	a->n[AGENT_N_FRAMES_TX]++;
}

void agent_relay_flush(agent *a)
{
	uint8_t n = a->tx_fill;

	if (n == 0)
		return;
	a->tx_fill = 0;
	send_body(a, BP_EVT_RELAY_DATA, a->ev_seq++, n);
	a->n[AGENT_N_RELAY_TX] += n;
}

uint8_t *agent_tx(agent *a)
{
	/* Relay bytes already queued go first: the new frame is built over
	 * them. */
	agent_relay_flush(a);
	return TX_PAYLOAD(a);
}

void agent_send(agent *a, uint8_t type, uint8_t seq, uint8_t len)
{
	send_body(a, type, seq, len);
}

void agent_emit(agent *a, uint8_t type, uint8_t len)
{
	agent_send(a, type, a->ev_seq++, len);
}

void agent_relay_out(agent *a, const uint8_t *p, size_t n)
{
	size_t room;

	while (n > 0) {
		room = AGENT_MAX_PAYLOAD - a->tx_fill;
		if (room > n)
			room = n;
		memcpy(TX_PAYLOAD(a) + a->tx_fill, p, room);
		a->tx_fill = (uint8_t)(a->tx_fill + room);
		p += room;
		n -= room;
		if (a->tx_fill == AGENT_MAX_PAYLOAD)
			agent_relay_flush(a);
	}
}
