/*
 * test/agent/test_sessions.c: relay-mode handshakes and sessions of the
 * agent, driven through its serial line with the profiles' vectors. The
 * agent must put the vectors' exact bytes in its RELAY_DATA events (the
 * noise ephemeral is the vector's, fed through port_random), accept the
 * server's messages from the vectors, and report every failure with the
 * reason and stage of docs/board-protocol.md §6.2-6.3.
 */
#include <string.h>

#include "agent/internal.h"
#include "crypto/common.h"
#include "crypto/x25519.h"
#include "noise/noise.h"
#include "rig.h"
#include "seed/psk.h"
#include "seed/seed.h"
#include "unit.h"
#include "vectors.h"

static rig r;

/* The noise identity of the vector, with the counter just below its. */
static void noise_ready(uint64_t counter_below)
{
	uint8_t key[32], server[32], e[32];

	rig_fresh(&r);
	ut_unhex(key, sizeof key, noise_init_static);
	ut_unhex(server, sizeof server, noise_init_remote_static);
	ut_unhex(e, sizeof e, noise_init_ephemeral);
	CHECK(rig_provision_noise(&r, key, server, counter_below) == BP_OK);
	tp_random_queue(e, sizeof e);
}

/* A HANDSHAKE_DONE's fields. */
static uint8_t done_result(void)
{
	const tp_frame *f = rig_event(&r, BP_EVT_HANDSHAKE_DONE);

	return f != NULL ? f->payload[0] : 0xFF;
}

static uint8_t done_stage(void)
{
	const tp_frame *f = rig_event(&r, BP_EVT_HANDSHAKE_DONE);

	return f != NULL ? f->payload[1] : 0xFF;
}

static uint8_t closed_reason(void)
{
	const tp_frame *f = rig_event(&r, BP_EVT_CLOSED);

	return f != NULL && f->len == 1 ? f->payload[0] : 0xFF;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = (const uint8_t *)p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

static void noise_vector(void)
{
	uint8_t want[200], msg[200], got[64], next[32];
	size_t wn, n;
	const tp_frame *f;

	ut_case = "agent noise: message 1 is the vector's";
	noise_ready(NOISE_COUNTER - 1);
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	CHECK(r.events_before == 0); /* the response comes first (§5.5) */
	wn = ut_unhex(want + 2, sizeof want - 2, noise_messages[0].ciphertext);
	want[0] = 0;
	want[1] = (uint8_t)wn;
	CHECK_EQ_MEM(r.stream, r.stream_len, want, wn + 2);
	f = rig_event(&r, BP_EVT_RELAY_CREDIT);
	CHECK(f != NULL && r.credit == AGENT_RELAY_LEN);
	CHECK(r.a.state == BP_STATE_HANDSHAKE);
	CHECK(!r.ev_gap);

	ut_case = "agent noise: message 2 in pieces, then HANDSHAKE_DONE";
	n = ut_unhex(msg + 2, sizeof msg - 2, noise_messages[1].ciphertext);
	msg[0] = 0;
	msg[1] = (uint8_t)n;
	rig_clear(&r);
	/* All but the last byte: the agent waits for the whole message. */
	CHECK(rig_relay(&r, msg, n + 1, 50) == 0);
	CHECK(rig_event(&r, BP_EVT_HANDSHAKE_DONE) == NULL);
	CHECK(rig_relay(&r, msg + n + 1, 1, 1) == 0);
	f = rig_event(&r, BP_EVT_HANDSHAKE_DONE);
	CHECK(f != NULL && f->len == BP_HANDSHAKE_DONE_LEN);
	if (f != NULL) {
		CHECK(f->payload[0] == 0 && f->payload[1] == 0);
		CHECK(f->payload[2] == BP_PROFILE_NOISE && f->payload[3] == 1);
		CHECK(be64(f->payload + 4) == NOISE_COUNTER);
		CHECK(be64(f->payload + 12) >= be64(f->payload + 20)); /* total >= crypto */
		CHECK(be64(f->payload + 20) > 0);
		CHECK(f->payload[28] == 0 && f->payload[29] == 106);
		CHECK(f->payload[30] == 0 && f->payload[31] == 115);
	}
	CHECK(r.a.state == BP_STATE_SESSION);
	CHECK(rig_count(&r, BP_EVT_CLOSED) == 0);
	/* The announcement is pinned: the next key is now the target. */
	CHECK(store_flags(BP_PROFILE_NOISE) & ID_HAS_NEXT);
	CHECK(store_read(BP_PROFILE_NOISE, ID_FIELD_NEXT, got, 32) == 0);
	ut_unhex(next, sizeof next, noise_next_server_static);
	CHECK_EQ_MEM(got, 32, next, 32);

	ut_case = "agent noise: SEND is the vector's transport message";
	n = ut_unhex(msg, sizeof msg, noise_messages[2].payload);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_SEND, msg, (uint8_t)n) == BP_OK);
	CHECK(r.events_before >= 1); /* relay events precede the response (§5.7) */
	wn = ut_unhex(want + 2, sizeof want - 2, noise_messages[2].ciphertext);
	want[0] = 0;
	want[1] = (uint8_t)wn;
	CHECK_EQ_MEM(r.stream, r.stream_len, want, wn + 2);

	ut_case = "agent noise: a server record becomes MESSAGE";
	n = ut_unhex(msg + 2, sizeof msg - 2, noise_messages[3].ciphertext);
	msg[0] = 0;
	msg[1] = (uint8_t)n;
	rig_clear(&r);
	CHECK(rig_relay(&r, msg, n + 2, 7) == 0);
	f = rig_event(&r, BP_EVT_MESSAGE);
	wn = ut_unhex(want, sizeof want, noise_messages[3].payload);
	CHECK(f != NULL && rig_count(&r, BP_EVT_MESSAGE) == 1);
	if (f != NULL)
		CHECK_EQ_MEM(f->payload, f->len, want, wn);

	ut_case = "agent noise: CLOSE ends the session and wipes it";
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
	CHECK(closed_reason() == 0);
	CHECK(r.a.state == BP_STATE_IDLE);
	CHECK(all_zero(&r.a.sec, sizeof r.a.sec) && all_zero(r.a.relay, sizeof r.a.relay));
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_NO_SESSION);
	CHECK(rig_cmd(&r, BP_CMD_SEND, msg, 4) == BP_NO_SESSION);
	CHECK(!r.ev_gap && r.bad == 0);
}

