/*
 * test/agent/test_noise.c: the noise device (noise/) against the profile's
 * IK vector (handshake/noise/testdata/vectors.json, made with flynn/noise):
 * message 1 byte for byte from the vector's keys and ephemeral, message 2
 * read with the announcement, the handshake hash, both transport messages,
 * and REKEY at message 65,536 of each direction. Then the failures: every
 * flipped bit of message 2 is refused, a low-order ephemeral is refused,
 * and the state is wiped.
 */
#include <string.h>

#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/x25519.h"
#include "noise/noise.h"
#include "unit.h"
#include "vectors.h"

static int is_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/* A handshake state wiped after a failure: all but the cost meter. */
static int wiped(const sd_noise_ik *hs)
{
	return is_zero((const uint8_t *)&hs->ss, sizeof hs->ss) && is_zero(hs->s, 32) &&
	       is_zero(hs->e, 32) && is_zero(hs->rs, 32) && hs->clock == NULL;
}

static uint32_t fake_clock;
static uint32_t tick(void)
{
	return fake_clock += 3;
}

struct keys {
	uint8_t s[32], s_pub[32], rs[32], e[32], prologue[16];
	size_t prologue_len;
};

static void load_keys(struct keys *k)
{
	ut_unhex(k->s, sizeof k->s, noise_init_static);
	ut_unhex(k->rs, sizeof k->rs, noise_init_remote_static);
	ut_unhex(k->e, sizeof k->e, noise_init_ephemeral);
	k->prologue_len = ut_unhex(k->prologue, sizeof k->prologue, noise_prologue);
	sd_x25519_base(k->s_pub, k->s);
}

/* Runs message 1 of the vector; returns its length. */
static size_t msg1(sd_noise_ik *hs, const struct keys *k, uint8_t *out)
{
	uint8_t counter[8];

	ut_unhex(counter, sizeof counter, noise_messages[0].payload);
	sd_noise_ik_init(hs, k->s, k->rs, k->prologue, k->prologue_len, tick);
	CHECK(sd_noise_ik_write_msg1(hs, out, k->e, k->s_pub, counter, sizeof counter) == SD_OK);
	return SD_NOISE_IK_MSG1_LEN;
}

static void ik_vector(void)
{
	struct keys k;
	sd_noise_ik hs;
	sd_noise_cipher c1, c2;
	uint8_t out[200], want[200], payload[100], msg[200], tag[16];
	size_t n, wn, i;
	int to_server;

	ut_case = "noise IK vector, message 1";
	load_keys(&k);
	fake_clock = 0;
	n = msg1(&hs, &k, out);
	wn = ut_unhex(want, sizeof want, noise_messages[0].ciphertext);
	CHECK_EQ_MEM(out, n, want, wn);
	/* e, es, ss: three scalar multiplications, metered. */
	CHECK(hs.dh_cost == 3 * 3);

	ut_case = "noise IK vector, message 2";
	n = ut_unhex(msg, sizeof msg, noise_messages[1].ciphertext);
	CHECK(n == SD_NOISE_IK_MSG2_LEN);
	CHECK(sd_noise_ik_read_msg2(&hs, payload, msg, n, &c1, &c2) == SD_OK);
	wn = ut_unhex(want, sizeof want, noise_messages[1].payload);
	CHECK_EQ_MEM(payload, n - 48, want, wn);
	CHECK(payload[0] == SD_NOISE_ANNOUNCEMENT_VERSION);
	wn = ut_unhex(want, sizeof want, noise_next_server_static);
	CHECK_EQ_MEM(payload + 33, 32, want, wn);
	wn = ut_unhex(want, sizeof want, noise_handshake_hash);
	CHECK_EQ_MEM(hs.ss.h, 32, want, wn);
	CHECK(hs.dh_cost == 5 * 3);
	/* Everything secret of the handshake is gone. */
	CHECK(is_zero(hs.s, 32) && is_zero(hs.e, 32) &&
	      is_zero(hs.ss.ck, 32) &&
	      is_zero(hs.ss.cs.k, 32));

	ut_case = "noise IK vector, transport";
	n = ut_unhex(msg, sizeof msg, noise_messages[2].payload);
	CHECK(sd_noise_transport_seal(&c1, out, tag, msg, n) == SD_OK);
	memcpy(out + n, tag, 16);
	wn = ut_unhex(want, sizeof want, noise_messages[2].ciphertext);
	CHECK_EQ_MEM(out, n + 16, want, wn);
	n = ut_unhex(msg, sizeof msg, noise_messages[3].ciphertext);
	CHECK(sd_noise_transport_open(&c2, msg, msg, n) == SD_OK);
	wn = ut_unhex(want, sizeof want, noise_messages[3].payload);
	CHECK_EQ_MEM(msg, n - 16, want, wn);
	CHECK(c1.n == 1 && c2.n == 1);

	ut_case = "noise REKEY after 65536 messages";
	c1.n = c2.n = NOISE_REKEY_FIRST_N;
	for (i = 0; i < COUNT_OF(noise_rekey); i++) {
		to_server = noise_rekey[i].to_server;
		n = ut_unhex(msg, sizeof msg, noise_rekey[i].payload);
		wn = ut_unhex(want, sizeof want, noise_rekey[i].ciphertext);
		if (to_server) {
			CHECK(sd_noise_transport_seal(&c1, out, tag, msg, n) == SD_OK);
			memcpy(out + n, tag, 16);
			CHECK_EQ_MEM(out, n + 16, want, wn);
		} else {
			CHECK(sd_noise_transport_open(&c2, out, want, wn) == SD_OK);
			CHECK_EQ_MEM(out, wn - 16, msg, n);
		}
	}
	CHECK(c1.n == NOISE_REKEY_FIRST_N + 2 && c2.n == NOISE_REKEY_FIRST_N + 2);
	/* A replayed record (its nonce is used) no longer opens. */
	wn = ut_unhex(want, sizeof want, noise_rekey[3].ciphertext);
	CHECK(sd_noise_transport_open(&c2, out, want, wn) == SD_ERR_AUTH);
}

