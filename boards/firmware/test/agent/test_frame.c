/*
 * test/agent/test_frame.c: the frame codec of the agent (agent/frame.c and
 * the receiver in agent/agent.c) against docs/board-protocol.md §3: the
 * CRC check value, the worked examples of §9 in both directions, COBS
 * blocks of every length up to the largest frame this build sends, and a
 * receiver that drops what is not a frame and resynchronises.
 */
#include <string.h>

#include "agent/internal.h"
#include "agent/port.h"
#include "testport.h"
#include "unit.h"
#include "vectors.h"

static agent a;

static void crc(void)
{
	ut_case = "CRC-16/CCITT-FALSE check value (§3.1)";
	CHECK(agent_crc16((const uint8_t *)"123456789", 9) == 0x29B1);
	CHECK(tp_crc16((const uint8_t *)"123456789", 9) == 0x29B1);
	CHECK(agent_crc16(NULL, 0) == 0xFFFF);
}

/* Every worked example: the agent's encoder writes its wire bytes from its
 * body, the test's encoder agrees, and the agent's receiver takes them. */
static void worked_examples(void)
{
	uint8_t body[300], wire[300], got[300];
	size_t i, bn, wn, gn, bad, pl;
	unsigned long rx;
	tp_frame f[4];

	for (i = 0; i < COUNT_OF(bp_frames); i++) {
		ut_case = bp_frames[i].name;
		bn = ut_unhex(body, sizeof body, bp_frames[i].body);
		wn = ut_unhex(wire, sizeof wire, bp_frames[i].wire);
		pl = body[3];
		if (pl > AGENT_MAX_PAYLOAD)
			continue; /* the example is larger than this build's frames */
		tp_reset();
		agent_boot(&a, BP_BOOT_POWER_ON);
		tp_raw(got, sizeof got);
		memcpy(a.tx + BP_HEADER_LEN, body + BP_HEADER_LEN, body[3]);
		agent_send(&a, body[1], body[2], body[3]);
		gn = tp_raw(got, sizeof got);
		CHECK_EQ_MEM(got, gn, wire, wn);
		gn = tp_encode(got, sizeof got, body[0], body[1], body[2], body + 4, body[3]);
		CHECK_EQ_MEM(got, gn, wire, wn);
		/* The receiver: responses and events are counted and ignored,
		 * commands answered. */
		rx = a.n[AGENT_N_FRAMES_RX];
		agent_rx(&a, wire, wn);
		CHECK(a.n[AGENT_N_FRAMES_RX] == rx + 1);
		CHECK(a.n[AGENT_N_BAD_FRAMES] == 0);
		if (body[1] <= BP_CMD_LAST) {
			CHECK(tp_take(f, 4, &bad) >= 1);
			CHECK(bad == 0 && f[0].type == (body[1] | BP_RESPONSE_BIT) && f[0].seq == body[2]);
		}
		(void)bn;
	}
}

/* COBS on bodies with runs of every length: 1..AGENT_MAX_PAYLOAD non-zero
 * bytes, zeros at the ends, all zeros. With max_payload 255 this reaches
 * the 0xFF blocks of 254 bytes. */
static void cobs_runs(void)
{
	uint8_t got[600];
	tp_frame f[2];
	size_t len, gn, bad, i, pattern;

	ut_case = "COBS blocks of every length";
	for (pattern = 0; pattern < 3; pattern++) {
		for (len = 0; len <= AGENT_MAX_PAYLOAD; len++) {
			tp_reset();
			agent_boot(&a, BP_BOOT_POWER_ON);
			tp_raw(got, sizeof got);
			for (i = 0; i < len; i++)
				a.tx[BP_HEADER_LEN + i] =
					pattern == 0 ? (uint8_t)(i % 255 + 1)
					: pattern == 1 ? (uint8_t)(i == 0 || i + 1 == len ? 0 : 0x5A)
						       : 0;
			agent_send(&a, BP_EVT_MESSAGE, (uint8_t)len, (uint8_t)len);
			gn = tp_raw(got, sizeof got);
			/* Delimiters only at the ends; at most one code byte per
			 * 254 bytes of overhead (§3.2). */
			CHECK(got[0] == 0 && got[gn - 1] == 0 && memchr(got + 1, 0, gn - 2) == NULL);
			CHECK(gn <= 2 + (4 + len + 2) + (4 + len + 2) / 254 + 1);
			port_write(got, gn);
			CHECK(tp_take(f, 2, &bad) == 1 && bad == 0);
			CHECK(f[0].len == len && memcmp(f[0].payload, a.tx + BP_HEADER_LEN, len) == 0);
			/* The agent's own receiver decodes it too. */
			agent_rx(&a, got, gn);
			CHECK(a.n[AGENT_N_FRAMES_RX] == 1 && a.n[AGENT_N_BAD_FRAMES] == 0);
		}
	}
}

/* §3.3: line noise, cut frames, bad CRCs, oversize chunks and non-canonical
 * encodings; the next good frame is always taken. */