/* The next handshake targets the announced next key, with the next
 * counter; after a reset the counter skips the rest of its block. */
static void noise_next_key_and_counter(void)
{
	uint8_t key[32], s_pub[32], next[32], e[32], counter[8], want[200], pro[16];
	size_t pl;
	sd_noise_ik hs;
	const tp_frame *f;
	uint64_t c0, c1;
	unsigned i;

	ut_case = "agent noise: the next handshake targets the next key";
	noise_vector(); /* leaves the vector's identity with next pinned */
	ut_unhex(key, sizeof key, noise_init_static);
	ut_unhex(next, sizeof next, noise_next_server_static);
	sd_x25519_base(s_pub, key);
	memset(e, 0x42, sizeof e);
	tp_random_queue(e, sizeof e);
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	/* The same message from the noise code itself, aimed at next. */
	pl = ut_unhex(pro, sizeof pro, noise_prologue);
	put_be64(counter, NOISE_COUNTER + 1);
	sd_noise_ik_init(&hs, key, next, pro, pl, NULL);
	CHECK(sd_noise_ik_write_msg1(&hs, want + 2, e, s_pub, counter, 8) == SD_OK);
	want[0] = 0;
	want[1] = SD_NOISE_IK_MSG1_LEN;
	CHECK_EQ_MEM(r.stream, r.stream_len, want, SD_NOISE_IK_MSG1_LEN + 2);
	sd_wipe(&hs, sizeof hs);

	ut_case = "agent noise: the server closes before message 2";
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x00", 1) == BP_OK);
	CHECK(done_result() == BP_R_IO && done_stage() == BP_STAGE_MSG2);
	f = rig_event(&r, BP_EVT_HANDSHAKE_DONE);
	CHECK(f != NULL && be64(f->payload + 4) == NOISE_COUNTER + 1);
	CHECK(closed_reason() == BP_R_IO);
	CHECK(r.a.state == BP_STATE_IDLE);

	ut_case = "agent noise: counters only grow, across resets too";
	c0 = NOISE_COUNTER + 1;
	for (i = 0; i < 3; i++) {
		rig_reboot(&r, BP_BOOT_EXTERNAL);
		rig_clear(&r);
		CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
		CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
		/* The counter sent is past the whole block reserved before. */
		c1 = r.a.hs_counter;
		CHECK(c1 > c0);
		CHECK(c1 == (c0 - (NOISE_COUNTER)) / AGENT_COUNTER_BLOCK * AGENT_COUNTER_BLOCK +
				   AGENT_COUNTER_BLOCK + NOISE_COUNTER);
		c0 = c1;
	}
	/* Without a reset, one storage write serves a block. */
	for (i = 0; i < AGENT_COUNTER_BLOCK + 1; i++) {
		CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
		CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
		CHECK(r.a.hs_counter == c0 + 1 + i);
	}
	CHECK(r.a.counter_reserved >= r.a.counter_last);
	CHECK(r.a.counter_reserved - r.a.counter_last < AGENT_COUNTER_BLOCK);

	ut_case = "agent noise: a new device key replaces the cached public key";
	{
		uint8_t p[40], pn = 0;

		memset(key, 0x24, sizeof key);
		tlv_byte(p, &pn, BP_TAG_PROFILE, BP_PROFILE_NOISE);
		tlv(p, &pn, BP_TAG_DEVICE_KEY, key, 32);
		CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, pn) == BP_OK);
	}
	sd_x25519_base(s_pub, key);
	tp_random_queue(e, sizeof e);
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	put_be64(counter, r.a.hs_counter);
	sd_noise_ik_init(&hs, key, next, pro, pl, NULL);
	CHECK(sd_noise_ik_write_msg1(&hs, want + 2, e, s_pub, counter, 8) == SD_OK);
	CHECK_EQ_MEM(r.stream, r.stream_len, want, SD_NOISE_IK_MSG1_LEN + 2);
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
	sd_wipe(&hs, sizeof hs);
}

