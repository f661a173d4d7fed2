/*
 * test/agent/test_agent.c: the agent's commands other than the relay
 * (docs/board-protocol.md §4-§5): BOOT, HELLO and INFO, the worked
 * examples' responses byte for byte, PROVISION and its refusals,
 * retransmissions, BENCH, READ_COUNTERS, READ_LOG and RESET.
 */
#include <string.h>

#include "agent/internal.h"
#include "agent/port.h"
#include "rig.h"
#include "unit.h"
#include "vectors.h"

static rig r;

/* The worked example named name, decoded. */
static size_t example(const char *name, const char *which, uint8_t *out, size_t cap)
{
	size_t i;

	for (i = 0; i < COUNT_OF(bp_frames); i++) {
		if (strcmp(bp_frames[i].name, name) != 0)
			continue;
		if (strcmp(which, "wire") == 0)
			return ut_unhex(out, cap, bp_frames[i].wire);
		if (strcmp(which, "body") == 0)
			return ut_unhex(out, cap, bp_frames[i].body);
		return ut_unhex(out, cap, bp_frames[i].payload);
	}
	CHECK(!"no such worked example");
	return 0;
}

#if AGENT_MAX_PAYLOAD == 128
/* Feeds a worked example's wire bytes; the agent's raw answer must be
 * another example's wire bytes, exactly. */
static void exchange(const char *command, const char *response)
{
	uint8_t wire[300], want[300], got[600];
	size_t wn, gn;

	ut_case = response;
	wn = example(command, "wire", wire, sizeof wire);
	tp_raw(got, sizeof got);
	r.act = agent_rx(&r.a, wire, wn);
	gn = tp_raw(got, sizeof got);
	wn = example(response, "wire", want, sizeof want);
	CHECK_EQ_MEM(got, gn, want, wn);
}
#endif

static void boot_and_examples(void)
{
	uint8_t wire[64], got[128], want[64];
	size_t wn, gn;
	const tp_frame *f;

	ut_case = "BOOT: seq 0, power-on, boot count from storage";
	rig_fresh(&r);
	f = rig_event(&r, BP_EVT_BOOT);
	CHECK(f != NULL && f->seq == 0 && f->len == BP_BOOT_LEN);
	if (f != NULL) {
		CHECK(f->payload[0] == BP_BOOT_POWER_ON && f->payload[1] == BP_VERSION);
		CHECK(f->payload[2] == AGENT_MAX_PAYLOAD);
		CHECK(f->payload[6] == 1 && f->payload[3] == 0);
	}
	CHECK(r.nev == 1 && r.bad == 0);
	rig_reboot(&r, BP_BOOT_EXTERNAL);
	f = rig_event(&r, BP_EVT_BOOT);
	CHECK(f != NULL && f->payload[0] == BP_BOOT_EXTERNAL && f->payload[6] == 2);
	rig_reboot(&r, BP_BOOT_EXTERNAL);

#if AGENT_MAX_PAYLOAD == 128
	/* §9 assumes max_payload 128 and, for HELLO, boot count 3. */
	exchange("hello-command", "hello-response");
	exchange("provision-command", "provision-response");
	/* The command again: a retransmission, answered from memory. */
	exchange("provision-command", "provision-response");
	exchange("relay-close-command", "relay-close-response");
	exchange("reset-command", "reset-response");
	CHECK(r.act == AGENT_ACT_REBOOT);
	rig_reboot(&r, BP_BOOT_WATCHDOG);
#endif
	/* 0x3F, seq 13: not implemented. */
	ut_case = "unknown-command-response";
	tp_raw(got, sizeof got);
	r.act = tp_command(&r.a, 0x3F, 0x0D, NULL, 0);
	gn = tp_raw(got, sizeof got);
	wn = example("unknown-command-response", "wire", want, sizeof want);
	CHECK_EQ_MEM(got, gn, want, wn);
	/* HELLO with ver 2, seq 14. */
	ut_case = "unsupported-version-response";
	wn = tp_encode(wire, sizeof wire, 2, BP_CMD_HELLO, 0x0E, (const uint8_t *)"\x01\x02", 2);
	agent_rx(&r.a, wire, wn);
	gn = tp_raw(got, sizeof got);
	wn = example("unsupported-version-response", "wire", want, sizeof want);
	CHECK_EQ_MEM(got, gn, want, wn);
	/* Frames of another version that are not commands are ignored. */
	wn = tp_encode(wire, sizeof wire, 2, BP_EVT_MESSAGE, 0, (const uint8_t *)"x", 1);
	agent_rx(&r.a, wire, wn);
	CHECK(tp_raw(got, sizeof got) == 0);
}