static void ik_refusals(void)
{
	struct keys k;
	sd_noise_ik hs;
	sd_noise_cipher c1, c2;
	uint8_t out[200], msg[200], payload[100];
	size_t n, i;
	unsigned bit, refused = 0, total = 0, wiped_count = 0;
	/* RFC 7748 §6.1's low-order points: u = 0 and u = 1. */
	static const uint8_t low_order[2][32] = {{0}, {1}};

	ut_case = "noise message 2 with a flipped bit";
	load_keys(&k);
	n = ut_unhex(msg, sizeof msg, noise_messages[1].ciphertext);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			msg1(&hs, &k, out);
			msg[i] ^= (uint8_t)(1u << bit);
			total++;
			refused += sd_noise_ik_read_msg2(&hs, payload, msg, n, &c1, &c2) != SD_OK;
			wiped_count += wiped(&hs);
			msg[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(refused == total);
	CHECK(wiped_count == total);

	ut_case = "noise message 2 from a low-order ephemeral";
	for (i = 0; i < 2; i++) {
		msg1(&hs, &k, out);
		memcpy(msg, low_order[i], 32);
		CHECK(sd_noise_ik_read_msg2(&hs, payload, msg, n, &c1, &c2) == SD_ERR_LOW_ORDER);
		CHECK(wiped(&hs) && hs.dh_cost == 4 * 3); /* e, es, ss, then ee */
	}

	ut_case = "noise message 2 too short";
	msg1(&hs, &k, out);
	CHECK(sd_noise_ik_read_msg2(&hs, payload, msg, 47, &c1, &c2) == SD_ERR_LENGTH);

	ut_case = "noise message 1 to a low-order pinned key";
	sd_noise_ik_init(&hs, k.s, low_order[1], k.prologue, k.prologue_len, NULL);
	CHECK(sd_noise_ik_write_msg1(&hs, out, k.e, k.s_pub, out, 0) == SD_ERR_LOW_ORDER);
	CHECK(wiped(&hs) && hs.dh_cost == 0); /* no clock */

	ut_case = "noise transport refuses a record without a tag, or with a flipped bit";
	memset(&c1, 0, sizeof c1);
	c1.has_key = 1;
	CHECK(sd_noise_transport_open(&c1, out, msg, 15) == SD_ERR_LENGTH);
	memset(&c2, 0, sizeof c2);
	CHECK(sd_noise_transport_seal(&c2, out, payload, msg, 4) == SD_ERR_LENGTH); /* no key */
	c2 = c1;
	CHECK(sd_noise_transport_seal(&c2, out, out + 4, msg, 4) == SD_OK);
	out[2] ^= 0x10;
	CHECK(sd_noise_transport_open(&c1, msg, out, 20) == SD_ERR_AUTH);
	CHECK(c1.n == 0); /* a failed record does not move the nonce */
	c1.n = UINT64_MAX;
	CHECK(sd_noise_transport_seal(&c1, out, payload, msg, 4) == SD_ERR_LENGTH);
}

/* §5.2 with the 32-byte protocol name: h = the name itself. */
static void symmetric_state(void)
{
	sd_noise_symmetric ss;
	uint8_t out[64], pt[4] = {1, 2, 3, 4};

	ut_case = "noise InitializeSymmetric and EncryptAndHash without a key";
	sd_noise_initialize_symmetric(&ss, SD_NOISE_PROTOCOL_NAME, 32);
	CHECK(memcmp(ss.h, SD_NOISE_PROTOCOL_NAME, 32) == 0);
	CHECK(memcmp(ss.ck, ss.h, 32) == 0);
	CHECK(!ss.cs.has_key);
	CHECK(sd_noise_encrypt_and_hash(&ss, out, pt, sizeof pt) == SD_OK);
	CHECK(memcmp(out, pt, sizeof pt) == 0); /* no key: the plaintext */
	CHECK(sd_noise_decrypt_and_hash(&ss, out, pt, sizeof pt) == SD_OK);
	/* A name longer than HASHLEN is hashed. */
	sd_noise_initialize_symmetric(&ss, "Noise_XXfallback_25519_ChaChaPoly_SHA256", 40);
	CHECK(memcmp(ss.h, "Noise_XXfallback", 16) != 0);
}

void test_noise(void)
{
	symmetric_state();
	ik_vector();
	ik_refusals();
}
