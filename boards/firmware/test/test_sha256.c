/*
 * test/test_sha256.c: SHA-256, HMAC-SHA256, HKDF-SHA256 and the Noise HKDF
 * against FIPS 180-4 / RFC 6234 §8.5, RFC 4231 and RFC 5869 vectors, then
 * against the generated vectors (crypto/sha256, crypto/hmac).
 */
#include <string.h>

#include "check.h"
#include "crypto/common.h"
#include "crypto/sha256.h"
#include "vectors/generated.h"
#include "vectors/sha256_rfc.h"

static void sha256_published(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(sha256_vectors); i++) {
		const struct sha256_vector *v = &sha256_vectors[i];
		size_t n = strlen(v->msg);
		sd_sha256_ctx c;
		uint8_t got[SD_SHA256_LEN];
		unsigned long r;

		sd_case = v->name;
		sd_sha256_init(&c);
		for (r = 0; r < v->repeat; r++)
			sd_sha256_update(&c, v->msg, n);
		sd_sha256_final(&c, got);
		CHECK_HEX(got, sizeof got, v->digest);
	}
}

/* Every length from 0 to 130 bytes, fed whole and in uneven pieces. */
static void sha256_generated(void)
{
	uint8_t msg[160], got[SD_SHA256_LEN];
	unsigned i, j;

	for (j = 0; j < sizeof msg; j++)
		msg[j] = GEN_MSG_BYTE(j);
	for (i = 0; i < COUNT_OF(gen_sha256); i++) {
		const struct gen_sha256 *v = &gen_sha256[i];
		sd_sha256_ctx c;
		unsigned off = 0, step = 1;

		sd_case = "generated sha256";
		sd_sha256(got, msg, v->len);
		CHECK_HEX(got, sizeof got, v->digest);

		sd_sha256_init(&c);
		while (off < v->len) {
			unsigned n = v->len - off < step ? v->len - off : step;

			sd_sha256_update(&c, msg + off, n);
			off += n;
			step = step * 3 % 67 + 1;
		}
		sd_sha256_final(&c, got);
		CHECK_HEX(got, sizeof got, v->digest);
	}
}

static void sha256_final_wipes_state(void)
{
	sd_sha256_ctx c, zero;
	uint8_t out[SD_SHA256_LEN];

	sd_case = "sha256 final wipes";
	memset(&zero, 0, sizeof zero);
	sd_sha256_init(&c);
	sd_sha256_update(&c, "secret", 6);
	sd_sha256_final(&c, out);
	CHECK(memcmp(&c, &zero, sizeof c) == 0);

	{
		sd_hmac_sha256_ctx h, hzero;

		sd_case = "hmac final wipes";
		memset(&hzero, 0, sizeof hzero);
		sd_hmac_sha256_init(&h, (const uint8_t *)"key", 3);
		sd_hmac_sha256_update(&h, "secret", 6);
		sd_hmac_sha256_final(&h, out);
		CHECK(memcmp(&h, &hzero, sizeof h) == 0);
	}
}

static void hmac_published(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(hmac_vectors); i++) {
		const struct hmac_vector *v = &hmac_vectors[i];
		uint8_t key[200], data[200], want[SD_SHA256_LEN], got[SD_SHA256_LEN];
		size_t kl = unhex(key, sizeof key, v->key);
		size_t dl = unhex(data, sizeof data, v->data);
		size_t ml = unhex(want, sizeof want, v->mac);
		sd_hmac_sha256_ctx c;

		sd_case = v->name;
		sd_hmac_sha256(got, key, kl, data, dl);
		CHECK_MEM(got, want, ml);

		/* The same MAC, data fed one byte at a time. */
		sd_hmac_sha256_init(&c, key, kl);
		for (size_t j = 0; j < dl; j++)
			sd_hmac_sha256_update(&c, data + j, 1);
		sd_hmac_sha256_final(&c, got);
		CHECK_MEM(got, want, ml);
	}
}

static void hmac_generated(void)
{
	uint8_t key[200], msg[200], got[SD_SHA256_LEN];
	unsigned i, j;

	for (j = 0; j < sizeof msg; j++) {
		msg[j] = GEN_MSG_BYTE(j);
		key[j] = GEN_KEY_BYTE(j);
	}
	for (i = 0; i < COUNT_OF(gen_hmac); i++) {
		const struct gen_hmac *v = &gen_hmac[i];

		sd_case = "generated hmac";
		sd_hmac_sha256(got, key, v->key_len, msg, v->msg_len);
		CHECK_HEX(got, sizeof got, v->mac);
	}
}

