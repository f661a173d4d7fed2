/*
 * test/test_chachapoly.c: ChaCha20, Poly1305 and AEAD_CHACHA20_POLY1305
 * against RFC 8439 (§2.3.2, §2.4.2, §2.5.2, §2.8.2, A.5), the Noise
 * ChaChaPoly cipher functions against flynn/noise (generated), and the
 * failure behaviour of open: every altered bit is refused and the output
 * is wiped.
 */
#include <string.h>

#include "check.h"
#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "vectors/chachapoly_rfc.h"
#include "vectors/generated.h"

#define WIPED_CANARY 0xA5

static int all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void chacha20_rfc(void)
{
	uint8_t key[32], nonce[12], block[64], pt[200], ct[200];
	size_t n;

	sd_case = "RFC 8439 §2.3.2 block function";
	unhex(key, sizeof key, rfc8439_232_key);
	unhex(nonce, sizeof nonce, rfc8439_232_nonce);
	sd_chacha20_block(block, key, RFC8439_232_COUNTER, nonce);
	CHECK_HEX(block, sizeof block, rfc8439_232_block);

	sd_case = "RFC 8439 §2.4.2 cipher";
	unhex(key, sizeof key, rfc8439_242_key);
	unhex(nonce, sizeof nonce, rfc8439_242_nonce);
	n = unhex(pt, sizeof pt, rfc8439_242_plaintext);
	sd_chacha20_xor(ct, pt, n, key, RFC8439_242_COUNTER, nonce);
	CHECK_HEX(ct, n, rfc8439_242_ciphertext);
	/* In place, and back again. */
	sd_chacha20_xor(pt, pt, n, key, RFC8439_242_COUNTER, nonce);
	CHECK_HEX(pt, n, rfc8439_242_ciphertext);
	sd_chacha20_xor(pt, pt, n, key, RFC8439_242_COUNTER, nonce);
	CHECK_HEX(pt, n, rfc8439_242_plaintext);
}

static void poly1305_rfc(void)
{
	uint8_t key[32], msg[64], tag[16];
	size_t n, i;
	sd_poly1305_ctx c;

	sd_case = "RFC 8439 §2.5.2 Poly1305";
	unhex(key, sizeof key, rfc8439_252_key);
	n = unhex(msg, sizeof msg, rfc8439_252_msg);
	sd_poly1305(tag, msg, n, key);
	CHECK_HEX(tag, sizeof tag, rfc8439_252_tag);

	sd_poly1305_init(&c, key);
	for (i = 0; i < n; i++)
		sd_poly1305_update(&c, msg + i, 1);
	sd_poly1305_final(&c, tag);
	CHECK_HEX(tag, sizeof tag, rfc8439_252_tag);

	/* final wipes the one-time key and the accumulator. */
	{
		sd_poly1305_ctx zero;

		memset(&zero, 0, sizeof zero);
		CHECK(memcmp(&c, &zero, sizeof c) == 0);
	}
}

static void poly1305_generated(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(gen_poly1305); i++) {
		const struct gen_poly1305 *v = &gen_poly1305[i];
		uint8_t key[32], msg[128], tag[16];
		size_t n;

		sd_case = "generated poly1305";
		unhex(key, sizeof key, v->key);
		n = unhex(msg, sizeof msg, v->msg);
		sd_poly1305(tag, msg, n, key);
		CHECK_HEX(tag, sizeof tag, v->tag);
	}
}

/* Flips every bit of ciphertext, tag, AAD and nonce in turn: open must
 * refuse each one and leave the output zeroed. */
