/*
 * test/agent/test_aesgcm.c: AES (crypto/aes.c) against FIPS 197 Appendix
 * C and Go's crypto/aes, AES-GCM (crypto/gcm.c) against the GCM
 * specification's test cases 1-4 and Go's GCM, and the failure behaviour
 * of open: every flipped bit of ciphertext, tag, associated data and IV is
 * refused and the output wiped.
 */
#include <string.h>

#include "crypto/aesgcm.h"
#include "crypto/common.h"
#include "published.h"
#include "unit.h"
#include "vectors.h"

static void aes_block(const char *name, const char *key_hex, const char *pt_hex,
		      const char *ct_hex)
{
	uint8_t key[32], pt[16], ct[16], out[16];
	size_t kl;
	sd_aes_ctx c;

	ut_case = name;
	kl = ut_unhex(key, sizeof key, key_hex);
	ut_unhex(pt, sizeof pt, pt_hex);
	ut_unhex(ct, sizeof ct, ct_hex);
	CHECK(sd_aes_init(&c, key, kl) == SD_OK);
	sd_aes_encrypt(&c, out, pt);
	CHECK_EQ_MEM(out, 16, ct, 16);
	/* In place. */
	sd_aes_encrypt(&c, pt, pt);
	CHECK_EQ_MEM(pt, 16, ct, 16);
	sd_wipe(&c, sizeof c);
}

static void gcm_case(const char *name, const char *key_hex, const char *iv_hex,
		     const char *ad_hex, const char *pt_hex, const char *ct_hex,
		     const char *tag_hex)
{
	uint8_t key[32], iv[12], ad[64], pt[160], ct[160], tag[16], got[160], got_tag[16];
	size_t kl, al, pl;

	ut_case = name;
	kl = ut_unhex(key, sizeof key, key_hex);
	ut_unhex(iv, sizeof iv, iv_hex);
	al = ut_unhex(ad, sizeof ad, ad_hex);
	pl = ut_unhex(pt, sizeof pt, pt_hex);
	ut_unhex(ct, sizeof ct, ct_hex);
	ut_unhex(tag, sizeof tag, tag_hex);

	CHECK(sd_aes_gcm_seal(got, got_tag, key, kl, iv, ad, al, pt, pl) == SD_OK);
	CHECK_EQ_MEM(got, pl, ct, pl);
	CHECK_EQ_MEM(got_tag, 16, tag, 16);
	memset(got, 0xA5, sizeof got);
	CHECK(sd_aes_gcm_open(got, key, kl, iv, ad, al, ct, pl, tag) == SD_OK);
	CHECK_EQ_MEM(got, pl, pt, pl);
	/* In place both ways. */
	memcpy(got, pt, pl);
	CHECK(sd_aes_gcm_seal(got, got_tag, key, kl, iv, ad, al, got, pl) == SD_OK);
	CHECK_EQ_MEM(got, pl, ct, pl);
	CHECK(sd_aes_gcm_open(got, key, kl, iv, ad, al, got, pl, tag) == SD_OK);
	CHECK_EQ_MEM(got, pl, pt, pl);
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/* SP 800-38D §7.2: any change makes open fail, and nothing is released. */
static void gcm_refuses_changes(void)
{
	uint8_t key[16], iv[12], ad[20], pt[40], ct[40], tag[16], out[40];
	unsigned i, bit, refused = 0, wiped = 0, total = 0;

	ut_case = "GCM refuses every flipped bit";
	ut_rng_seed(7);
	ut_rng_bytes(key, sizeof key);
	ut_rng_bytes(iv, sizeof iv);
	ut_rng_bytes(ad, sizeof ad);
	ut_rng_bytes(pt, sizeof pt);
	CHECK(sd_aes_gcm_seal(ct, tag, key, 16, iv, ad, sizeof ad, pt, sizeof pt) == SD_OK);
#define FLIP(buf)                                                                \
	for (i = 0; i < sizeof(buf); i++)                                        \
		for (bit = 0; bit < 8; bit++) {                                  \
			(buf)[i] ^= (uint8_t)(1u << bit);                        \
			memset(out, 0xA5, sizeof out);                           \
			total++;                                                 \
			refused += sd_aes_gcm_open(out, key, 16, iv, ad, sizeof ad, ct, \
						   sizeof ct, tag) == SD_ERR_AUTH; \
			wiped += all_zero(out, sizeof out);                      \
			(buf)[i] ^= (uint8_t)(1u << bit);                        \
		}
	FLIP(ct);
	FLIP(tag);
	FLIP(ad);
	FLIP(iv);
#undef FLIP
	CHECK(total == 8 * (40 + 16 + 20 + 12));
	CHECK(refused == total);
	CHECK(wiped == total);
	/* Unchanged, it opens. */
	CHECK(sd_aes_gcm_open(out, key, 16, iv, ad, sizeof ad, ct, sizeof ct, tag) == SD_OK);
	CHECK_EQ_MEM(out, sizeof out, pt, sizeof pt);
	/* A key of a length AES does not take is refused, not used. */
	CHECK(sd_aes_gcm_seal(out, tag, key, 24, iv, NULL, 0, pt, 8) == SD_ERR_LENGTH);
	CHECK(sd_aes_gcm_open(out, key, 15, iv, NULL, 0, ct, 8, tag) == SD_ERR_LENGTH);
}

void test_aesgcm(void)
{
	size_t i;

	aes_block("FIPS 197 C.1", fips197_c1_key, fips197_c1_plaintext, fips197_c1_ciphertext);
	aes_block("FIPS 197 C.3", fips197_c3_key, fips197_c3_plaintext, fips197_c3_ciphertext);
	for (i = 0; i < COUNT_OF(gen_aes); i++)
		aes_block("AES vs crypto/aes", gen_aes[i].key, gen_aes[i].plaintext,
			  gen_aes[i].ciphertext);
	for (i = 0; i < COUNT_OF(gcm_published); i++)
		gcm_case(gcm_published[i].name, gcm_published[i].key, gcm_published[i].iv,
			 gcm_published[i].ad, gcm_published[i].plaintext,
			 gcm_published[i].ciphertext, gcm_published[i].tag);
	for (i = 0; i < COUNT_OF(gen_gcm); i++)
		gcm_case("GCM vs crypto/cipher", gen_gcm[i].key, gen_gcm[i].iv, gen_gcm[i].ad,
			 gen_gcm[i].plaintext, gen_gcm[i].ciphertext, gen_gcm[i].tag);
	gcm_refuses_changes();
}
