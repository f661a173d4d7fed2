/*
 * agent/run.c: a run is one relay-mode handshake (docs/board-protocol.md
 * §5.5, §5.6) and the session after it (§5.7). The device side of each
 * profile is the one docs/protocol.md fixes; its byte stream travels in
 * RELAY_DATA frames:
 *
 *   HANDSHAKE  -> OK, then message 1 in RELAY_DATA events, RELAY_CREDIT
 *   RELAY_DATA -> OK, then, once a whole message 2 is stored, the device
 *                 checks it: HANDSHAKE_DONE (and CLOSED on failure)
 *   SEND       -> one record in RELAY_DATA events, then OK
 *   RELAY_DATA -> OK, then each whole record: MESSAGE events, or CLOSED
 *   CLOSE, RELAY_CLOSE -> OK, then CLOSED
 *
 * Every message and record is a frame of the profile: 2-byte big-endian
 * length, then the message. The relay buffer stores what the host sends,
 * within the credit the agent grants; a message is handled once it is
 * whole. Failures are reported with the reason and stage codes of §6.2 and
 * §6.3, the same the Go device sides of package shakedown/handshake give.
 */
#include <string.h>

#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/port.h"
#include "crypto/x25519.h"
#include "internal.h"
#include "noise/noise.h"
#include "port.h"
#if AGENT_NETWORK
#include "port/net.h"
#endif
#include "seed/psk.h"
#include "seed/seed.h"

#define FRAME_HEADER_LEN 2 /* protocol.md "Common framing": 2B length */
#define KEY_LEN 32

/* Keeps the stack of a heavy step (a scalar multiplication) apart from the
 * locals of the steps around it: the chip's RAM sets the peak. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

#if AGENT_NOISE
static const uint8_t prologue[SD_NOISE_PROLOGUE_LEN] SD_ROM = SD_NOISE_PROLOGUE;
#endif
static const char log_hs[] SD_ROM = "hs ";
static const char log_ok[] SD_ROM = "hs ok\n";
static const char log_fail[] SD_ROM = "hs fail ";
static const char log_at[] SD_ROM = " at ";
static const char log_closed[] SD_ROM = "closed ";
static const char log_stack[] SD_ROM = "stack ";
static const char log_nl[] SD_ROM = "\n";

static uint32_t since(uint32_t t0)
{
	return port_cycles() - t0;
}

/* ---------------------------------------------------------------- the end */

/* Whether the run has its own connection (network mode) rather than the
 * host's relay. */
static int networked(const agent *a)
{
#if AGENT_NETWORK
	return a->net_mode;
#else
	(void)a;
	return 0;
#endif
}

static void wipe_run(agent *a)
{
#if AGENT_NETWORK
	if (a->net_open)
		port_net_close(a->net_sock);
	a->net_open = a->net_mode = a->net_failed = 0;
#endif
	sd_wipe(&a->sec, sizeof a->sec);
	sd_wipe(a->relay, sizeof a->relay);
	a->relay_fill = 0;
	a->credit = 0;
	a->state = BP_STATE_IDLE;
	a->stage = BP_STAGE_NONE;
}

static void emit_closed(agent *a, uint8_t reason)
{
	uint8_t *p = agent_tx(a);

	p[0] = reason;
	agent_emit(a, BP_EVT_CLOSED, BP_REASON_LEN);
	agent_log(a, log_closed);
	agent_log_num(a, reason);
	agent_log(a, log_nl);
}

/* HANDSHAKE_DONE: 1B result | 1B stage | 1B profile | 1B unit | 8B counter |
 * 8B total | 8B crypto | 2B sent | 2B received. */
static void emit_done(agent *a, uint8_t result)
{
	uint8_t *p = agent_tx(a);

	p[0] = result;
	p[1] = result != BP_R_NONE ? a->stage : BP_STAGE_NONE;
	p[2] = a->profile;
	p[3] = port_cost_unit();
	put_be64(p + 4, a->hs_counter);
	put_be64(p + 12, a->hs_total);
	put_be64(p + 20, a->hs_crypto);
	put_be16(p + 28, a->hs_sent);
	put_be16(p + 30, a->hs_recv);
	agent_emit(a, BP_EVT_HANDSHAKE_DONE, BP_HANDSHAKE_DONE_LEN);
}