static void hello_info(void)
{
	const uint8_t *p;
	size_t off, i, n;

	ut_case = "HELLO";
	rig_fresh(&r);
	CHECK(rig_cmd(&r, BP_CMD_HELLO, (const uint8_t *)"\x01\x01", 2) == BP_OK);
	CHECK(r.rsp.len == 1 + BP_HELLO_RSP_LEN);
	CHECK(r.rsp.payload[1] == 1 && r.rsp.payload[2] == AGENT_MAX_PAYLOAD &&
	      r.rsp.payload[3] == BP_STATE_IDLE && r.rsp.payload[7] == 1);
	CHECK(rig_cmd(&r, BP_CMD_HELLO, (const uint8_t *)"\x02\x05", 2) == BP_UNSUPPORTED_VERSION);
	CHECK(r.rsp.len == 1);
	CHECK(rig_cmd(&r, BP_CMD_HELLO, (const uint8_t *)"\x01\x01\x01", 3) == BP_BAD_LENGTH);
	/* A retransmitted query runs again. */
	CHECK(rig_cmd(&r, BP_CMD_HELLO, (const uint8_t *)"\x00\x07", 2) == BP_OK);
	CHECK(rig_retransmit(&r, BP_CMD_HELLO, (const uint8_t *)"\x00\x07", 2) == BP_OK);
	CHECK(r.rsp.len == 1 + BP_HELLO_RSP_LEN);

	ut_case = "INFO";
	CHECK(rig_cmd(&r, BP_CMD_INFO, NULL, 0) == BP_OK);
	p = r.rsp.payload + 1;
	CHECK(p[0] == 1 && p[1] == AGENT_MAX_PAYLOAD);
	CHECK(p[2] == (BP_CAP_RELAY | BP_CAP_STORAGE));
	CHECK(p[3] == 0x00 && p[4] == 0xF4 && p[5] == 0x24 && p[6] == 0x00); /* 16 MHz */
	CHECK(p[7] == 1);
	CHECK(p[8] == 0x07 && p[9] == 0x07 && p[10] == 0x07);
	off = BP_INFO_FIXED_LEN;
	for (i = 0; i < 4; i++) {
		n = p[off];
		CHECK(n <= BP_INFO_STRING_MAX);
		if (i == 2)
			CHECK(n >= 15 && memcmp(p + off + 1, "shakedown agent", 15) == 0);
		if (i == 3)
			CHECK(n == 14 && memcmp(p + off + 1, "TP-SERIAL-0001", 14) == 0);
		off += 1 + n;
	}
	CHECK(1 + off == r.rsp.len && r.rsp.len <= AGENT_MAX_PAYLOAD);
	CHECK(rig_cmd(&r, BP_CMD_INFO, (const uint8_t *)"x", 1) == BP_BAD_LENGTH);
	CHECK(r.rsp.len == 1);
	/* The caps say what feeds the random generator. */
	tp_random_status = PORT_RANDOM_ENTROPY;
	CHECK(rig_cmd(&r, BP_CMD_INFO, NULL, 0) == BP_OK);
	CHECK(r.rsp.payload[3] == (BP_CAP_RELAY | BP_CAP_STORAGE | BP_CAP_ENTROPY));
	tp_random_status = PORT_RANDOM_SEEDED;
	CHECK(rig_cmd(&r, BP_CMD_INFO, NULL, 0) == BP_OK);
	CHECK(r.rsp.payload[3] == (BP_CAP_RELAY | BP_CAP_STORAGE | BP_CAP_SEEDED));
	tp_random_status = 0;
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, (const uint8_t *)"x", 1) == BP_BAD_LENGTH);
}