/* Every byte of message 2 (header included) altered: the agent itself
 * refuses the handshake, with the reason the Go device gives. */
static void noise_tampering(void)
{
	uint8_t msg[200];
	size_t n, i;
	unsigned ok = 0;
	uint8_t want_reason;

	n = ut_unhex(msg + 2, sizeof msg - 2, noise_messages[1].ciphertext) + 2;
	msg[0] = 0;
	msg[1] = (uint8_t)(n - 2);
	for (i = 0; i < n; i++) {
		ut_case = "agent noise: message 2 with a byte altered";
		noise_ready(NOISE_COUNTER - 1);
		CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
		rig_clear(&r);
		msg[i] ^= 0x01;
		rig_relay(&r, msg, n, 200);
		msg[i] ^= 0x01;
		/* 0x0171: longer than message 2, refused from the header;
		 * 0x0070: one byte short, read whole, then malformed. */
		want_reason = i == 0 ? BP_R_OVERSIZE_FRAME : i == 1 ? BP_R_MALFORMED : BP_R_DECRYPT_FAILED;
		ok += done_result() == want_reason && done_stage() == BP_STAGE_MSG2 &&
		      closed_reason() == want_reason && r.a.state == BP_STATE_IDLE &&
		      all_zero(&r.a.sec, sizeof r.a.sec) &&
		      store_flags(BP_PROFILE_NOISE) == (ID_HAS_KEY | ID_HAS_SERVER | ID_HAS_PUB);
	}
	ut_case = "agent noise: every altered byte of message 2 is refused";
	CHECK(ok == n);
}

/* Message 2 that authenticates but announces nothing a device can pin:
 * refused (malformed), and the pins stay as they were. */
static void noise_bad_announcements(void)
{
	uint8_t msg[200];
	size_t n, i;

	for (i = 0; i < COUNT_OF(noise_bad_msg2); i++) {
		ut_case = noise_bad_msg2[i].what;
		noise_ready(NOISE_COUNTER - 1);
		CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
		n = ut_unhex(msg + 2, sizeof msg - 2, noise_bad_msg2[i].ciphertext);
		put_be16(msg, (uint16_t)n);
		rig_clear(&r);
		CHECK(rig_relay(&r, msg, n + 2, 200) == 0);
		CHECK(done_result() == BP_R_MALFORMED && done_stage() == BP_STAGE_MSG2);
		CHECK(closed_reason() == BP_R_MALFORMED);
		CHECK(!(store_flags(BP_PROFILE_NOISE) & ID_HAS_NEXT));
		CHECK(all_zero(&r.a.sec, sizeof r.a.sec));
	}
}