static void aead_tamper(const uint8_t key[32], const uint8_t nonce[12],
			const uint8_t *ad, size_t ad_len, const uint8_t *ct,
			size_t len, const uint8_t tag[16])
{
	uint8_t c2[300], t2[16], a2[64], n2[12], out[300];
	size_t i;
	unsigned bit;
	unsigned long refused = 0, wiped = 0, tries = 0;

	memcpy(c2, ct, len);
	memcpy(t2, tag, 16);
	memcpy(a2, ad, ad_len);
	memcpy(n2, nonce, 12);
	for (i = 0; i < len + 16 + ad_len + 12; i++) {
		uint8_t *p = i < len ? &c2[i]
			     : i < len + 16 ? &t2[i - len]
			     : i < len + 16 + ad_len ? &a2[i - len - 16]
			     : &n2[i - len - 16 - ad_len];

		for (bit = 0; bit < 8; bit++) {
			*p ^= (uint8_t)(1u << bit);
			memset(out, WIPED_CANARY, sizeof out);
			tries++;
			if (sd_aead_chacha20poly1305_open(out, key, n2, a2, ad_len,
							  c2, len, t2) == SD_ERR_AUTH)
				refused++;
			if (all_zero(out, len) && out[len] == WIPED_CANARY)
				wiped++;
			*p ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(refused == tries);
	CHECK(wiped == tries);
	/* Unaltered, it opens again. */
	CHECK(sd_aead_chacha20poly1305_open(out, key, n2, a2, ad_len, c2, len, t2) ==
	      SD_OK);
}

static void aead_rfc(void)
{
	uint8_t key[32], nonce[12], ad[16], pt[300], ct[300], tag[16], out[300];
	size_t n, al;

	sd_case = "RFC 8439 §2.8.2 AEAD seal";
	unhex(key, sizeof key, rfc8439_282_key);
	unhex(nonce, sizeof nonce, rfc8439_282_nonce);
	al = unhex(ad, sizeof ad, rfc8439_282_aad);
	n = unhex(pt, sizeof pt, rfc8439_282_plaintext);
	sd_aead_chacha20poly1305_seal(ct, tag, key, nonce, ad, al, pt, n);
	CHECK_HEX(ct, n, rfc8439_282_ciphertext);
	CHECK_HEX(tag, sizeof tag, rfc8439_282_tag);
	CHECK(sd_aead_chacha20poly1305_open(out, key, nonce, ad, al, ct, n, tag) ==
	      SD_OK);
	CHECK_MEM(out, pt, n);
	sd_case = "RFC 8439 §2.8.2 tampering";
	aead_tamper(key, nonce, ad, al, ct, n, tag);

	/* The wrong key is refused too. */
	key[31] ^= 0x80;
	memset(out, WIPED_CANARY, sizeof out);
	CHECK(sd_aead_chacha20poly1305_open(out, key, nonce, ad, al, ct, n, tag) ==
	      SD_ERR_AUTH);
	CHECK(all_zero(out, n));

	sd_case = "RFC 8439 A.5 AEAD decryption";
	unhex(key, sizeof key, rfc8439_a5_key);
	unhex(nonce, sizeof nonce, rfc8439_a5_nonce);
	al = unhex(ad, sizeof ad, rfc8439_a5_aad);
	n = unhex(ct, sizeof ct, rfc8439_a5_ciphertext);
	unhex(tag, sizeof tag, rfc8439_a5_tag);
	CHECK(sd_aead_chacha20poly1305_open(out, key, nonce, ad, al, ct, n, tag) ==
	      SD_OK);
	CHECK_HEX(out, n, rfc8439_a5_plaintext);
	/* In place. */
	CHECK(sd_aead_chacha20poly1305_open(ct, key, nonce, ad, al, ct, n, tag) ==
	      SD_OK);
	CHECK_HEX(ct, n, rfc8439_a5_plaintext);
}

static void noise_nonce(void)
{
	uint8_t nonce[12];

	sd_case = "Noise §12.3 nonce";
	sd_noise_chachapoly_nonce(nonce, UINT64_C(0x0102030405060708));
	CHECK_HEX(nonce, sizeof nonce, "00000000" "0807060504030201");
	sd_noise_chachapoly_nonce(nonce, 0);
	CHECK_HEX(nonce, sizeof nonce, "000000000000000000000000");
	sd_noise_chachapoly_nonce(nonce, ~UINT64_C(0));
	CHECK_HEX(nonce, sizeof nonce, "00000000ffffffffffffffff");
}

static void noise_generated(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(gen_noise_aead); i++) {
		const struct gen_noise_aead *v = &gen_noise_aead[i];
		uint8_t key[32], ad[64], pt[256], ct[256 + 16], out[256 + 16];
		size_t al, n, cl;

		sd_case = "Noise ChaChaPoly (generated)";
		unhex(key, sizeof key, v->key);
		al = unhex(ad, sizeof ad, v->ad);
		n = unhex(pt, sizeof pt, v->pt);
		cl = unhex(ct, sizeof ct, v->ct);
		CHECK(cl == n + SD_AEAD_TAG_LEN);

		sd_noise_chachapoly_encrypt(out, key, v->n, ad, al, pt, n);
		CHECK_MEM(out, ct, cl);
		memset(out, 0, sizeof out);
		CHECK(sd_noise_chachapoly_decrypt(out, key, v->n, ad, al, ct, cl) ==
		      SD_OK);
		CHECK_MEM(out, pt, n);

		/* In place both ways. */
		memcpy(out, pt, n);
		sd_noise_chachapoly_encrypt(out, key, v->n, ad, al, out, n);
		CHECK_MEM(out, ct, cl);
		CHECK(sd_noise_chachapoly_decrypt(out, key, v->n, ad, al, out, cl) ==
		      SD_OK);
		CHECK_MEM(out, pt, n);

		/* Another counter is another nonce: refused, output wiped. */
		memset(out, WIPED_CANARY, sizeof out);
		CHECK(sd_noise_chachapoly_decrypt(out, key, v->n + 1, ad, al, ct,
						  cl) == SD_ERR_AUTH);
		CHECK(all_zero(out, n));
	}

	sd_case = "Noise ChaChaPoly short ciphertext";
	{
		uint8_t key[32] = {0}, buf[16] = {0};

		CHECK(sd_noise_chachapoly_decrypt(buf, key, 0, NULL, 0, buf, 15) ==
		      SD_ERR_LENGTH);
		CHECK(sd_noise_chachapoly_decrypt(buf, key, 0, NULL, 0, buf, 0) ==
		      SD_ERR_LENGTH);
	}
}

/* Random garbage, random lengths: open never accepts and never touches
 * bytes beyond len (the sanitizer build checks the memory side). */
static void aead_random_garbage(void)
{
	sd_rng r;
	uint8_t key[32], nonce[12], ad[40], ct[300], tag[16], out[301];
	unsigned i;
	unsigned long accepted = 0;

	sd_case = "AEAD open on random input";
	rng_seed(&r, 8439);
	for (i = 0; i < 2000; i++) {
		size_t n = rng_u32(&r) % 300, al = rng_u32(&r) % 40;

		rng_bytes(&r, key, sizeof key);
		rng_bytes(&r, nonce, sizeof nonce);
		rng_bytes(&r, ad, al);
		rng_bytes(&r, ct, n);
		rng_bytes(&r, tag, sizeof tag);
		out[n] = WIPED_CANARY;
		if (sd_aead_chacha20poly1305_open(out, key, nonce, ad, al, ct, n,
						  tag) != SD_ERR_AUTH)
			accepted++;
		CHECK(out[n] == WIPED_CANARY);
	}
	CHECK(accepted == 0);
}

void test_chachapoly(void)
{
	chacha20_rfc();
	poly1305_rfc();
	poly1305_generated();
	aead_rfc();
	noise_nonce();
	noise_generated();
	aead_random_garbage();
}