/* Logs the deepest stack use since the handshake started (port_stack_mark
 * in start), where the port measures it: "stack N", N bytes below the top
 * of the stack. */
static void log_stack_peak(agent *a)
{
	uint16_t peak, least_free;

	if (port_stack_read(&peak, &least_free) != 0)
		return;
	agent_log(a, log_stack);
	agent_log_num(a, peak);
	agent_log(a, log_nl);
}

/* A failed handshake: HANDSHAKE_DONE with reason and stage, then CLOSED
 * in relay mode (§5.5), and the agent is idle again. */
static void hs_fail(agent *a, uint8_t reason)
{
	a->n[AGENT_N_HANDSHAKES_FAILED]++;
	a->last_failure = reason;
	agent_log(a, log_fail);
	agent_log_num(a, reason);
	agent_log(a, log_at);
	agent_log_num(a, a->stage);
	agent_log(a, log_nl);
	log_stack_peak(a);
	emit_done(a, reason);
	if (!networked(a))
		emit_closed(a, reason);
	wipe_run(a);
}

static void hs_ok(agent *a)
{
	a->state = BP_STATE_SESSION;
	a->stage = BP_STAGE_TRANSPORT;
	a->n[AGENT_N_HANDSHAKES_OK]++;
	agent_log(a, log_ok);
	log_stack_peak(a);
	emit_done(a, BP_R_NONE);
}

static void session_end(agent *a, uint8_t reason)
{
	emit_closed(a, reason);
	wipe_run(a);
}

void agent_run_drop(agent *a)
{
	wipe_run(a);
}

/* ---------------------------------------------------------------- relay */

/* RELAY_CREDIT: grants the free part of the relay buffer not yet granted,
 * when the host has used up its credit or half the buffer is free. */
static void grant(agent *a)
{
	uint16_t room;
	uint8_t *p;

	if (a->state == BP_STATE_IDLE || networked(a))
		return; /* network mode: the agent reads its own connection */
	room = (uint16_t)(AGENT_RELAY_LEN - a->relay_fill - a->credit);
	if (room == 0 || (a->credit != 0 && room < AGENT_RELAY_LEN / 2))
		return;
	a->credit = (uint16_t)(a->credit + room);
	p = agent_tx(a);
	put_be16(p, room);
	agent_emit(a, BP_EVT_RELAY_CREDIT, BP_CREDIT_LEN);
}

/* Writes n bytes of the profile's stream: to the board's own connection
 * in network mode (a failure is remembered: net_failed), else in
 * RELAY_DATA events. */
static void stream_out(agent *a, const uint8_t *p, size_t n)
{
#if AGENT_NETWORK
	if (a->net_mode) {
		if (port_net_send(a->net_sock, p, n, AGENT_HANDSHAKE_TIMEOUT_MS) != PORT_NET_OK)
			a->net_failed = 1;
		return;
	}
#endif
	agent_relay_out(a, p, n);
}

/* Whether a write to the board's own connection failed during the run. */
static int net_failed(const agent *a)
{
#if AGENT_NETWORK
	return a->net_failed;
#else
	(void)a;
	return 0;
#endif
}

/* Sends the message built at relay + 2 as one frame of the profile. */
static void send_message(agent *a, uint16_t len)
{
	put_be16(a->relay, len);
	stream_out(a, a->relay, FRAME_HEADER_LEN + (size_t)len);
	agent_relay_flush(a);
	a->hs_sent = (uint16_t)(a->hs_sent + FRAME_HEADER_LEN + len);
}

/* Drops the first n bytes of the relay buffer. */
static void consume(agent *a, uint16_t n)
{
	uint16_t rest = (uint16_t)(a->relay_fill - n);

	memmove(a->relay, a->relay + n, rest);
	sd_wipe(a->relay + rest, n);
	a->relay_fill = rest;
}

/* ---------------------------------------------------------------- noise */
#if AGENT_NOISE