static void provisioning(void)
{
	uint8_t p[250], n, key[32], id[65];
	unsigned i;

	ut_case = "PROVISION: every field is checked before any is applied";
	rig_fresh(&r);
	memset(key, 0x11, sizeof key);
	memset(id, 'a', sizeof id);
	/* The first PROVISION after boot must name its profile. */
	n = 0;
	tlv(p, &n, BP_TAG_DEVICE_ID, id, 4);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE);
	CHECK(r.rsp.len == 2 && r.rsp.payload[1] == BP_TAG_PROFILE);
	/* A refused field names its tag, and nothing is stored. */
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_ID, id, 4);
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 31);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE);
	CHECK(r.rsp.payload[1] == BP_TAG_DEVICE_KEY);
	CHECK(store_flags(BP_PROFILE_PSK) == 0);
	{
		static const struct {
			uint8_t tag, len, fill, status;
		} bad[] = {
			{BP_TAG_DEVICE_ID, 65, 'a', BP_BAD_VALUE},
			{BP_TAG_DEVICE_ID, 3, ' ', BP_BAD_VALUE},
			{BP_TAG_DEVICE_ID, 0, 'a', BP_BAD_VALUE},
			{BP_TAG_SERVER_KEY, 31, 1, BP_BAD_VALUE},
			{BP_TAG_SERVER_KEY, 32, 0, BP_BAD_VALUE}, /* all zero */
			{BP_TAG_COUNTER, 7, 1, BP_BAD_VALUE},
			{BP_TAG_CURVE, 1, 4, BP_BAD_VALUE},
			{BP_TAG_NOISE_PATTERN, 1, 2, BP_UNSUPPORTED}, /* XK */
			{BP_TAG_NOISE_PATTERN, 1, 3, BP_UNSUPPORTED}, /* KK */
			{BP_TAG_NOISE_PATTERN, 1, 4, BP_BAD_VALUE},
			{BP_TAG_TLS_VERIFY, 1, 2, BP_UNSUPPORTED},
			{BP_TAG_TLS_VERIFY, 1, 6, BP_BAD_VALUE},
			{BP_TAG_TLS_PIN, 20, 1, BP_UNSUPPORTED},
			{BP_TAG_TLS_PIN, 21, 1, BP_BAD_VALUE},
			{BP_TAG_SERVER_NAME, 5, 'h', BP_UNSUPPORTED},
			{BP_TAG_SERVER_NAME, 5, 0x7F, BP_BAD_VALUE},
			{BP_TAG_ERASE, 1, 0, BP_BAD_VALUE},
			{0x55, 1, 0, BP_BAD_VALUE},
			{BP_TAG_PROFILE, 1, BP_PROFILE_TLS, BP_UNSUPPORTED},
			{BP_TAG_PROFILE, 1, 5, BP_BAD_VALUE},
		};
		uint8_t v[70];

		for (i = 0; i < COUNT_OF(bad); i++) {
			n = 0;
			tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_NOISE);
			memset(v, bad[i].fill, sizeof v);
			tlv(p, &n, bad[i].tag, v, bad[i].len);
			CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == bad[i].status);
			CHECK(r.rsp.len == 2 && r.rsp.payload[1] == bad[i].tag);
		}
	}
	/* A TLV that runs past the payload: BAD_LENGTH, tag 0. */
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	p[n++] = BP_TAG_DEVICE_ID;
	p[n++] = 10;
	p[n++] = 'a';
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_LENGTH);
	CHECK(r.rsp.payload[1] == 0);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, 1) == BP_BAD_LENGTH);
	/* Keys by profile: noise and psk take 32 bytes, seed also 21; seed
	 * does not run on X25519. */
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_NOISE);
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 21);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE);
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_SEED);
	tlv_byte(p, &n, BP_TAG_CURVE, BP_CURVE_X25519);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE);
	CHECK(store_flags(BP_PROFILE_SEED) == 0 && store_flags(BP_PROFILE_NOISE) == 0);

	ut_case = "PROVISION: fields apply to the profile of the previous one";
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_ID, id, 8);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_NOT_PROVISIONED);
	n = 0;
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(store_flags(BP_PROFILE_PSK) == (ID_HAS_ID | ID_HAS_KEY));
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BUSY); /* in a session */
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
	/* The identity is in storage: it survives a reset. */
	rig_reboot(&r, BP_BOOT_EXTERNAL);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);

	ut_case = "PROVISION: erase";
	n = 0;
	tlv(p, &n, BP_TAG_ERASE, NULL, 0);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK); /* erase alone */
	CHECK(store_flags(BP_PROFILE_PSK) == 0);
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_NOT_PROVISIONED);
	n = 0;
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE); /* no profile any more */
	/* Fields before an erase are wiped with it. */
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_ID, id, 8);
	tlv(p, &n, BP_TAG_ERASE, NULL, 0);
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(store_flags(BP_PROFILE_PSK) == ID_HAS_KEY);
	{
		size_t k;
		int clean = 1;

		/* The command that carried the key is wiped from RAM. */
		for (k = 0; k < sizeof r.a.rx; k++)
			clean &= r.a.rx[k] == 0;
		CHECK(clean);
	}
	{
		uint8_t stored[33];

		CHECK(store_read(BP_PROFILE_PSK, ID_FIELD_KEY, stored, sizeof stored) == 0);
		CHECK(stored[0] == 32 && memcmp(stored + 1, key, 32) == 0);
	}

	ut_case = "PROVISION: storage that fails";
	tp_nv_fail_writes = 1;
	n = 0;
	tlv(p, &n, BP_TAG_DEVICE_ID, id, 8);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_STORAGE);
	CHECK(r.rsp.payload[1] == 0);
	tp_nv_fail_writes = 0;

	ut_case = "PROVISION: a retransmission is not applied again";
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_NOISE);
	tlv_u64(p, &n, BP_TAG_COUNTER, 77);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(r.a.counter_last == 77);
	r.a.counter_last = 80; /* as if handshakes had run since */
	CHECK(rig_retransmit(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(r.rsp.len == 2 && r.rsp.payload[1] == 0);
	CHECK(r.a.counter_last == 80);

	ut_case = "counter: never 2^64-1, the value erased flash reads as";
	{
		uint64_t v = 0;

		CHECK(store_counter_set(&r.a, UINT64_MAX - 2u) == 0);
		CHECK(store_counter_next(&r.a, &v) == 0 && v == UINT64_MAX - 1u);
		CHECK(store_counter_next(&r.a, &v) != 0 && v == UINT64_MAX - 1u);
	}
}

static void provisioning_rng_seed(void)
{
	uint8_t p[80], n, seed[BP_RNG_SEED_LEN + 1], key[32];

	ut_case = "PROVISION rng_seed: the port takes the host's bytes";
	rig_fresh(&r);
	memset(seed, 0x5A, sizeof seed);
	memset(key, 0x11, sizeof key);
	/* It belongs to no identity: the first PROVISION may carry it alone. */
	n = 0;
	tlv(p, &n, BP_TAG_RNG_SEED, seed, BP_RNG_SEED_LEN);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(r.rsp.payload[1] == 0);
	CHECK(tp_seeds == 1 && tp_seed_len == BP_RNG_SEED_LEN);
	CHECK(memcmp(tp_seed, seed, BP_RNG_SEED_LEN) == 0);
	/* Beside an identity, and after an erase, which leaves it alone. */
	seed[0] = 0xA5;
	n = 0;
	tlv(p, &n, BP_TAG_ERASE, NULL, 0);
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	tlv(p, &n, BP_TAG_RNG_SEED, seed, BP_RNG_SEED_LEN);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_OK);
	CHECK(tp_seeds == 2 && tp_seed[0] == 0xA5);
	CHECK(store_flags(BP_PROFILE_PSK) == ID_HAS_KEY);

	ut_case = "PROVISION rng_seed: 32 bytes or nothing applied";
	n = 0;
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_ID, (const uint8_t *)"dev-1", 5);
	tlv(p, &n, BP_TAG_RNG_SEED, seed, BP_RNG_SEED_LEN + 1);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE);
	CHECK(r.rsp.payload[1] == BP_TAG_RNG_SEED);
	n = 0;
	tlv(p, &n, BP_TAG_RNG_SEED, seed, BP_RNG_SEED_LEN - 1);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_BAD_VALUE);
	CHECK(tp_seeds == 2 && store_flags(BP_PROFILE_PSK) == ID_HAS_KEY);

	ut_case = "PROVISION rng_seed: storage that fails";
	tp_seed_fail = 1;
	n = 0;
	tlv(p, &n, BP_TAG_RNG_SEED, seed, BP_RNG_SEED_LEN);
	CHECK(rig_cmd(&r, BP_CMD_PROVISION, p, n) == BP_STORAGE);
	tp_seed_fail = 0;
}

