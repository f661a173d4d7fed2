/*
 * test/agent/test_seed.c: the seed and psk devices (seed/) against the
 * profiles' example exchanges (handshake/seed/testdata/vectors.json on
 * P-256 and secp160r1, handshake/psk/testdata/vectors.txt): msg1, the
 * shared secret, the keys and every record, byte for byte. Then the
 * refusals: a point off the curve, the encoding of infinity, a point of
 * the wrong length, a tampered record, an invalid ID.
 */
#include <string.h>

#include "crypto/common.h"
#include "seed/psk.h"
#include "seed/seed.h"
#include "unit.h"
#include "vectors.h"

/* Seals plaintext as a record frame (2B length | ct | tag) into out. */
static size_t seal_frame(sd_gcm_record *r, uint8_t *out, const char *text)
{
	size_t n = strlen(text);

	CHECK(sd_gcm_record_seal(r, out + 2, out + 2 + n, (const uint8_t *)text, n) == SD_OK);
	out[0] = (uint8_t)((n + 16) >> 8);
	out[1] = (uint8_t)(n + 16);
	return n + 18;
}

static void seed_exchange(size_t v)
{
	uint8_t d[32], out[100], want[100], msg2[100], shared[32];
	size_t dl, n, wn, i, sl;
	sd_gcm_session s;
	const char *id = seed_vectors[v].device_id;

	ut_case = seed_vectors[v].curve == SD_SEED_CURVE_P256 ? "seed P-256 vector"
							       : "seed secp160r1 vector";
	dl = ut_unhex(d, sizeof d, seed_vectors[v].device_private);
	n = sd_seed_msg1(out + 2, seed_vectors[v].curve, (const uint8_t *)id, strlen(id));
	out[0] = 0;
	out[1] = (uint8_t)n;
	wn = ut_unhex(want, sizeof want, seed_vectors[v].msg1_frame);
	CHECK_EQ_MEM(out, n + 2, want, wn);

	n = ut_unhex(msg2, sizeof msg2, seed_vectors[v].msg2_frame) - 2;
	CHECK(n == sd_seed_point_len(seed_vectors[v].curve));
	CHECK(dl == (seed_vectors[v].curve == SD_SEED_CURVE_P256 ? 32u : 21u));
	CHECK(sd_seed_agree(seed_vectors[v].curve, shared, d, msg2 + 2, n) == SD_OK);
	sl = ut_unhex(want, sizeof want, seed_vectors[v].shared);
	CHECK_EQ_MEM(shared, (n - 1) / 2, want, sl);
	CHECK(sd_seed_derive(&s, shared, sl, (const uint8_t *)id, strlen(id)) == SD_OK);
	wn = ut_unhex(want, sizeof want, seed_vectors[v].key_ds);
	CHECK_EQ_MEM(s.send.key, s.send.key_len, want, wn);
	wn = ut_unhex(want, sizeof want, seed_vectors[v].key_sd);
	CHECK_EQ_MEM(s.recv.key, s.recv.key_len, want, wn);

	for (i = 0; i < 3; i++) {
		const struct seed_record *r = &seed_vectors[v].records[i];

		wn = ut_unhex(want, sizeof want, r->frame);
		if (r->from_device) {
			n = seal_frame(&s.send, out, r->plaintext);
			CHECK_EQ_MEM(out, n, want, wn);
		} else {
			CHECK(sd_gcm_record_open(&s.recv, want + 2, want + 2, wn - 2) == SD_OK);
			CHECK_EQ_MEM(want + 2, wn - 18, (const uint8_t *)r->plaintext,
				     strlen(r->plaintext));
		}
	}

	ut_case = "seed refuses bad points";
	n = ut_unhex(msg2, sizeof msg2, seed_vectors[v].msg2_frame) - 2;
	/* Every single-bit change of the point: off the curve or a wrong
	 * prefix; none gives a secret. */
	for (i = 0; i < n; i++) {
		msg2[2 + i] ^= 0x01;
		CHECK(sd_seed_agree(seed_vectors[v].curve, shared, d, msg2 + 2, n) == SD_ERR_POINT);
		msg2[2 + i] ^= 0x01;
	}
	/* x = p - 1 + 2^8k... a coordinate at or above p: all 0xFF. */
	memset(msg2 + 3, 0xFF, (n - 1) / 2);
	CHECK(sd_seed_agree(seed_vectors[v].curve, shared, d, msg2 + 2, n) == SD_ERR_POINT);
	msg2[2] = 0x00; /* SEC 1 §2.3.3: infinity */
	CHECK(sd_seed_agree(seed_vectors[v].curve, shared, d, msg2 + 2, 1) == SD_ERR_LENGTH);
	CHECK(sd_seed_agree(seed_vectors[v].curve, shared, d, msg2 + 2, n - 1) == SD_ERR_LENGTH);
	CHECK(sd_seed_agree(0x07, shared, d, msg2 + 2, n) == SD_ERR_LENGTH);
	sd_wipe(&s, sizeof s);
}