/* -> e, es, s, ss with the counter: the counter is persisted first. */
static NOINLINE uint8_t noise_msg1(agent *a)
{
	uint8_t s[KEY_LEN], s_pub[KEY_LEN], buf[KEY_LEN], counter[SD_NOISE_COUNTER_LEN];
	uint8_t flags = store_flags(BP_PROFILE_NOISE), reason = BP_R_INTERNAL;
	sd_noise_ik *hs = &a->sec.noise_hs;
	uint64_t c;
	uint32_t t0;

	if (store_read_var(BP_PROFILE_NOISE, ID_FIELD_KEY, s, KEY_LEN) != KEY_LEN)
		goto out;
	if (flags & ID_HAS_PUB) {
		if (store_read(BP_PROFILE_NOISE, ID_FIELD_PUB, s_pub, KEY_LEN) != 0)
			goto out;
	} else {
		/* The static public key once per key, then from storage: one
		 * scalar multiplication less per handshake. */
		t0 = port_cycles();
		sd_x25519_base(s_pub, s);
		a->hs_crypto += since(t0);
		if (store_write(BP_PROFILE_NOISE, ID_FIELD_PUB, s_pub, KEY_LEN) == 0)
			store_set_flags(BP_PROFILE_NOISE, (uint8_t)(flags | ID_HAS_PUB));
	}
	/* The pinned key the handshake targets: next once announced. */
	if (store_read(BP_PROFILE_NOISE, (flags & ID_HAS_NEXT) ? ID_FIELD_NEXT : ID_FIELD_SERVER,
		       buf, KEY_LEN) != 0)
		goto out;
	{
		uint8_t pro[SD_NOISE_PROLOGUE_LEN];

		sd_rom_copy(pro, prologue, sizeof pro);
		sd_noise_ik_init(hs, s, buf, pro, sizeof pro, port_cycles);
	}
	sd_wipe(s, sizeof s);
	if (store_counter_next(a, &c) != 0)
		goto out; /* never send a counter that storage does not hold */
	a->hs_counter = c;
	put_be64(counter, c);
	if (port_random(buf, KEY_LEN) != 0)
		goto out;
	if (sd_noise_ik_write_msg1(hs, a->relay + FRAME_HEADER_LEN, buf, s_pub,
				   counter, sizeof counter) != SD_OK) {
		reason = BP_R_BAD_POINT; /* the pinned key has small order */
		goto out;
	}
	a->hs_crypto += hs->dh_cost;
	hs->dh_cost = 0;
	send_message(a, SD_NOISE_IK_MSG1_LEN);
	a->stage = BP_STAGE_MSG2;
	reason = BP_R_NONE;
out:
	sd_wipe(s, sizeof s);
	sd_wipe(buf, sizeof buf);
	return reason;
}

/* Pins the keys of an authenticated announcement (docs/protocol.md,
 * "Message 2"): current, and next or none. 0 or -1. */
static int apply_announcement(const uint8_t *ann)
{
	uint8_t flags = store_flags(BP_PROFILE_NOISE), nf;
	const uint8_t *next = ann + 1 + SD_NOISE_DHLEN;
	uint8_t acc = 0, i;

	for (i = 0; i < SD_NOISE_DHLEN; i++)
		acc |= next[i];
	if (store_write(BP_PROFILE_NOISE, ID_FIELD_SERVER, ann + 1, SD_NOISE_DHLEN) != 0)
		return -1;
	nf = (uint8_t)(flags & ~ID_HAS_NEXT);
	if (acc != 0) {
		if (store_write(BP_PROFILE_NOISE, ID_FIELD_NEXT, next, SD_NOISE_DHLEN) != 0)
			return -1;
		nf |= ID_HAS_NEXT;
	}
	return nf == flags ? 0 : store_set_flags(BP_PROFILE_NOISE, nf);
}

/* <- e, ee, se with the key announcement; then Split(). */
static NOINLINE uint8_t noise_msg2(agent *a, uint8_t *msg, uint16_t len)
{
	sd_noise_cipher c1, c2;
	uint8_t *ann = msg + SD_NOISE_DHLEN, acc = 0, i;
	uint8_t reason = BP_R_NONE;
	int err;

	if (len != SD_NOISE_IK_MSG2_LEN)
		return BP_R_MALFORMED;
	/* The payload is decrypted in place. */
	err = sd_noise_ik_read_msg2(&a->sec.noise_hs, ann, msg, len, &c1, &c2);
	a->hs_crypto += a->sec.noise_hs.dh_cost;
	if (err != SD_OK)
		return BP_R_DECRYPT_FAILED; /* a tampered message, or re of small order */
	/* 1B version | 32B current | 32B next or zeros */
	for (i = 0; i < SD_NOISE_DHLEN; i++)
		acc |= ann[1 + i];
	if (ann[0] != SD_NOISE_ANNOUNCEMENT_VERSION || acc == 0)
		reason = BP_R_MALFORMED;
	else if (apply_announcement(ann) != 0)
		reason = BP_R_INTERNAL;
	if (reason == BP_R_NONE) {
		a->sec.noise.send = c1;
		a->sec.noise.recv = c2;
	}
	sd_wipe(&c1, sizeof c1);
	sd_wipe(&c2, sizeof c2);
	return reason;
}