static void handshake_command(void)
{
	ut_case = "HANDSHAKE: what the board cannot run";
	rig_fresh(&r);
	CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_NOT_PROVISIONED);
	CHECK(rig_handshake(&r, BP_PROFILE_SEED) == BP_NOT_PROVISIONED);
	CHECK(rig_handshake(&r, BP_PROFILE_TLS) == BP_UNSUPPORTED);
	CHECK(rig_handshake(&r, 9) == BP_BAD_VALUE);
	CHECK(rig_cmd(&r, BP_CMD_HANDSHAKE,
		      (const uint8_t *)"\x02\x01\x13\x88\x22\xb5\x02gw", 9) == BP_UNSUPPORTED);
	CHECK(rig_cmd(&r, BP_CMD_HANDSHAKE, (const uint8_t *)"\x03\x01\x00\x00", 4) == BP_BAD_VALUE);
	CHECK(rig_cmd(&r, BP_CMD_HANDSHAKE, (const uint8_t *)"\x01\x01\x00", 3) == BP_BAD_LENGTH);
	CHECK(rig_cmd(&r, BP_CMD_HANDSHAKE, (const uint8_t *)"\x01\x01\x00\x00\x00", 5) == BP_BAD_LENGTH);
	CHECK(r.a.state == BP_STATE_IDLE && r.nev == 1);
	/* A seed identity whose key length does not fit its curve. */
	{
		uint8_t key[32];

		memset(key, 1, sizeof key);
		CHECK(rig_provision_seed(&r, "dev", BP_CURVE_SECP160R1, key, 32) == BP_OK);
		CHECK(rig_handshake(&r, BP_PROFILE_SEED) == BP_NOT_PROVISIONED);
		CHECK(rig_provision_seed(&r, "dev", BP_CURVE_P256, key, 32) == BP_OK);
		CHECK(rig_handshake(&r, BP_PROFILE_SEED) == BP_OK);
		CHECK(rig_cmd(&r, BP_CMD_CLOSE, NULL, 0) == BP_OK);
	}
}

