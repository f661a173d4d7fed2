/* test/agent/rig.c: see rig.h. */
#include "rig.h"

#include <string.h>

#include "unit.h"

uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void note_event(rig *r, const tp_frame *f)
{
	if (f->type == BP_EVT_BOOT) {
		r->next_ev_seq = 0;
		r->credit = 0;
	}
	if (f->seq != r->next_ev_seq)
		r->ev_gap = 1;
	r->next_ev_seq = (uint8_t)(f->seq + 1);
	if (r->nev < RIG_EVENTS)
		r->ev[r->nev++] = *f;
	if (f->type == BP_EVT_RELAY_DATA && r->stream_len + f->len <= RIG_STREAM) {
		memcpy(r->stream + r->stream_len, f->payload, f->len);
		r->stream_len += f->len;
	}
	if (f->type == BP_EVT_RELAY_CREDIT)
		r->credit += (uint32_t)(f->payload[0] << 8 | f->payload[1]);
	if (f->type == BP_EVT_CLOSED)
		r->credit = 0; /* credit ends with the relay */
}

/* Sorts the output; returns 1 when the response to (type, seq) came. */
static int sort(rig *r, uint8_t type, uint8_t seq)
{
	tp_frame f[RIG_EVENTS];
	size_t n, i, bad, before = 0;
	int got = 0;

	n = tp_take(f, RIG_EVENTS, &bad);
	r->bad += bad;
	for (i = 0; i < n; i++) {
		CHECK(f[i].ver == BP_VERSION);
		if (f[i].type >= 0x40 && f[i].type <= 0x7F) {
			note_event(r, &f[i]);
			if (!got)
				before++;
		} else if (!got && f[i].type == (type | BP_RESPONSE_BIT) && f[i].seq == seq) {
			r->rsp = f[i];
			got = 1;
		}
	}
	r->events_before = before;
	return got;
}

void rig_take(rig *r)
{
	sort(r, 0, 0);
}

void rig_clear(rig *r)
{
	r->nev = 0;
	r->stream_len = 0;
}

void rig_fresh(rig *r)
{
	tp_reset();
	memset(r, 0, sizeof *r);
	agent_boot(&r->a, BP_BOOT_POWER_ON);
	sort(r, 0, 0);
}

void rig_reboot(rig *r, uint8_t reason)
{
	agent_boot(&r->a, reason);
	rig_clear(r);
	sort(r, 0, 0);
}

static uint8_t send(rig *r, uint8_t type, uint8_t seq, const uint8_t *p, uint8_t len)
{
	r->act = tp_command(&r->a, type, seq, p, len);
	if (!sort(r, type, seq))
		return 0xFF;
	return r->rsp.len > 0 ? r->rsp.payload[0] : 0xFE;
}

uint8_t rig_cmd(rig *r, uint8_t type, const uint8_t *p, uint8_t len)
{
	return send(r, type, r->seq++, p, len);
}

uint8_t rig_retransmit(rig *r, uint8_t type, const uint8_t *p, uint8_t len)
{
	return send(r, type, (uint8_t)(r->seq - 1), p, len);
}

uint8_t rig_relay(rig *r, const uint8_t *p, size_t n, size_t chunk)
{
	size_t k;
	uint8_t st;

	while (n > 0) {
		k = n < chunk ? n : chunk;
		if (k > r->credit)
			k = r->credit;
		if (k > AGENT_MAX_PAYLOAD)
			k = AGENT_MAX_PAYLOAD;
		if (k == 0)
			return BP_NO_CREDIT; /* the board granted nothing more */
		r->credit -= (uint32_t)k;
		st = rig_cmd(r, BP_CMD_RELAY_DATA, p, (uint8_t)k);
		if (st != BP_OK)
			return st;
		p += k;
		n -= k;
	}
	return 0;
}

const tp_frame *rig_event(const rig *r, uint8_t type)
{
	size_t i;

	for (i = 0; i < r->nev; i++)
		if (r->ev[i].type == type)
			return &r->ev[i];
	return NULL;
}

size_t rig_count(const rig *r, uint8_t type)
{
	size_t i, n = 0;

	for (i = 0; i < r->nev; i++)
		n += r->ev[i].type == type;
	return n;
}

void tlv(uint8_t *p, uint8_t *n, uint8_t tag, const uint8_t *v, uint8_t len)
{
	p[(*n)++] = tag;
	p[(*n)++] = len;
	if (len > 0)
		memcpy(p + *n, v, len);
	*n = (uint8_t)(*n + len);
}

void tlv_byte(uint8_t *p, uint8_t *n, uint8_t tag, uint8_t v)
{
	tlv(p, n, tag, &v, 1);
}

void tlv_u64(uint8_t *p, uint8_t *n, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	tlv(p, n, tag, b, 8);
}

uint8_t rig_provision_noise(rig *r, const uint8_t key[32], const uint8_t server[32], uint64_t counter)
{
	uint8_t p[128], n = 0;

	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_NOISE);
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	tlv(p, &n, BP_TAG_SERVER_KEY, server, 32);
	tlv_u64(p, &n, BP_TAG_COUNTER, counter);
	return rig_cmd(r, BP_CMD_PROVISION, p, n);
}

uint8_t rig_provision_seed(rig *r, const char *id, uint8_t curve, const uint8_t *key, uint8_t klen)
{
	uint8_t p[128], n = 0;

	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_SEED);
	tlv(p, &n, BP_TAG_DEVICE_ID, (const uint8_t *)id, (uint8_t)strlen(id));
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, klen);
	tlv_byte(p, &n, BP_TAG_CURVE, curve);
	return rig_cmd(r, BP_CMD_PROVISION, p, n);
}

uint8_t rig_provision_psk(rig *r, const char *id, const uint8_t key[32])
{
	uint8_t p[128], n = 0;

	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_ID, (const uint8_t *)id, (uint8_t)strlen(id));
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	return rig_cmd(r, BP_CMD_PROVISION, p, n);
}

uint8_t rig_handshake(rig *r, uint8_t profile)
{
	uint8_t p[4] = {BP_MODE_RELAY, 0, 0, 0};

	p[1] = profile;
	return rig_cmd(r, BP_CMD_HANDSHAKE, p, sizeof p);
}