#endif /* AGENT_NOISE */

/* ---------------------------------------------------------------- seed, psk */
#if AGENT_SEED

static uint8_t seed_code(uint8_t curve)
{
	return curve == BP_CURVE_P256 ? SD_SEED_CURVE_P256 : SD_SEED_CURVE_SECP160R1;
}

/* Plaintext ID (the seed's step 2). */
static NOINLINE uint8_t seed_msg1(agent *a)
{
	uint8_t id[ID_MAX_LEN], idlen, curve;
	size_t n;

	idlen = store_read_var(BP_PROFILE_SEED, ID_FIELD_ID, id, sizeof id);
	if (store_read(BP_PROFILE_SEED, ID_FIELD_CURVE, &curve, 1) != 0)
		return BP_R_INTERNAL;
	n = sd_seed_msg1(a->relay + FRAME_HEADER_LEN, seed_code(curve), id, idlen);
	if (n == 0)
		return BP_R_INTERNAL;
	a->curve = curve;
	send_message(a, (uint16_t)n);
	a->stage = BP_STAGE_MSG2;
	return BP_R_NONE;
}

/* Steps 3-4: validate E, shared = x(d * E). */
static NOINLINE uint8_t seed_agree(agent *a, uint8_t *shared, const uint8_t *msg, uint16_t len)
{
	uint8_t d[KEY_LEN], dlen;
	uint32_t t0;
	int err;

	dlen = store_read_var(BP_PROFILE_SEED, ID_FIELD_KEY, d, sizeof d);
	if (dlen == 0)
		return BP_R_INTERNAL;
	t0 = port_cycles();
	err = sd_seed_agree(seed_code(a->curve), shared, d, msg, len);
	a->hs_crypto += since(t0);
	sd_wipe(d, sizeof d);
	switch (err) {
	case SD_OK:
		return BP_R_NONE;
	case SD_ERR_POINT:
	case SD_ERR_LOW_ORDER:
		return BP_R_BAD_POINT;
	}
	return BP_R_INTERNAL; /* a stored scalar outside [1, n-1] */
}

/* Step 5: the key schedule over the device ID. */
static NOINLINE uint8_t seed_keys(agent *a, const uint8_t *shared, size_t shared_len)
{
	uint8_t id[ID_MAX_LEN], idlen;

	idlen = store_read_var(BP_PROFILE_SEED, ID_FIELD_ID, id, sizeof id);
	if (sd_seed_derive(&a->sec.gcm, shared, shared_len, id, idlen) != SD_OK)
		return BP_R_INTERNAL;
	return BP_R_NONE;
}

static uint8_t seed_msg2(agent *a, const uint8_t *msg, uint16_t len)
{
	uint8_t shared[SD_ECC_MAX_FIELD_LEN], reason;
	size_t point_len = sd_seed_point_len(seed_code(a->curve));

	if (len < point_len)
		/* The encoding of infinity, 0x00, is a point, and refused as
		 * one; anything else shorter than a point is cut short. */
		return len == 1 && msg[0] == 0x00 ? BP_R_BAD_POINT : BP_R_SHORT_FRAME;
	reason = seed_agree(a, shared, msg, len);
	if (reason == BP_R_NONE)
		reason = seed_keys(a, shared, (point_len - 1) / 2);
	sd_wipe(shared, sizeof shared);
	return reason;
}

#endif /* AGENT_SEED */