static void noise_timeout_and_limits(void)
{
	uint8_t hs[4] = {BP_MODE_RELAY, BP_PROFILE_NOISE, 0x01, 0xF4}; /* 500 ms */
	uint8_t big[200];

	ut_case = "agent noise: the handshake deadline";
	noise_ready(0);
	CHECK(rig_cmd(&r, BP_CMD_HANDSHAKE, hs, sizeof hs) == BP_OK);
	tp_ms += 499;
	agent_tick(&r.a);
	rig_clear(&r);
	rig_take(&r);
	CHECK(r.nev == 0);
	tp_ms += 1;
	agent_tick(&r.a);
	rig_take(&r);
	CHECK(done_result() == BP_R_TIMEOUT && done_stage() == BP_STAGE_MSG2);
	CHECK(closed_reason() == BP_R_TIMEOUT);
	CHECK(r.a.last_failure == BP_R_TIMEOUT);

	ut_case = "agent noise: the default deadline is 10 s";
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	rig_clear(&r);
	tp_ms += AGENT_HANDSHAKE_TIMEOUT_MS - 1;
	agent_tick(&r.a);
	rig_take(&r);
	CHECK(r.nev == 0);
	tp_ms += 1;
	agent_tick(&r.a);
	rig_take(&r);
	CHECK(done_result() == BP_R_TIMEOUT);

	ut_case = "agent noise: commands during a handshake";
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_BUSY);
	CHECK(rig_cmd(&r, BP_CMD_SEND, big, 4) == BP_BUSY);
	CHECK(rig_cmd(&r, BP_CMD_BENCH, (const uint8_t *)"\x04\x00\x00\x10\x01", 5) == BP_BUSY);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, (const uint8_t *)"\x01\x01\x01", 3) == BP_BUSY);
	CHECK(rig_cmd(&r, BP_CMD_HELLO, (const uint8_t *)"\x01\x01", 2) == BP_OK);
	CHECK(r.rsp.payload[3] == BP_STATE_HANDSHAKE);
	/* More than the credit granted: the start of a message 2, then a
	 * piece that would overrun the buffer. */
	memset(big, 0, sizeof big);
	big[1] = SD_NOISE_IK_MSG2_LEN;
	CHECK(rig_cmd(&r, BP_CMD_RELAY_DATA, big, 100) == BP_OK);
#if AGENT_RELAY_LEN - 100 < AGENT_MAX_PAYLOAD
	CHECK(rig_cmd(&r, BP_CMD_RELAY_DATA, big + 2, AGENT_RELAY_LEN - 100 + 1) == BP_NO_CREDIT);
#endif
	CHECK(r.a.state == BP_STATE_HANDSHAKE);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_DATA, big, 0) == BP_BAD_LENGTH);
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);

	ut_case = "agent noise: message 2 header of length 0";
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	rig_clear(&r);
	CHECK(rig_relay(&r, (const uint8_t *)"\x00\x00", 2, 2) == 0);
	CHECK(done_result() == BP_R_SHORT_FRAME);

	ut_case = "agent noise: the relay closes inside message 2";
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	rig_clear(&r);
	CHECK(rig_relay(&r, (const uint8_t *)"\x00\x71\x01\x02", 4, 4) == 0);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x00", 1) == BP_OK);
	CHECK(done_result() == BP_R_SHORT_FRAME);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x02", 1) == BP_OK);
	CHECK(done_result() == BP_R_TIMEOUT); /* the host's reason stands */
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x0C", 1) == BP_BAD_VALUE);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x00", 1) == BP_OK); /* no relay: OK */
	CHECK(rig_cmd(&r, BP_CMD_RELAY_DATA, big, 4) == BP_NO_SESSION);
}