static void hkdf_published(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(hkdf_vectors); i++) {
		const struct hkdf_vector *v = &hkdf_vectors[i];
		uint8_t ikm[100], salt[100], info[100], prk[SD_SHA256_LEN];
		uint8_t okm[100];
		size_t il = unhex(ikm, sizeof ikm, v->ikm);
		size_t sl = unhex(salt, sizeof salt, v->salt);
		size_t fl = unhex(info, sizeof info, v->info);

		sd_case = v->name;
		sd_hkdf_extract(prk, salt, sl, ikm, il);
		CHECK_HEX(prk, sizeof prk, v->prk);
		CHECK(sd_hkdf_expand(okm, v->len, prk, info, fl) == SD_OK);
		CHECK_HEX(okm, v->len, v->okm);

		memset(okm, 0, sizeof okm);
		CHECK(sd_hkdf(okm, v->len, salt, sl, ikm, il, info, fl) == SD_OK);
		CHECK_HEX(okm, v->len, v->okm);
	}

	/* A.3's empty salt, passed as NULL, is the same zero salt. */
	{
		const struct hkdf_vector *v = &hkdf_vectors[2];
		uint8_t ikm[32], prk[SD_SHA256_LEN];
		size_t il = unhex(ikm, sizeof ikm, v->ikm);

		sd_case = "RFC 5869 A.3 with a NULL salt";
		sd_hkdf_extract(prk, NULL, 0, ikm, il);
		CHECK_HEX(prk, sizeof prk, v->prk);
	}
}

static void hkdf_length_limit(void)
{
	static uint8_t okm[SD_HKDF_MAX_LEN + 1];
	uint8_t prk[SD_SHA256_LEN];

	sd_case = "hkdf L limit";
	memset(prk, 7, sizeof prk);
	memset(okm, 0xA5, sizeof okm);
	/* RFC 5869 §2.3: L <= 255*HashLen. One more byte fails and writes
	 * nothing. */
	CHECK(sd_hkdf_expand(okm, SD_HKDF_MAX_LEN + 1, prk, NULL, 0) ==
	      SD_ERR_LENGTH);
	CHECK(okm[0] == 0xA5 && okm[SD_HKDF_MAX_LEN] == 0xA5);
	CHECK(sd_hkdf(okm, SD_HKDF_MAX_LEN + 1, NULL, 0, prk, 32, NULL, 0) ==
	      SD_ERR_LENGTH);
	CHECK(sd_hkdf_expand(okm, SD_HKDF_MAX_LEN, prk, NULL, 0) == SD_OK);
	CHECK(okm[SD_HKDF_MAX_LEN] == 0xA5);
}

static void noise_hkdf(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(gen_noise_hkdf); i++) {
		const struct gen_noise_hkdf *v = &gen_noise_hkdf[i];
		uint8_t ck[32], ikm[100], o1[32], o2[32], o3[32], okm[96];
		size_t il;

		sd_case = "noise hkdf (generated)";
		unhex(ck, sizeof ck, v->ck);
		il = unhex(ikm, sizeof ikm, v->ikm);
		sd_noise_hkdf(o1, o2, o3, ck, ikm, il);
		CHECK_HEX(o1, 32, v->out1);
		CHECK_HEX(o2, 32, v->out2);
		CHECK_HEX(o3, 32, v->out3);

		/* Two outputs: the same first two. */
		memset(o1, 0, 32);
		memset(o2, 0, 32);
		sd_noise_hkdf(o1, o2, NULL, ck, ikm, il);
		CHECK_HEX(o1, 32, v->out1);
		CHECK_HEX(o2, 32, v->out2);

		/* Noise's HKDF is RFC 5869 HKDF with salt = ck and empty info. */
		CHECK(sd_hkdf(okm, sizeof okm, ck, 32, ikm, il, NULL, 0) == SD_OK);
		CHECK_HEX(okm, 32, v->out1);
		CHECK_HEX(okm + 32, 32, v->out2);
		CHECK_HEX(okm + 64, 32, v->out3);

		/* MixKey writes the new chaining key over the old one. */
		sd_noise_hkdf(ck, o2, NULL, ck, ikm, il);
		CHECK_HEX(ck, 32, v->out1);
		CHECK_HEX(o2, 32, v->out2);
	}
}

void test_sha256(void)
{
	sha256_published();
	sha256_generated();
	sha256_final_wipes_state();
	hmac_published();
	hmac_generated();
	hkdf_published();
	hkdf_length_limit();
	noise_hkdf();
}