#if AGENT_PSK
/* psk: msg1 is the whole handshake; the keys come from the PSK alone. */
static NOINLINE uint8_t psk_msg1(agent *a)
{
	uint8_t id[ID_MAX_LEN], key[KEY_LEN], idlen;
	size_t n;
	uint8_t reason = BP_R_INTERNAL;

	idlen = store_read_var(BP_PROFILE_PSK, ID_FIELD_ID, id, sizeof id);
	if (store_read_var(BP_PROFILE_PSK, ID_FIELD_KEY, key, sizeof key) != KEY_LEN)
		goto out;
	n = sd_psk_msg1(a->relay + FRAME_HEADER_LEN, id, idlen);
	if (n == 0 || sd_psk_derive(&a->sec.gcm, key, id, idlen) != SD_OK)
		goto out;
	send_message(a, (uint16_t)n);
	reason = BP_R_NONE;
out:
	sd_wipe(key, sizeof key);
	return reason;
}
#endif /* AGENT_PSK */

/* ---------------------------------------------------------------- profiles */

/* The profile's first message, persisted and sent. */
static uint8_t first_message(agent *a)
{
	switch (a->profile) {
#if AGENT_NOISE
	case BP_PROFILE_NOISE:
		return noise_msg1(a);
#endif
#if AGENT_SEED
	case BP_PROFILE_SEED:
		return seed_msg1(a);
#endif
#if AGENT_PSK
	case BP_PROFILE_PSK:
		return psk_msg1(a);
#endif
	}
	return BP_R_INTERNAL;
}

/* The length the server's message must have: the largest accepted. */
static uint16_t second_message_len(const agent *a)
{
#if AGENT_SEED
	if (a->profile == BP_PROFILE_SEED)
		return (uint16_t)sd_seed_point_len(seed_code(a->curve));
#endif
	(void)a;
	return SD_NOISE_IK_MSG2_LEN;
}

static uint8_t second_message(agent *a, uint8_t *msg, uint16_t len)
{
#if AGENT_NOISE
	if (a->profile == BP_PROFILE_NOISE)
		return noise_msg2(a, msg, len);
#endif
#if AGENT_SEED
	if (a->profile == BP_PROFILE_SEED)
		return seed_msg2(a, msg, len);
#endif
	(void)a;
	(void)msg;
	(void)len;
	return BP_R_INTERNAL; /* psk has no second message */
}

/* One record each way: the profile's transport (noise) or AES-GCM. */
static int seal_record(agent *a, uint8_t *p, uint8_t tag[SD_NOISE_TAGLEN], uint8_t len)
{
#if AGENT_NOISE
	if (a->profile == BP_PROFILE_NOISE)
		return sd_noise_transport_seal(&a->sec.noise.send, p, tag, p, len);
#endif
#if AGENT_GCM
	return sd_gcm_record_seal(&a->sec.gcm.send, p, tag, p, len);
#else
	(void)tag;
	return SD_ERR_LENGTH;
#endif
}

static int open_record(agent *a, uint8_t *rec, uint16_t len)
{
#if AGENT_NOISE
	if (a->profile == BP_PROFILE_NOISE)
		return sd_noise_transport_open(&a->sec.noise.recv, rec, rec, len);
#endif
#if AGENT_GCM
	return sd_gcm_record_open(&a->sec.gcm.recv, rec, rec, len);
#else
	(void)len;
	return SD_ERR_LENGTH;
#endif
}

/* ---------------------------------------------------------------- commands */

/* HANDSHAKE in network mode: the server to dial (§5.5: 2B port | 1B
 * length N | N bytes of host), kept until start dials it. */
static uint8_t network_request(agent *a, const uint8_t *p, uint8_t len)
{
#if AGENT_NETWORK
	uint8_t n;

	if (len < BP_HANDSHAKE_REQ_LEN + 3)
		return BP_BAD_LENGTH;
	n = p[BP_HANDSHAKE_REQ_LEN + 2];
	if (len != BP_HANDSHAKE_REQ_LEN + 3 + n)
		return BP_BAD_LENGTH;
	if (n == 0 || n > BP_HOST_MAX || get_be16(p + BP_HANDSHAKE_REQ_LEN) == 0)
		return BP_BAD_VALUE;
	if (a->state != BP_STATE_IDLE)
		return BP_BUSY; /* the run's server stays as it is */
	a->net_port = get_be16(p + BP_HANDSHAKE_REQ_LEN);
	memcpy(a->net_host, p + BP_HANDSHAKE_REQ_LEN + 3, n);
	a->net_host[n] = '\0';
	return BP_OK;
#else
	(void)a;
	(void)p;
	(void)len;
	return BP_UNSUPPORTED; /* no network of its own */
#endif
}