/* Storage that fails: the counter is never sent unless it is stored. */
static void noise_storage(void)
{
	ut_case = "agent noise: no message 1 without a stored counter";
	noise_ready(AGENT_COUNTER_BLOCK * 4); /* a block boundary: the next needs a write */
	r.a.counter_reserved = r.a.counter_last;
	tp_nv_fail_writes = 100;
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	CHECK(r.stream_len == 0);
	CHECK(done_result() == BP_R_INTERNAL && done_stage() == BP_STAGE_MSG1);
	tp_nv_fail_writes = 0;

	ut_case = "agent noise: a torn counter slot, then both";
	noise_ready(1000);
	rig_reboot(&r, BP_BOOT_EXTERNAL);
	CHECK(r.a.counter_ok && r.a.counter_last == 1000);
	tp_nv[8 + 3] ^= 0x10; /* slot A */
	rig_reboot(&r, BP_BOOT_BROWN_OUT);
	CHECK(r.a.counter_ok && r.a.counter_last == 1000);
	tp_nv[18 + 3] ^= 0x10; /* slot B */
	rig_reboot(&r, BP_BOOT_BROWN_OUT);
	CHECK(!r.a.counter_ok);
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	CHECK(r.stream_len == 0 && done_result() == BP_R_INTERNAL);
	{
		uint8_t p[16], n = 0;

		tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_NOISE);
		tlv_u64(p, &n, BP_TAG_COUNTER, 2000);
		CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	}
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	CHECK(r.stream_len == SD_NOISE_IK_MSG1_LEN + 2 && r.a.hs_counter == 2001);
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);

	ut_case = "agent noise: no randomness, no handshake";
	tp_random_fail = 1;
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK);
	CHECK(r.stream_len == 0 && done_result() == BP_R_INTERNAL);
	tp_random_fail = 0;
}

static void seed_vector(size_t v)
{
	uint8_t key[32], want[200], msg[200];
	size_t kl, wn, n, i;
	const tp_frame *f;
	uint8_t curve = seed_vectors[v].curve == SD_SEED_CURVE_P256 ? BP_CURVE_P256 : BP_CURVE_SECP160R1;

	ut_case = "agent seed: the vector's exchange";
	rig_fresh(&r);
	kl = ut_unhex(key, sizeof key, seed_vectors[v].device_private);
	CHECK(rig_provision_seed(&r, seed_vectors[v].device_id, curve, key, (uint8_t)kl) == BP_OK);
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_SEED) == BP_OK);
	wn = ut_unhex(want, sizeof want, seed_vectors[v].msg1_frame);
	CHECK_EQ_MEM(r.stream, r.stream_len, want, wn);
	n = ut_unhex(msg, sizeof msg, seed_vectors[v].msg2_frame);
	rig_clear(&r);
	CHECK(rig_relay(&r, msg, n, 30) == 0);
	f = rig_event(&r, BP_EVT_HANDSHAKE_DONE);
	CHECK(f != NULL && f->payload[0] == 0 && f->payload[2] == BP_PROFILE_SEED);
	if (f != NULL) {
		CHECK(be64(f->payload + 4) == 0);
		CHECK(f->payload[29] == wn && f->payload[31] == n);
	}
	for (i = 0; i < 3; i++) {
		const struct seed_record *rec = &seed_vectors[v].records[i];

		wn = ut_unhex(want, sizeof want, rec->frame);
		rig_clear(&r);
		if (rec->from_device) {
			CHECK(rig_cmd(&r, BP_CMD_SEND, (const uint8_t *)rec->plaintext,
				      (uint8_t)strlen(rec->plaintext)) == BP_OK);
			CHECK_EQ_MEM(r.stream, r.stream_len, want, wn);
		} else {
			CHECK(rig_relay(&r, want, wn, 100) == 0);
			f = rig_event(&r, BP_EVT_MESSAGE);
			CHECK(f != NULL);
			if (f != NULL)
				CHECK_EQ_MEM(f->payload, f->len, (const uint8_t *)rec->plaintext,
					     strlen(rec->plaintext));
		}
	}
	/* The server's record again: its nonce is used, it no longer opens. */
	wn = ut_unhex(want, sizeof want, seed_vectors[v].records[1].frame);
	rig_clear(&r);
	CHECK(rig_relay(&r, want, wn, 100) == 0);
	CHECK(closed_reason() == BP_R_DECRYPT_FAILED && r.a.state == BP_STATE_IDLE);
	CHECK(all_zero(&r.a.sec, sizeof r.a.sec));

	ut_case = "agent seed: points the device refuses";
	n = ut_unhex(msg, sizeof msg, seed_vectors[v].msg2_frame);
	for (i = 0; i < 5; i++) {
		size_t len = n;
		uint8_t want_reason = BP_R_BAD_POINT;

		CHECK(rig_handshake(&r, BP_PROFILE_SEED) == BP_OK);
		rig_clear(&r);
		ut_unhex(msg, sizeof msg, seed_vectors[v].msg2_frame);
		switch (i) {
		case 0:
			msg[n - 1] ^= 0x01; /* y + 1: off the curve */
			break;
		case 1:
			msg[2] = 0x03; /* a compressed prefix */
			break;
		case 2:
			msg[0] = 0; /* the encoding of infinity, 0x00 */
			msg[1] = 1;
			msg[2] = 0;
			len = 3;
			break;
		case 3:
			msg[1] = (uint8_t)(msg[1] - 1); /* one byte short of a point */
			len = n - 1;
			want_reason = BP_R_SHORT_FRAME;
			break;
		case 4:
			msg[1] = (uint8_t)(msg[1] + 1); /* longer than a point */
			want_reason = BP_R_OVERSIZE_FRAME;
			break;
		}
		rig_relay(&r, msg, len, 100);
		CHECK(done_result() == want_reason && done_stage() == BP_STAGE_MSG2);
		CHECK(r.a.state == BP_STATE_IDLE);
	}
}