static void receiver(void)
{
	static const uint8_t hello[2] = {1, 1};
	uint8_t wire[400], junk[300];
	tp_frame f[4];
	size_t wn, bad, i;

	ut_case = "receiver resynchronises";
	tp_reset();
	agent_boot(&a, BP_BOOT_POWER_ON);
	tp_take(f, 4, NULL);
	wn = tp_encode(wire, sizeof wire, 1, BP_CMD_HELLO, 1, hello, 2);

	/* A boot banner without delimiters, then the frame. */
	agent_rx(&a, (const uint8_t *)"\r\nets Jan  8 2013,rst cause:2\r\n", 30);
	agent_rx(&a, wire, wn);
	CHECK(tp_take(f, 4, &bad) == 1 && f[0].type == 0x81 && f[0].seq == 1);
	CHECK(a.n[AGENT_N_BAD_FRAMES] == 1);

	/* A frame cut in half (a reset of the host mid-frame), then a whole one. */
	agent_rx(&a, wire, wn / 2);
	agent_rx(&a, wire, wn);
	CHECK(tp_take(f, 4, &bad) == 1);
	CHECK(a.n[AGENT_N_BAD_FRAMES] == 2);

	/* A flipped bit anywhere in the encoded frame: never acted upon. */
	for (i = 1; i + 1 < wn; i++) {
		wire[i] ^= 0x04;
		agent_rx(&a, wire, wn);
		wire[i] ^= 0x04;
	}
	CHECK(tp_take(f, 4, &bad) == 0);
	CHECK(a.n[AGENT_N_BAD_FRAMES] == 2 + wn - 2);

	/* A chunk longer than any frame, then a good frame. */
	memset(junk, 0x33, sizeof junk);
	junk[0] = 0;
	agent_rx(&a, junk, sizeof junk);
	agent_rx(&a, wire, wn);
	CHECK(tp_take(f, 4, &bad) == 1);

	/* A block that runs past its chunk. */
	agent_rx(&a, (const uint8_t *)"\x00\x09\x01\x01\x00", 5);
	CHECK(tp_take(f, 4, &bad) == 0);

	/* Two delimiters in a row are an empty chunk, not a bad frame. */
	i = a.n[AGENT_N_BAD_FRAMES];
	agent_rx(&a, (const uint8_t *)"\x00\x00\x00", 3);
	CHECK(a.n[AGENT_N_BAD_FRAMES] == i);

#if AGENT_MAX_PAYLOAD >= 248
	/* §3.2: a decoder accepts the empty block after a final 0xFF block.
	 * A body of 254 non-zero bytes (payload 248) encodes as one 0xFF
	 * block; the non-canonical 01 after it adds nothing. */
	{
		uint8_t pl[248], seq = 1;
		size_t k;
		uint16_t c;

		for (;; seq++) {
			uint8_t hdr[4] = {1, BP_CMD_INFO, 0, 248};

			hdr[2] = seq;
			for (k = 0; k < sizeof pl; k++)
				pl[k] = (uint8_t)(k % 250 + 1);
			{
				uint8_t body[252];

				memcpy(body, hdr, 4);
				memcpy(body + 4, pl, sizeof pl);
				c = tp_crc16(body, sizeof body);
			}
			if ((c >> 8) != 0 && (c & 0xFF) != 0 && seq != 0)
				break;
		}
		wn = tp_encode(wire, sizeof wire, 1, BP_CMD_INFO, seq, pl, sizeof pl);
		CHECK(wn == 1 + 1 + 254 + 1 && wire[1] == 0xFF);
		wire[wn - 1] = 0x01;
		wire[wn] = 0x00;
		agent_rx(&a, wire, wn + 1);
		/* INFO with a payload: refused as BAD_LENGTH, so it was read. */
		CHECK(tp_take(f, 4, &bad) == 1 && f[0].type == 0x82 && f[0].payload[0] == BP_BAD_LENGTH);
	}
#endif
	wn = tp_encode(wire, sizeof wire, 1, BP_CMD_HELLO, 2, hello, 2);

	/* A partial chunk is dropped after 100 ms of silence (§3.3). */
	agent_rx(&a, wire, 4);
	tp_ms += AGENT_RX_IDLE_MS;
	i = a.n[AGENT_N_BAD_FRAMES];
	agent_tick(&a);
	CHECK(a.n[AGENT_N_BAD_FRAMES] == i + 1);
	agent_rx(&a, wire + 4, wn - 4); /* the rest alone is not a frame */
	CHECK(tp_take(f, 4, &bad) == 0);
	agent_rx(&a, wire, wn);
	CHECK(tp_take(f, 4, &bad) == 1 && f[0].seq == 2);

	/* A length field that disagrees with the body. */
	{
		uint8_t body[8] = {1, BP_CMD_HELLO, 3, 3, 1, 1}, enc[16];
		uint16_t c = tp_crc16(body, 6);
		size_t k, o = 0;

		/* A seq whose CRC has no zero byte, so the body has none. */
		while ((c >> 8) == 0 || (c & 0xFF) == 0) {
			body[2]++;
			c = tp_crc16(body, 6);
		}
		body[6] = (uint8_t)(c >> 8);
		body[7] = (uint8_t)c;
		/* Hand-encoded: no zero in this body. */
		enc[o++] = 0;
		enc[o++] = 9;
		for (k = 0; k < 8; k++)
			enc[o++] = body[k];
		enc[o++] = 0;
		i = a.n[AGENT_N_BAD_FRAMES];
		agent_rx(&a, enc, o);
		CHECK(a.n[AGENT_N_BAD_FRAMES] == i + 1);
		CHECK(tp_take(f, 4, &bad) == 0);
	}
}

void test_frame(void)
{
	crc();
	worked_examples();
	cobs_runs();
	receiver();
}