/* Whether the stored identity of profile has what a handshake needs. */
static int provisioned(uint8_t profile)
{
	uint8_t f = store_flags(profile), klen = 0, curve = 0;

	if (!AGENT_HAS_PROFILE(profile) || !(f & ID_HAS_KEY) ||
	    store_read(profile, ID_FIELD_KEY, &klen, 1) != 0)
		return 0;
	switch (profile) {
	case BP_PROFILE_NOISE:
		return (f & ID_HAS_SERVER) && klen == KEY_LEN;
	case BP_PROFILE_SEED:
		if (!(f & ID_HAS_ID) || !(f & ID_HAS_CURVE) ||
		    store_read(profile, ID_FIELD_CURVE, &curve, 1) != 0)
			return 0;
		return (curve == BP_CURVE_P256 && klen == SD_P256_SCALAR_LEN) ||
		       (curve == BP_CURVE_SECP160R1 && klen == SD_SECP160R1_SCALAR_LEN);
	case BP_PROFILE_PSK:
		return (f & ID_HAS_ID) && klen == KEY_LEN;
	}
	return 0;
}

uint8_t agent_cmd_handshake(agent *a, const uint8_t *p, uint8_t len)
{
	uint16_t timeout;

	uint8_t status;

	if (len < BP_HANDSHAKE_REQ_LEN)
		return BP_BAD_LENGTH;
	if (p[0] == BP_MODE_NETWORK) {
		status = network_request(a, p, len);
		if (status != BP_OK)
			return status;
	} else if (p[0] != BP_MODE_RELAY) {
		return BP_BAD_VALUE;
	} else if (len != BP_HANDSHAKE_REQ_LEN) {
		return BP_BAD_LENGTH;
	}
	if (p[1] < BP_PROFILE_NOISE || p[1] > BP_PROFILE_TLS)
		return BP_BAD_VALUE;
	if (!AGENT_HAS_PROFILE(p[1]))
		return BP_UNSUPPORTED; /* tls, or a profile this build left out */
	if (a->state != BP_STATE_IDLE)
		return BP_BUSY;
	if (!provisioned(p[1]))
		return BP_NOT_PROVISIONED;
	timeout = get_be16(p + 2);
	a->profile = p[1];
	a->state = BP_STATE_HANDSHAKE;
	a->stage = BP_STAGE_MSG1;
	a->deadline_ms = port_millis() + (timeout != 0 ? timeout : AGENT_HANDSHAKE_TIMEOUT_MS);
	a->hs_total = a->hs_crypto = 0;
	a->hs_sent = a->hs_recv = 0;
	a->hs_counter = 0;
	a->relay_fill = 0;
	a->credit = 0;
	a->after = AFTER_START;
#if AGENT_NETWORK
	a->net_mode = p[0] == BP_MODE_NETWORK;
#endif
	return BP_OK;
}

uint8_t agent_cmd_relay_data(agent *a, const uint8_t *p, uint8_t len)
{
	if (a->state == BP_STATE_IDLE || networked(a))
		return BP_NO_SESSION; /* no relay: idle, or the board's own connection */
	if (len == 0)
		return BP_BAD_LENGTH;
	if (len > a->credit)
		return BP_NO_CREDIT;
	/* Within the credit, so within the buffer. */
	memcpy(a->relay + a->relay_fill, p, len);
	a->relay_fill = (uint16_t)(a->relay_fill + len);
	a->credit = (uint16_t)(a->credit - len);
	a->n[AGENT_N_RELAY_RX] += len;
	a->after = AFTER_RELAY;
	return BP_OK;
}

uint8_t agent_cmd_relay_close(agent *a, const uint8_t *p, uint8_t len)
{
	if (len != BP_REASON_LEN)
		return BP_BAD_LENGTH;
	if (p[0] > BP_R_LAST)
		return BP_BAD_VALUE;
	/* OK also without a relay: it may have ended on this side already. */
	if (networked(a))
		return BP_OK; /* the board's own connection is not the host's to end */
	a->after = AFTER_RELAY_CLOSE;
	a->after_arg = p[0];
	return BP_OK;
}

