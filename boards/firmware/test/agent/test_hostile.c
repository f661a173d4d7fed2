/*
 * test/agent/test_hostile.c: the agent under a hostile line. Random bytes
 * and randomly mutated frames (flipped bits, cut, glued, commands with
 * random payloads) in every state: the agent must never crash (the test
 * also runs under AddressSanitizer and UndefinedBehaviorSanitizer), never
 * emit anything that is not a valid frame, never break its event order,
 * and still answer HELLO afterwards.
 */
#include <string.h>

#include "agent/internal.h"
#include "rig.h"
#include "unit.h"
#include "vectors.h"

static rig r;

#define ROUNDS 4000

static void to_state(unsigned s)
{
	uint8_t key[32];

	rig_fresh(&r);
	ut_unhex(key, sizeof key, psk_psk);
	CHECK(rig_provision_psk(&r, psk_device_id, key) == BP_OK);
	ut_unhex(key, sizeof key, noise_init_static);
	CHECK(rig_provision_noise(&r, key, key, 5) == BP_OK);
	if (s == 1)
		CHECK(rig_handshake(&r, BP_PROFILE_NOISE) == BP_OK); /* waits for message 2 */
	if (s == 2)
		CHECK(rig_handshake(&r, BP_PROFILE_PSK) == BP_OK); /* a session */
}

static void random_line(void)
{
	uint8_t buf[700], pl[255];
	unsigned round, s, kind;
	size_t n, i;

	ut_rng_seed(99);
	for (s = 0; s < 3; s++) {
		to_state(s);
		for (round = 0; round < ROUNDS; round++) {
			kind = ut_rng_u32() % 4;
			n = ut_rng_u32() % 300;
			switch (kind) {
			case 0: /* noise, zeros included */
				ut_rng_bytes(buf, n);
				break;
			case 1: /* a command with a random payload */
				ut_rng_bytes(pl, sizeof pl);
				n = tp_encode(buf, sizeof buf, 1, (uint8_t)(ut_rng_u32() % 0x0E),
					      (uint8_t)ut_rng_u32(), pl,
					      (uint8_t)(ut_rng_u32() % (AGENT_MAX_PAYLOAD + 1)));
				break;
			case 2: /* a command with bits flipped */
				ut_rng_bytes(pl, sizeof pl);
				n = tp_encode(buf, sizeof buf, 1, (uint8_t)(1 + ut_rng_u32() % 0x0C),
					      (uint8_t)ut_rng_u32(), pl, (uint8_t)(ut_rng_u32() % 40));
				for (i = 0; i < 3; i++)
					buf[ut_rng_u32() % n] ^= (uint8_t)(1u << (ut_rng_u32() % 8));
				break;
			default: /* a valid frame cut short and glued to the next */
				ut_rng_bytes(pl, sizeof pl);
				n = tp_encode(buf, sizeof buf, 1, BP_CMD_RELAY_DATA, (uint8_t)ut_rng_u32(),
					      pl, (uint8_t)(1 + ut_rng_u32() % 60));
				n = 1 + ut_rng_u32() % n;
				break;
			}
			/* Neither RESET kind 1 nor reboots matter here: the port
			 * would reboot, this test carries on. */
			agent_rx(&r.a, buf, n);
			if (ut_rng_u32() % 16 == 0) {
				tp_ms += ut_rng_u32() % 3000;
				agent_tick(&r.a);
			}
			rig_take(&r);
			rig_clear(&r);
		}
		ut_case = "a hostile line: the output stays well-formed";
		CHECK(r.bad == 0);
		CHECK(r.a.relay_fill + r.a.credit <= AGENT_RELAY_LEN);
		CHECK(r.a.state <= BP_STATE_SESSION);
		ut_case = "a hostile line: the agent still answers";
		agent_rx(&r.a, (const uint8_t *)"\x00", 1); /* end any chunk */
		CHECK(rig_cmd(&r, BP_CMD_HELLO, (const uint8_t *)"\x01\x01", 2) == BP_OK);
	}
}

/* The agent never echoes what it received: no response or event carries a
 * command's payload back, except MESSAGE, which carries what the server
 * sent. Provisioned keys never appear on the line or in the log. */
static void no_echo(void)
{
	uint8_t key[32], p[128], n = 0, wire[300], out[4096];
	size_t wn, on, i;
	const uint8_t marker[8] = {0xC0, 0xFF, 0xEE, 0x5E, 0xC7, 0xE7, 0x4B, 0x1D};

	ut_case = "keys never leave the agent";
	rig_fresh(&r);
	memset(key, 0, sizeof key);
	memcpy(key, marker, sizeof marker);
	tlv_byte(p, &n, BP_TAG_PROFILE, BP_PROFILE_PSK);
	tlv(p, &n, BP_TAG_DEVICE_ID, (const uint8_t *)"echo", 4);
	tlv(p, &n, BP_TAG_DEVICE_KEY, key, 32);
	wn = tp_encode(wire, sizeof wire, 1, BP_CMD_PROVISION, 1, p, n);
	tp_raw(out, sizeof out);
	agent_rx(&r.a, wire, wn);
	wn = tp_encode(wire, sizeof wire, 1, BP_CMD_HANDSHAKE, 2, (const uint8_t *)"\x01\x03\x00\x00", 4);
	agent_rx(&r.a, wire, wn);
	wn = tp_encode(wire, sizeof wire, 1, BP_CMD_READ_LOG, 3, (const uint8_t *)"\x00\x00\x00\x00", 4);
	agent_rx(&r.a, wire, wn);
	wn = tp_encode(wire, sizeof wire, 1, BP_CMD_SEND, 4, marker, sizeof marker);
	agent_rx(&r.a, wire, wn);
	on = tp_raw(out, sizeof out);
	CHECK(on > 0);
	for (i = 0; i + sizeof marker <= on; i++)
		CHECK(memcmp(out + i, marker, sizeof marker) != 0);
	for (i = 0; i + 4 <= AGENT_LOG_LEN; i++)
		CHECK(memcmp(r.a.log + i, marker, 4) != 0);
}

void test_agent_hostile(void)
{
	random_line();
	no_echo();
}