static void bench(void)
{
	static const struct {
		uint8_t op, param;
		uint16_t size;
		uint8_t iterations, status;
	} cases[] = {
		{BP_BENCH_SCALAR_MULT, BP_CURVE_X25519, 0, 2, BP_OK},
		{BP_BENCH_SCALAR_MULT, BP_CURVE_P256, 0, 1, BP_OK},
		{BP_BENCH_SCALAR_MULT, BP_CURVE_SECP160R1, 0, 1, BP_OK},
		{BP_BENCH_SCALAR_MULT, 4, 0, 1, BP_UNSUPPORTED},
		{BP_BENCH_AEAD_SEAL, BP_AEAD_CHACHAPOLY, 64, 3, BP_OK},
		{BP_BENCH_AEAD_OPEN, BP_AEAD_CHACHAPOLY, 64, 3, BP_OK},
		{BP_BENCH_AEAD_SEAL, BP_AEAD_AES128GCM, 64, 2, BP_OK},
		{BP_BENCH_AEAD_OPEN, BP_AEAD_AES128GCM, 0, 2, BP_OK},
		{BP_BENCH_AEAD_SEAL, BP_AEAD_AES256GCM, 16, 1, BP_OK},
		{BP_BENCH_AEAD_OPEN, BP_AEAD_AES256GCM, AGENT_RELAY_LEN - 16, 1, BP_OK},
		{BP_BENCH_AEAD_SEAL, BP_AEAD_AES256GCM, AGENT_RELAY_LEN - 15, 1, BP_TOO_LARGE},
		{BP_BENCH_AEAD_SEAL, 4, 16, 1, BP_UNSUPPORTED},
		{BP_BENCH_SHA256, 0, 4096, 2, BP_OK},
		{BP_BENCH_SHA256, 1, 64, 1, BP_BAD_VALUE},
		{BP_BENCH_SHA256, 0, 64, 0, BP_BAD_VALUE},
		{5, 0, 64, 1, BP_BAD_VALUE},
	};
	uint8_t p[5];
	const uint8_t *b;
	unsigned i;
	uint32_t min, max;

	rig_fresh(&r);
	for (i = 0; i < COUNT_OF(cases); i++) {
		ut_case = "BENCH";
		p[0] = cases[i].op;
		p[1] = cases[i].param;
		p[2] = (uint8_t)(cases[i].size >> 8);
		p[3] = (uint8_t)cases[i].size;
		p[4] = cases[i].iterations;
		CHECK(rig_cmd(&r, BP_CMD_BENCH, p, sizeof p) == cases[i].status);
		if (cases[i].status != BP_OK) {
			CHECK(r.rsp.len == 1);
			continue;
		}
		CHECK(r.rsp.len == 1 + BP_BENCH_RSP_LEN);
		b = r.rsp.payload + 1;
		min = (uint32_t)b[10] << 24 | (uint32_t)b[11] << 16 | (uint32_t)b[12] << 8 | b[13];
		max = (uint32_t)b[14] << 24 | (uint32_t)b[15] << 16 | (uint32_t)b[16] << 8 | b[17];
		CHECK(b[0] == 1 && b[1] == cases[i].iterations);
		CHECK(min > 0 && min <= max);
		CHECK(be64(b + 2) >= (uint64_t)min * cases[i].iterations);
		CHECK(be64(b + 2) <= (uint64_t)max * cases[i].iterations);
	}
	CHECK(rig_cmd(&r, BP_CMD_BENCH, p, 4) == BP_BAD_LENGTH);
	ut_case = "BENCH leaves the relay buffer clean";
	{
		size_t k;
		int clean = 1;

		for (k = 0; k < AGENT_RELAY_LEN; k++)
			clean &= r.a.relay[k] == 0;
		CHECK(clean);
	}
}