uint8_t agent_cmd_send(agent *a, uint8_t *p, uint8_t len)
{
	uint8_t hdr[FRAME_HEADER_LEN], tag[SD_NOISE_TAGLEN];
	int err;

	if (a->state == BP_STATE_IDLE)
		return BP_NO_SESSION;
	if (a->state == BP_STATE_HANDSHAKE)
		return BP_BUSY;
	if (len == 0)
		return BP_BAD_LENGTH;
	/* One record, sealed in place in the command's payload. */
	err = seal_record(a, p, tag, len);
	if (err != SD_OK) {
		session_end(a, BP_R_INTERNAL); /* the nonces are used up */
		return BP_NO_SESSION;
	}
	put_be16(hdr, (uint16_t)(len + SD_NOISE_TAGLEN));
	stream_out(a, hdr, sizeof hdr);
	stream_out(a, p, len);
	stream_out(a, tag, sizeof tag);
	agent_relay_flush(a);
	if (net_failed(a)) {
		session_end(a, BP_R_IO); /* network mode: the connection failed */
		return BP_NO_SESSION;
	}
	a->n[AGENT_N_MESSAGES_SENT]++;
	return BP_OK;
}

uint8_t agent_cmd_close(agent *a, const uint8_t *p, uint8_t len)
{
	(void)p;
	if (len != 0)
		return BP_BAD_LENGTH;
	if (a->state == BP_STATE_IDLE)
		return BP_NO_SESSION;
	a->after = AFTER_CLOSE;
	return BP_OK;
}

/* ---------------------------------------------------------------- after */

#if AGENT_NETWORK
/* Network mode: the board's own connection to the server HANDSHAKE
 * named, within the handshake's deadline. */
static uint8_t dial(agent *a)
{
	int32_t left = (int32_t)(a->deadline_ms - port_millis());
	int r;

	a->stage = BP_STAGE_DIAL;
	if (left <= 0)
		return BP_R_TIMEOUT;
	r = port_net_connect(a->net_host, a->net_port, (uint32_t)left);
	if (r < 0)
		return r == PORT_NET_ERR_TIMEOUT ? BP_R_TIMEOUT : BP_R_IO;
	a->net_sock = r;
	a->net_open = 1;
	a->stage = BP_STAGE_MSG1;
	return BP_R_NONE;
}
#endif

static void start(agent *a)
{
	uint32_t t0;
	uint8_t reason;

	port_stack_mark(); /* the handshake's own stack peak, logged at its end */
	a->n[AGENT_N_HANDSHAKES]++;
	agent_log(a, log_hs);
	agent_log_num(a, a->profile);
	agent_log(a, log_nl);
#if AGENT_NETWORK
	reason = a->net_mode ? dial(a) : BP_R_NONE; /* waiting for the server: not counted */
	if (reason != BP_R_NONE) {
		hs_fail(a, reason);
		return;
	}
#endif
	t0 = port_cycles();
	reason = first_message(a);
	a->hs_total += since(t0);
	if (reason == BP_R_NONE && net_failed(a)) {
		a->stage = BP_STAGE_MSG1; /* message 1 did not leave */
		reason = BP_R_IO;
	}
	if (reason != BP_R_NONE) {
		hs_fail(a, reason);
		return;
	}
	if (a->profile == BP_PROFILE_PSK)
		hs_ok(a); /* the server does not answer */
	grant(a);
}

