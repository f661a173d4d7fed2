/*
 * agent/provision.c: PROVISION (docs/board-protocol.md §5.3). A list of
 * TLV fields, 1B tag | 1B length N | NB value. Every field is checked
 * first; only when all are valid are they written to storage, in order, so
 * a refused command changes nothing. The response body is the tag of the
 * first refused field, 0 when all were taken.
 *
 * This firmware keeps identities for noise (pattern IK only), seed and psk.
 * A tls identity, TLS fields and the XK and KK patterns are refused as
 * UNSUPPORTED. The erase field wipes every identity; the message-1 counter
 * and the boot count survive it (the counter only grows unless a counter
 * field sets it). The rng_seed field belongs to no identity: the port
 * mixes it into the random generator and its stored seed (port_random_seed),
 * and erase leaves that seed alone.
 */
#include <string.h>

#include "crypto/common.h"
#include "crypto/port.h"
#include "internal.h"
#include "port.h"
#include "seed/seed.h"

#define KEY_LEN 32           /* X25519, P-256, psk key */
#define SECP160R1_KEY_LEN 21 /* n has 161 bits */

static const char log_prov[] SD_ROM = "provisioned ";
static const char log_nl[] SD_ROM = "\n";

static int all_zero(const uint8_t *p, uint8_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

static int printable(const uint8_t *p, uint8_t n)
{
	while (n-- > 0) {
		if (*p < 0x20 || *p > 0x7E)
			return 0;
		p++;
	}
	return 1;
}

/* Checks one field whatever the profile: BP_OK, BP_BAD_VALUE or
 * BP_UNSUPPORTED. */
static uint8_t check_field(uint8_t tag, const uint8_t *v, uint8_t n)
{
	switch (tag) {
	case BP_TAG_ERASE:
		return n == 0 ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_PROFILE:
		if (n != 1 || v[0] < BP_PROFILE_NOISE || v[0] > BP_PROFILE_TLS)
			return BP_BAD_VALUE;
		return AGENT_HAS_PROFILE(v[0]) ? BP_OK : BP_UNSUPPORTED;
	case BP_TAG_DEVICE_ID:
		return sd_valid_device_id(v, n) ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_DEVICE_KEY:
		return n == KEY_LEN || n == SECP160R1_KEY_LEN ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_SERVER_KEY:
	case BP_TAG_SERVER_KEY_NEXT:
		return n == KEY_LEN && !all_zero(v, n) ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_COUNTER:
		return n == 8 ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_CURVE:
		return n == 1 && v[0] >= BP_CURVE_X25519 && v[0] <= BP_CURVE_SECP160R1
			       ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_TLS_VERIFY:
		if (n != 1 || v[0] < BP_TLS_VERIFY_FIRST || v[0] > BP_TLS_VERIFY_LAST)
			return BP_BAD_VALUE;
		return BP_UNSUPPORTED;
	case BP_TAG_TLS_PIN:
		if (n != BP_TLS_PIN_SHA1_LEN && n != BP_TLS_PIN_SHA256_LEN)
			return BP_BAD_VALUE;
		return BP_UNSUPPORTED;
	case BP_TAG_SERVER_NAME:
		if (n == 0 || n > BP_SERVER_NAME_MAX || !printable(v, n))
			return BP_BAD_VALUE;
		return BP_UNSUPPORTED;
	case BP_TAG_RNG_SEED:
		return n == BP_RNG_SEED_LEN ? BP_OK : BP_BAD_VALUE;
	case BP_TAG_NOISE_PATTERN:
		if (n != 1 || v[0] < BP_NOISE_IK || v[0] > BP_NOISE_KK)
			return BP_BAD_VALUE;
		return v[0] == BP_NOISE_IK ? BP_OK : BP_UNSUPPORTED;
	}
	return BP_BAD_VALUE;
}

/* Checks a field against the identity it will belong to. */
static uint8_t check_for_profile(uint8_t profile, uint8_t tag, const uint8_t *v, uint8_t n)
{
	if (tag == BP_TAG_DEVICE_KEY && profile != BP_PROFILE_SEED && n != KEY_LEN)
		return BP_BAD_VALUE; /* noise and psk keys are 32 bytes */
	if (tag == BP_TAG_CURVE && profile == BP_PROFILE_SEED && v[0] == BP_CURVE_X25519)
		return BP_BAD_VALUE; /* seed runs on P-256 or secp160r1 */
	return BP_OK;
}

/* Writes one checked field to profile's identity. 0 or -1. */
static int apply(agent *a, uint8_t profile, uint8_t tag, const uint8_t *v, uint8_t n)
{
	uint8_t flags = store_flags(profile), set = 0;
	int err = 0;

	switch (tag) {
	case BP_TAG_DEVICE_ID:
		err = store_write_var(profile, ID_FIELD_ID, v, n);
		set = ID_HAS_ID;
		break;
	case BP_TAG_DEVICE_KEY:
		/* A new key: the cached public key no longer matches. */
		flags &= (uint8_t)~ID_HAS_PUB;
		err = store_write_var(profile, ID_FIELD_KEY, v, n);
		set = ID_HAS_KEY;
		break;
	case BP_TAG_SERVER_KEY:
		err = store_write(profile, ID_FIELD_SERVER, v, n);
		set = ID_HAS_SERVER;
		break;
	case BP_TAG_SERVER_KEY_NEXT:
		err = store_write(profile, ID_FIELD_NEXT, v, n);
		set = ID_HAS_NEXT;
		break;
	case BP_TAG_CURVE:
		err = store_write(profile, ID_FIELD_CURVE, v, n);
		set = ID_HAS_CURVE;
		break;
	case BP_TAG_COUNTER:
		return store_counter_set(a, get_be64(v));
	default:
		return 0; /* profile, pattern IK: nothing to store */
	}
	if (err != 0)
		return -1;
	return store_set_flags(profile, (uint8_t)(flags | set));
}

uint8_t agent_cmd_provision(agent *a, const uint8_t *p, uint8_t len)
{
	uint8_t *tag_out = TX_PAYLOAD(a) + 1;
	uint8_t i, n, tag, st, profile = 0, erase = 0, fields = 0;

	*tag_out = 0;
	a->resp_len = 1;
	if (a->state != BP_STATE_IDLE)
		return BP_BUSY;
	/* Pass 1: the TLV structure and every field on its own. */
	for (i = 0; i < len; i = (uint8_t)(i + BP_TLV_HEADER_LEN + n)) {
		if (len - i < BP_TLV_HEADER_LEN)
			return BP_BAD_LENGTH;
		tag = p[i];
		n = p[i + 1];
		if (len - i - BP_TLV_HEADER_LEN < n)
			return BP_BAD_LENGTH;
		st = check_field(tag, p + i + BP_TLV_HEADER_LEN, n);
		if (st != BP_OK) {
			*tag_out = tag;
			return st;
		}
		if (tag == BP_TAG_ERASE) {
			erase = 1;
			profile = 0; /* the fields after it start afresh */
			fields = 0;
		} else if (tag == BP_TAG_PROFILE) {
			profile = p[i + BP_TLV_HEADER_LEN];
		} else if (tag != BP_TAG_RNG_SEED) {
			fields++;
		}
	}
	if (profile == 0 && !erase)
		profile = a->prov_profile;
	if (profile == 0 && fields > 0) {
		/* The first PROVISION after boot must name its profile. */
		*tag_out = BP_TAG_PROFILE;
		return BP_BAD_VALUE;
	}
	/* Pass 2: the fields against their identity. */
	for (i = 0; i < len; i = (uint8_t)(i + BP_TLV_HEADER_LEN + n)) {
		tag = p[i];
		n = p[i + 1];
		st = check_for_profile(profile, tag, p + i + BP_TLV_HEADER_LEN, n);
		if (st != BP_OK) {
			*tag_out = tag;
			return st;
		}
	}
	/* Pass 3: storage, in order; an erase wipes what came before it. */
	for (i = 0; i < len; i = (uint8_t)(i + BP_TLV_HEADER_LEN + n)) {
		tag = p[i];
		n = p[i + 1];
		if (tag == BP_TAG_ERASE) {
			if (store_erase() != 0)
				return BP_STORAGE;
			continue;
		}
		if (tag == BP_TAG_RNG_SEED) {
			if (port_random_seed(p + i + BP_TLV_HEADER_LEN, n) != 0)
				return BP_STORAGE;
			continue;
		}
		if (profile != 0 && apply(a, profile, tag, p + i + BP_TLV_HEADER_LEN, n) != 0)
			return BP_STORAGE;
	}
	a->prov_profile = profile;
	agent_log(a, log_prov);
	agent_log_num(a, profile);
	agent_log(a, log_nl);
	return BP_OK;
}