static void psk_vector(void)
{
	uint8_t key[32], want[100], pt[64];
	size_t wn, pn;
	const tp_frame *f;

	ut_case = "agent psk: the vector's exchange";
	rig_fresh(&r);
	ut_unhex(key, sizeof key, psk_psk);
	CHECK(rig_provision_psk(&r, psk_device_id, key) == BP_OK);
	rig_clear(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	wn = ut_unhex(want, sizeof want, psk_msg1);
	CHECK_EQ_MEM(r.stream, r.stream_len, want, wn);
	/* psk's server does not answer: the session is open at once. */
	CHECK(done_result() == 0 && r.a.state == BP_STATE_SESSION && r.credit > 0);
	pn = ut_unhex(pt, sizeof pt, psk_ds0_plain);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_SEND, pt, (uint8_t)pn) == BP_OK);
	wn = ut_unhex(want, sizeof want, psk_ds0);
	CHECK_EQ_MEM(r.stream, r.stream_len, want, wn);
	wn = ut_unhex(want, sizeof want, psk_sd0);
	pn = ut_unhex(pt, sizeof pt, psk_sd0_plain);
	rig_clear(&r);
	CHECK(rig_relay(&r, want, wn, 5) == 0);
	f = rig_event(&r, BP_EVT_MESSAGE);
	CHECK(f != NULL);
	if (f != NULL)
		CHECK_EQ_MEM(f->payload, f->len, pt, pn);
	pn = ut_unhex(pt, sizeof pt, psk_ds1_plain);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_SEND, pt, (uint8_t)pn) == BP_OK);
	wn = ut_unhex(want, sizeof want, psk_ds1);
	CHECK_EQ_MEM(r.stream, r.stream_len, want, wn);

	ut_case = "agent psk: records the board cannot hold, or cut short";
	rig_clear(&r);
	put_be16(want, AGENT_RELAY_LEN - 1); /* 2 + L > the relay buffer */
	CHECK(rig_relay(&r, want, 2, 2) == 0);
	CHECK(closed_reason() == BP_R_OVERSIZE_FRAME && r.a.state == BP_STATE_IDLE);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	rig_clear(&r);
	CHECK(rig_relay(&r, (const uint8_t *)"\x00\x0f\x01", 3, 3) == 0);
	CHECK(rig_count(&r, BP_EVT_CLOSED) == 0);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x00", 1) == BP_OK);
	CHECK(closed_reason() == BP_R_SHORT_FRAME);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	rig_clear(&r);
	memset(want, 0x11, 17);
	want[0] = 0;
	want[1] = 15; /* shorter than a tag */
	CHECK(rig_relay(&r, want, 17, 17) == 0);
	CHECK(closed_reason() == BP_R_SHORT_FRAME);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	rig_clear(&r);
	CHECK(rig_relay(&r, (const uint8_t *)"\x00\x00", 2, 2) == 0);
	CHECK(closed_reason() == BP_R_SHORT_FRAME);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x00", 1) == BP_OK);
	CHECK(closed_reason() == BP_R_NONE); /* an orderly end of the session */
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_RELAY_CLOSE, (const uint8_t *)"\x01", 1) == BP_OK);
	CHECK(closed_reason() == BP_R_IO);
}