/* Handles every whole message or record in the relay buffer. */
static void process(agent *a)
{
	uint16_t len, want;
	uint32_t t0;
	uint8_t reason, *msg = a->relay + FRAME_HEADER_LEN;
	int err;

	while (a->relay_fill >= FRAME_HEADER_LEN) {
		len = get_be16(a->relay);
		if (a->state == BP_STATE_HANDSHAKE) {
			/* A receiver knows the size a handshake message must
			 * have: a longer one is refused from its header. */
			want = second_message_len(a);
			if (len == 0) {
				hs_fail(a, BP_R_SHORT_FRAME);
				return;
			}
			if (len > want) {
				hs_fail(a, BP_R_OVERSIZE_FRAME);
				return;
			}
			if (a->relay_fill < FRAME_HEADER_LEN + len)
				break;
			a->hs_recv = (uint16_t)(a->hs_recv + FRAME_HEADER_LEN + len);
			t0 = port_cycles();
			reason = second_message(a, msg, len);
			a->hs_total += since(t0);
			if (reason != BP_R_NONE) {
				hs_fail(a, reason);
				return;
			}
			consume(a, (uint16_t)(FRAME_HEADER_LEN + len));
			hs_ok(a);
			continue;
		}
		if (a->state != BP_STATE_SESSION)
			return;
		/* A record: ciphertext || 16-byte tag. */
		if (len == 0) {
			session_end(a, BP_R_SHORT_FRAME);
			return;
		}
		if ((uint32_t)FRAME_HEADER_LEN + len > AGENT_RELAY_LEN) {
			session_end(a, BP_R_OVERSIZE_FRAME); /* more than this board holds */
			return;
		}
		if (a->relay_fill < FRAME_HEADER_LEN + len)
			break;
		if (len < SD_NOISE_TAGLEN) {
			session_end(a, BP_R_SHORT_FRAME);
			return;
		}
		err = open_record(a, msg, len);
		if (err != SD_OK) {
			session_end(a, BP_R_DECRYPT_FAILED);
			return;
		}
		/* The plaintext, in MESSAGE events of at most max_payload. */
		for (want = 0; want < len - SD_NOISE_TAGLEN;) {
			uint16_t n = (uint16_t)(len - SD_NOISE_TAGLEN - want);
			uint8_t *p = agent_tx(a);

			if (n > AGENT_MAX_PAYLOAD)
				n = AGENT_MAX_PAYLOAD;
			memcpy(p, msg + want, n);
			agent_emit(a, BP_EVT_MESSAGE, (uint8_t)n);
			a->n[AGENT_N_MESSAGES_RECEIVED]++;
			want = (uint16_t)(want + n);
		}
		consume(a, (uint16_t)(FRAME_HEADER_LEN + len));
	}
	grant(a);
}

/* End of the relayed stream (RELAY_CLOSE), with the host's reason. */
static void stream_end(agent *a, uint8_t reason)
{
	if (a->state == BP_STATE_HANDSHAKE) {
		/* Closed before a whole message 2: at a frame boundary the
		 * connection failed (io), inside a frame it cut it short. */
		if (reason == BP_R_NONE)
			reason = a->relay_fill == 0 ? BP_R_IO : BP_R_SHORT_FRAME;
		hs_fail(a, reason);
	} else if (a->state == BP_STATE_SESSION) {
		if (reason == BP_R_NONE && a->relay_fill != 0)
			reason = BP_R_SHORT_FRAME;
		session_end(a, reason);
	}
}

#if AGENT_NETWORK
/* Network mode: what the server sent since the last tick, into the relay
 * buffer, handled as the host's relayed bytes are. */
static void net_receive(agent *a)
{
	uint16_t room = (uint16_t)(AGENT_RELAY_LEN - a->relay_fill);
	int r;

	if (room == 0)
		return; /* process() refuses a frame the buffer cannot hold */
	r = port_net_recv(a->net_sock, a->relay + a->relay_fill, room, 0);
	if (r > 0) {
		a->relay_fill = (uint16_t)(a->relay_fill + r);
		process(a);
	} else if (r != PORT_NET_ERR_TIMEOUT) {
		stream_end(a, r == PORT_NET_ERR_CLOSED ? BP_R_NONE : BP_R_IO);
	}
}
#endif

void agent_run_after(agent *a, uint8_t after, uint8_t arg)
{
	switch (after) {
	case AFTER_START:
		start(a);
		break;
	case AFTER_RELAY:
		process(a);
		break;
	case AFTER_RELAY_CLOSE:
		stream_end(a, arg);
		break;
	case AFTER_CLOSE:
		session_end(a, BP_R_NONE);
		break;
	}
}

void agent_run_tick(agent *a)
{
#if AGENT_NETWORK
	if (a->net_open && a->state != BP_STATE_IDLE)
		net_receive(a);
#endif
	if (a->state == BP_STATE_HANDSHAKE &&
	    (int32_t)(port_millis() - a->deadline_ms) >= 0)
		hs_fail(a, BP_R_TIMEOUT);
}