static void psk_exchange(void)
{
	uint8_t key[32], out[100], want[100], pt[64];
	size_t n, wn, pn;
	sd_gcm_session s;
	const uint8_t *id = (const uint8_t *)psk_device_id;

	ut_case = "psk vector";
	ut_unhex(key, sizeof key, psk_psk);
	n = sd_psk_msg1(out + 2, id, strlen(psk_device_id));
	out[0] = 0;
	out[1] = (uint8_t)n;
	wn = ut_unhex(want, sizeof want, psk_msg1);
	CHECK_EQ_MEM(out, n + 2, want, wn);
	CHECK(sd_psk_derive(&s, key, id, strlen(psk_device_id)) == SD_OK);
	wn = ut_unhex(want, sizeof want, psk_k_ds);
	CHECK_EQ_MEM(s.send.key, s.send.key_len, want, wn);
	wn = ut_unhex(want, sizeof want, psk_k_sd);
	CHECK_EQ_MEM(s.recv.key, s.recv.key_len, want, wn);

	pn = ut_unhex(pt, sizeof pt, psk_ds0_plain);
	CHECK(sd_gcm_record_seal(&s.send, out + 2, out + 2 + pn, pt, pn) == SD_OK);
	out[0] = 0;
	out[1] = (uint8_t)(pn + 16);
	wn = ut_unhex(want, sizeof want, psk_ds0);
	CHECK_EQ_MEM(out, pn + 18, want, wn);

	wn = ut_unhex(want, sizeof want, psk_sd0);
	pn = ut_unhex(pt, sizeof pt, psk_sd0_plain);
	/* A flipped bit first: refused, output wiped, the counter used up. */
	want[5] ^= 0x80;
	memset(out, 0xA5, sizeof out);
	CHECK(sd_gcm_record_open(&s.recv, out, want + 2, wn - 2) == SD_ERR_AUTH);
	CHECK(out[0] == 0 && out[pn - 1] == 0);
	want[5] ^= 0x80;
	CHECK(sd_gcm_record_open(&s.recv, out, want + 2, wn - 2) == SD_ERR_AUTH);
	s.recv.n = 0;
	CHECK(sd_gcm_record_open(&s.recv, out, want + 2, wn - 2) == SD_OK);
	CHECK_EQ_MEM(out, wn - 18, pt, pn);
	CHECK(sd_gcm_record_open(&s.recv, out, want + 2, 15) == SD_ERR_LENGTH);

	pn = ut_unhex(pt, sizeof pt, psk_ds1_plain);
	CHECK(sd_gcm_record_seal(&s.send, out + 2, out + 2 + pn, pt, pn) == SD_OK);
	out[0] = 0;
	out[1] = (uint8_t)(pn + 16);
	wn = ut_unhex(want, sizeof want, psk_ds1);
	CHECK_EQ_MEM(out, pn + 18, want, wn);

	ut_case = "seed and psk refuse invalid IDs";
	CHECK(sd_psk_msg1(out, (const uint8_t *)"a b", 3) == 0);
	CHECK(sd_psk_msg1(out, id, 0) == 0);
	memset(pt, 'a', sizeof pt);
	CHECK(sd_psk_msg1(out, pt, 64) == 66);
	CHECK(sd_seed_msg1(out, SD_SEED_CURVE_P256, pt, 65) == 0);
	CHECK(sd_seed_msg1(out, 0x03, pt, 8) == 0);
	CHECK(sd_valid_device_id((const uint8_t *)"A-z_0.9", 7));
	CHECK(!sd_valid_device_id((const uint8_t *)"a/b", 3));
	CHECK(sd_psk_derive(&s, key, (const uint8_t *)"a\nb", 3) == SD_ERR_LENGTH);
	s.send.n = UINT64_MAX;
	CHECK(sd_gcm_record_seal(&s.send, out, out + 16, pt, 4) == SD_ERR_LENGTH);
	sd_wipe(&s, sizeof s);
}

void test_seed(void)
{
	size_t v;

	for (v = 0; v < COUNT_OF(seed_vectors); v++)
		seed_exchange(v);
	psk_exchange();
}