static void counters_log_reset(void)
{
	uint8_t cursor[4] = {0, 0, 0, 0};
	const uint8_t *b;
	size_t i, n;
	uint32_t first, next;
	int saw_boot = 0, saw_uptime = 0;

	ut_case = "READ_COUNTERS";
	rig_fresh(&r);
	tp_ms = 1234;
	CHECK(rig_cmd(&r, BP_CMD_READ_COUNTERS, NULL, 0) == BP_OK);
	n = r.rsp.len > 0 ? (size_t)(r.rsp.len - 1) / BP_COUNTER_ENTRY_LEN : 0;
	CHECK((r.rsp.len - 1) % BP_COUNTER_ENTRY_LEN == 0 && r.rsp.len <= AGENT_MAX_PAYLOAD);
	CHECK(n == (AGENT_MAX_PAYLOAD >= 127 ? 14u : (AGENT_MAX_PAYLOAD - 1u) / 9u));
	for (i = 0; i < n; i++) {
		b = r.rsp.payload + 1 + i * BP_COUNTER_ENTRY_LEN;
		if (b[0] == BP_C_BOOTS)
			saw_boot = be64(b + 1) == 1;
		if (b[0] == BP_C_UPTIME_MS)
			saw_uptime = be64(b + 1) == 1234;
		if (b[0] == BP_C_FRAMES_RX)
			CHECK(be64(b + 1) == 1);
	}
	CHECK(saw_boot);
	CHECK(saw_uptime || AGENT_MAX_PAYLOAD < 127);
	CHECK(rig_cmd(&r, BP_CMD_READ_COUNTERS, cursor, 1) == BP_BAD_LENGTH);

	ut_case = "READ_LOG";
	CHECK(rig_cmd(&r, BP_CMD_READ_LOG, cursor, 4) == BP_OK);
	b = r.rsp.payload + 1;
	first = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	next = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	CHECK(first == 0 && next == 7 && r.rsp.len == 1 + 8 + 7);
	CHECK(memcmp(b + 8, "boot 1\n", 7) == 0);
	/* From the end: nothing new. */
	put_be32(cursor, next);
	CHECK(rig_cmd(&r, BP_CMD_READ_LOG, cursor, 4) == BP_OK && r.rsp.len == 9);
	/* Lines past the ring's size: older positions are gone. */
	for (i = 0; i < 20; i++)
		CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_NOT_PROVISIONED);
	for (i = 0; i < 20; i++) {
		CHECK(rig_provision_psk(&r, "logger", (const uint8_t *)"0123456789abcdef0123456789abcdef") == BP_OK);
	}
	put_be32(cursor, 0);
	CHECK(rig_cmd(&r, BP_CMD_READ_LOG, cursor, 4) == BP_OK);
	b = r.rsp.payload + 1;
	first = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	next = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	CHECK(first > 0 && next == r.a.log_next && next - first == AGENT_LOG_LEN);
	CHECK(r.rsp.len == 1 + 8 + AGENT_LOG_LEN);
	CHECK(memcmp(b + 8 + AGENT_LOG_LEN - 14, "provisioned 3\n", 14) == 0);
	CHECK(rig_cmd(&r, BP_CMD_READ_LOG, cursor, 3) == BP_BAD_LENGTH);

	ut_case = "RESET soft: BOOT reason 4, seq 0, the session gone";
	CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK);
	CHECK(r.a.state == BP_STATE_SESSION);
	rig_clear(&r);
	CHECK(rig_cmd(&r, BP_CMD_RESET, (const uint8_t *)"\x00", 1) == BP_OK);
	CHECK(r.act == 0);
	CHECK(r.nev == 1 && r.ev[0].type == BP_EVT_BOOT && r.ev[0].seq == 0);
	CHECK(r.ev[0].payload[0] == BP_BOOT_SOFT && r.ev[0].payload[6] == 2);
	CHECK(r.a.state == BP_STATE_IDLE && r.a.last_valid == 0);
	for (i = 0; i < sizeof r.a.sec; i++)
		CHECK(((const uint8_t *)&r.a.sec)[i] == 0);
	ut_case = "RESET reboot: the port reboots";
	CHECK(rig_cmd(&r, BP_CMD_RESET, (const uint8_t *)"\x01", 1) == BP_OK);
	CHECK(r.act == AGENT_ACT_REBOOT);
	CHECK(rig_cmd(&r, BP_CMD_RESET, (const uint8_t *)"\x02", 1) == BP_BAD_VALUE);
	CHECK(rig_cmd(&r, BP_CMD_RESET, NULL, 0) == BP_BAD_LENGTH);
}

void test_agent(void)
{
	boot_and_examples();
	hello_info();
	provisioning();
	provisioning_rng_seed();
	handshake_command();
	bench();
	counters_log_reset();
}
