/*
 * test/avr/vectors.c: the ATmega328P's vector test (`make test-chips`).
 * On the simulated chip, with the hand-written field arithmetic of
 * port/avr/fe25519.S, it checks:
 *
 *   - X25519: RFC 7748 §5.2 (both vectors and the first iteration), §6.1
 *     (both public keys and the shared secret from both sides) and the
 *     all-zero result for u = 0 (§6.1);
 *   - AEAD_CHACHA20_POLY1305: RFC 8439 §2.8.2, seal and open, and a
 *     flipped tag bit refused;
 *   - SHA-256 of "abc" (FIPS 180-4 example, RFC 6234 TEST1);
 *   - the assembly against the portable C of crypto/x25519.c
 *     (test/avr/fe_ref.c): multiplication, squaring and (in the fast
 *     build) add, sub and the product by a24, of edge values and
 *     of pseudo-random values, and whole X25519 calls on pseudo-random
 *     scalars and u-coordinates.
 *
 * The host tests (make test-host) cover the C paths far more widely; this
 * program is what runs where the assembly runs. Vectors are hex strings in
 * flash, copied from the RFCs (the same as test/vectors/); the output is
 * vcheck.h's. ECDH and the Weierstrass fields have their own image,
 * test/avr/ecc_vectors.c: the fast build's code does not fit 32 KB in one.
 */
#include <stdint.h>
#include <string.h>

#include "port/chip.h"
#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/port.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"
#include "fe_ref.h"
#include "vcheck.h"

/* port/avr/fe25519_fast.S, or port/avr/fe25519.S with SD_CRYPTO_SMALL
 * (multiplication and squaring only, 64 bytes of scratch). */
#define FE_SCRATCH_BYTES 144
void sd_fe25519_mul_avr(uint8_t r[32], const uint8_t a[32], const uint8_t b[32],
			uint8_t *t);
void sd_fe25519_sqr_avr(uint8_t r[32], const uint8_t a[32], uint8_t *t);
#if !defined(SD_CRYPTO_SMALL)
void sd_fe25519_add_avr(uint8_t r[32], const uint8_t a[32], const uint8_t b[32]);
void sd_fe25519_sub_avr(uint8_t r[32], const uint8_t a[32], const uint8_t b[32]);
void sd_fe25519_mul121665_avr(uint8_t r[32], const uint8_t a[32]);
#endif

#define RANDOM_FIELD_CASES 200
#define RANDOM_X25519_CASES 2

/* RFC 7748 §5.2 */
static const char v1_k[] SD_ROM =
	"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4";
static const char v1_u[] SD_ROM =
	"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c";
static const char v1_out[] SD_ROM =
	"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552";
static const char v2_k[] SD_ROM =
	"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d";
static const char v2_u[] SD_ROM =
	"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493";
static const char v2_out[] SD_ROM =
	"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957";
static const char iter_1[] SD_ROM =
	"422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079";
/* RFC 7748 §6.1 */
static const char alice_priv[] SD_ROM =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub[] SD_ROM =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_priv[] SD_ROM =
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char bob_pub[] SD_ROM =
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char shared[] SD_ROM =
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
/* RFC 8439 §2.8.2 */
static const char aead_key[] SD_ROM =
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char aead_nonce[] SD_ROM = "070000004041424344454647";
static const char aead_aad[] SD_ROM = "50515253c0c1c2c3c4c5c6c7";
static const char aead_pt[] SD_ROM =
	"4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	"73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	"6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	"637265656e20776f756c642062652069742e";
static const char aead_ct[] SD_ROM =
	"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	"3ff4def08e4b7a9de576d26586cec64b6116";
static const char aead_tag[] SD_ROM = "1ae10b594f09e26a7e902ecbd0600691";
#define AEAD_PT_LEN 114
#define AEAD_AAD_LEN 12
/* FIPS 180-4 example / RFC 6234 TEST1 */
static const char sha_abc[] SD_ROM =
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/* Field values that stress carries: 0, 1, p - 1, p, p + 1, 2^255 - 1,
 * 2^256 - 1, 2^256 - 38, 2^255, and 19 * 2^248. Each is byte 0, then
 * 30 bytes alike, then byte 31 (little-endian): edge() spells it out. */
static const uint8_t edges[][3] SD_ROM = {
	{0x00, 0x00, 0x00}, {0x01, 0x00, 0x00}, {0xec, 0xff, 0x7f},
	{0xed, 0xff, 0x7f}, {0xee, 0xff, 0x7f}, {0xff, 0xff, 0x7f},
	{0xff, 0xff, 0xff}, {0xda, 0xff, 0xff}, {0x00, 0x00, 0x80},
	{0x00, 0x00, 0x13},
};
#define EDGES (sizeof edges / sizeof edges[0])

static uint8_t x[32], y[32], z[32], w[32], t[FE_SCRATCH_BYTES];
static uint8_t msg[AEAD_PT_LEN], tag[SD_AEAD_TAG_LEN];
static uint8_t pt[32];
/* out = edge value i. */
static void edge(uint8_t out[32], uint8_t i)
{
	memset(out, sd_rom_u8(&edges[i][1]), 32);
	out[0] = sd_rom_u8(&edges[i][0]);
	out[31] = sd_rom_u8(&edges[i][2]);
}