/* A record longer than max_payload comes back as several MESSAGE events;
 * two records in one RELAY_DATA are both handled. */
static void long_messages(void)
{
	uint8_t key[32], pt[AGENT_RELAY_LEN], rec[2 * AGENT_RELAY_LEN];
	sd_gcm_session s;
	size_t n = AGENT_RELAY_LEN - 18, i, got = 0, k;
	const uint8_t *id = (const uint8_t *)psk_device_id;

	ut_case = "agent psk: a long record, and two records at once";
	rig_fresh(&r);
	ut_unhex(key, sizeof key, psk_psk);
	CHECK(rig_provision_psk(&r, psk_device_id, key) == BP_OK);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	/* The server's side, from seed/ itself (checked against the vector). */
	CHECK(sd_psk_derive(&s, key, id, strlen(psk_device_id)) == SD_OK);
	for (i = 0; i < n; i++)
		pt[i] = (uint8_t)i;
	put_be16(rec, (uint16_t)(n + 16));
	CHECK(sd_gcm_record_seal(&s.recv, rec + 2, rec + 2 + n, pt, n) == SD_OK);
	rig_clear(&r);
	CHECK(rig_relay(&r, rec, n + 18, 100) == 0);
	for (i = 0; i < r.nev; i++) {
		if (r.ev[i].type != BP_EVT_MESSAGE)
			continue;
		CHECK(r.ev[i].len <= AGENT_MAX_PAYLOAD);
		CHECK(memcmp(r.ev[i].payload, pt + got, r.ev[i].len) == 0);
		got += r.ev[i].len;
	}
	CHECK(got == n);
	CHECK(rig_count(&r, BP_EVT_MESSAGE) == (n + AGENT_MAX_PAYLOAD - 1) / AGENT_MAX_PAYLOAD);
	/* Two short records in one piece of stream. */
	k = 0;
	for (i = 0; i < 2; i++) {
		put_be16(rec + k, 3 + 16);
		CHECK(sd_gcm_record_seal(&s.recv, rec + k + 2, rec + k + 5, (const uint8_t *)"abc", 3) == SD_OK);
		k += 21;
	}
	rig_clear(&r);
	CHECK(rig_relay(&r, rec, k, k) == 0);
	CHECK(rig_count(&r, BP_EVT_MESSAGE) == 2);
	CHECK(r.a.n[AGENT_N_MESSAGES_RECEIVED] == rig_count(&r, BP_EVT_MESSAGE) +
		(n + AGENT_MAX_PAYLOAD - 1) / AGENT_MAX_PAYLOAD);
	/* SEND of a whole payload. */
	memset(pt, 'z', AGENT_MAX_PAYLOAD);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_SEND, pt, AGENT_MAX_PAYLOAD) == BP_OK);
	CHECK(r.stream_len == AGENT_MAX_PAYLOAD + 18u);
	if (r.stream_len == AGENT_MAX_PAYLOAD + 18u) {
		CHECK(sd_gcm_record_open(&s.send, r.stream + 2, r.stream + 2, r.stream_len - 2) == SD_OK);
		CHECK(memcmp(r.stream + 2, pt, AGENT_MAX_PAYLOAD) == 0);
	}
	/* A retransmitted SEND is not sent twice (§4.2). */
	rig_clear(&r);
	CHECK(rig_retransmit(&r, BP_CMD_SEND, pt, AGENT_MAX_PAYLOAD) == BP_OK);
	CHECK(r.stream_len == 0);
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
	sd_wipe(&s, sizeof s);
}

void test_agent_sessions(void)
{
	size_t v;

	noise_vector();
	noise_next_key_and_counter();
	noise_tampering();
	noise_bad_announcements();
	noise_timeout_and_limits();
	noise_storage();
	for (v = 0; v < COUNT_OF(seed_vectors); v++)
		seed_vector(v);
	psk_vector();
	long_messages();
}