static void x25519_rfc(void)
{
	uint8_t i;

	unhex(x, v1_k, 32);
	unhex(y, v1_u, 32);
	check(sd_x25519(z, x, y) == SD_OK && equal_hex(z, v1_out, 32));
	unhex(x, v2_k, 32);
	unhex(y, v2_u, 32);
	check(sd_x25519(z, x, y) == SD_OK && equal_hex(z, v2_out, 32));
	group("RFC 7748 5.2 vectors");

	memset(x, 0, 32);
	x[0] = 9;
	memcpy(y, x, 32);
	check(sd_x25519(z, x, y) == SD_OK && equal_hex(z, iter_1, 32));
	group("RFC 7748 5.2 one iteration");

	unhex(x, alice_priv, 32);
	sd_x25519_base(z, x);
	check(equal_hex(z, alice_pub, 32));
	unhex(x, bob_priv, 32);
	sd_x25519_base(z, x);
	check(equal_hex(z, bob_pub, 32));
	unhex(y, alice_pub, 32);
	check(sd_x25519(z, x, y) == SD_OK && equal_hex(z, shared, 32));
	unhex(x, alice_priv, 32);
	unhex(y, bob_pub, 32);
	check(sd_x25519(z, x, y) == SD_OK && equal_hex(z, shared, 32));
	group("RFC 7748 6.1 Diffie-Hellman");

	memset(y, 0, 32);
	check(sd_x25519(z, x, y) == SD_ERR_LOW_ORDER);
	for (i = 0; i < 32; i++)
		check(z[i] == 0);
	group("RFC 7748 6.1 all-zero output");
}

static void aead_rfc(void)
{
	uint8_t key[32], nonce[12], aad[AEAD_AAD_LEN];

	unhex(key, aead_key, 32);
	unhex(nonce, aead_nonce, 12);
	unhex(aad, aead_aad, AEAD_AAD_LEN);
	unhex(msg, aead_pt, AEAD_PT_LEN);
	sd_aead_chacha20poly1305_seal(msg, tag, key, nonce, aad, AEAD_AAD_LEN,
				      msg, AEAD_PT_LEN);
	check(equal_hex(tag, aead_tag, SD_AEAD_TAG_LEN));
	unhex(pt, aead_ct, 32);
	check(memcmp(msg, pt, 32) == 0);
	check(sd_aead_chacha20poly1305_open(msg, key, nonce, aad, AEAD_AAD_LEN,
					    msg, AEAD_PT_LEN, tag) == SD_OK);
	unhex(pt, aead_pt, 32);
	check(memcmp(msg, pt, 32) == 0);
	/* Sealed again, with one tag bit flipped: refused. */
	sd_aead_chacha20poly1305_seal(msg, tag, key, nonce, aad, AEAD_AAD_LEN,
				      msg, AEAD_PT_LEN);
	tag[7] ^= 0x10;
	check(sd_aead_chacha20poly1305_open(msg, key, nonce, aad, AEAD_AAD_LEN,
					    msg, AEAD_PT_LEN, tag) == SD_ERR_AUTH);
	group("RFC 8439 2.8.2 AEAD_CHACHA20_POLY1305");

	sd_sha256(z, "abc", 3);
	check(equal_hex(z, sha_abc, 32));
	group("SHA-256 abc");
}

/* The assembly's product and square reduce to the same field element as
 * the C reference's, and stay below 2^256 (32 bytes hold nothing more). */
static void field_case(void)
{
	uint8_t a[32], b[32];

	sd_fe25519_mul_avr(z, x, y, t);
	ref_fe_mul(w, x, y);
	ref_fe_canon(a, z);
	ref_fe_canon(b, w);
	check(memcmp(a, b, 32) == 0);
	sd_fe25519_sqr_avr(z, x, t);
	ref_fe_sqr(w, x);
	ref_fe_canon(a, z);
	ref_fe_canon(b, w);
	check(memcmp(a, b, 32) == 0);
	/* In place, as the ladder calls it. */
	memcpy(z, x, 32);
	sd_fe25519_mul_avr(z, z, y, t);
	ref_fe_mul(w, x, y);
	ref_fe_canon(a, z);
	ref_fe_canon(b, w);
	check(memcmp(a, b, 32) == 0);
#if !defined(SD_CRYPTO_SMALL)
	sd_fe25519_add_avr(z, x, y);
	ref_fe_add(w, x, y);
	ref_fe_canon(a, z);
	ref_fe_canon(b, w);
	check(memcmp(a, b, 32) == 0);
	sd_fe25519_sub_avr(z, x, y);
	ref_fe_sub(w, x, y);
	ref_fe_canon(a, z);
	ref_fe_canon(b, w);
	check(memcmp(a, b, 32) == 0);
	memcpy(z, x, 32);
	sd_fe25519_mul121665_avr(z, z);
	ref_fe_a24(w, x);
	ref_fe_canon(a, z);
	ref_fe_canon(b, w);
	check(memcmp(a, b, 32) == 0);
#endif
}

static void assembly_against_c(void)
{
	uint8_t i, j;
	uint16_t n;

	for (i = 0; i < EDGES; i++) {
		for (j = 0; j < EDGES; j++) {
			edge(x, i);
			edge(y, j);
			field_case();
		}
	}
	for (n = 0; n < RANDOM_FIELD_CASES; n++) {
		random_bytes(x, 32);
		random_bytes(y, 32);
		field_case();
	}
	group("the field assembly against the C field arithmetic");

	for (i = 0; i < RANDOM_X25519_CASES; i++) {
		random_bytes(x, 32);
		random_bytes(y, 32);
		sd_x25519(z, x, y);
		ref_x25519(w, x, y);
		check(memcmp(z, w, 32) == 0);
	}
	group("X25519 with the field assembly against the C X25519");
}

int main(void)
{
	vcheck_begin("vectors");
	x25519_rfc();
	aead_rfc();
	assembly_against_c();
	vcheck_end();
}
