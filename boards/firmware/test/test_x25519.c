/*
 * test/test_x25519.c: X25519 against RFC 7748 §5.2 (single and iterated)
 * and §6.1, against golang.org/x/crypto/curve25519 (generated), and the
 * behaviours §5 and §6.1 require: clamping, masking of the top bit of u,
 * non-canonical u, and the all-zero output of small-order points.
 *
 * White-box: this file includes crypto/x25519.c itself (the test build
 * leaves that file out of its list) so it can check the static field
 * arithmetic on values the ladder rarely or never produces, against
 * math/big results.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "crypto/common.h"
#include "crypto/x25519.c"
#include "vectors/generated.h"
#include "vectors/x25519_rfc.h"

static void x25519_rfc_single(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(x25519_vectors); i++) {
		const struct x25519_vector *v = &x25519_vectors[i];
		uint8_t k[32], u[32], out[32];

		sd_case = v->name;
		unhex(k, sizeof k, v->k);
		unhex(u, sizeof u, v->u);
		CHECK(sd_x25519(out, k, u) == SD_OK);
		CHECK_HEX(out, sizeof out, v->out);
		/* out may alias u, or the scalar. */
		CHECK(sd_x25519(u, k, u) == SD_OK);
		CHECK_HEX(u, sizeof u, v->out);
		unhex(u, sizeof u, v->u);
		CHECK(sd_x25519(k, k, u) == SD_OK);
		CHECK_HEX(k, sizeof k, v->out);
	}
}

/* §5.2: k = u = 9; repeat (k, u) = (X25519(k, u), k). */
static void x25519_rfc_iterated(void)
{
	uint8_t k[32] = {9}, u[32] = {9}, out[32];
	unsigned long i, n = sd_slow ? 1000000UL : 1000UL;

	sd_case = "RFC 7748 §5.2 iterations";
	for (i = 1; i <= n; i++) {
		sd_x25519(out, k, u);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1)
			CHECK_HEX(k, 32, x25519_iter_1);
		if (i == 1000)
			CHECK_HEX(k, 32, x25519_iter_1000);
		if (i == 1000000UL)
			CHECK_HEX(k, 32, x25519_iter_1000000);
	}
	if (sd_slow)
		printf("x25519: ran the 1,000,000-iteration vector\n");
}

static void x25519_rfc_dh(void)
{
	uint8_t a[32], b[32], pub[32], s1[32], s2[32], peer[32];

	sd_case = "RFC 7748 §6.1 Diffie-Hellman";
	unhex(a, sizeof a, x25519_alice_priv);
	unhex(b, sizeof b, x25519_bob_priv);
	sd_x25519_base(pub, a);
	CHECK_HEX(pub, 32, x25519_alice_pub);
	sd_x25519_base(pub, b);
	CHECK_HEX(pub, 32, x25519_bob_pub);
	unhex(peer, sizeof peer, x25519_bob_pub);
	CHECK(sd_x25519(s1, a, peer) == SD_OK);
	unhex(peer, sizeof peer, x25519_alice_pub);
	CHECK(sd_x25519(s2, b, peer) == SD_OK);
	CHECK_HEX(s1, 32, x25519_shared);
	CHECK_HEX(s2, 32, x25519_shared);
}

static void x25519_generated(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(gen_x25519); i++) {
		const struct gen_x25519 *v = &gen_x25519[i];
		uint8_t k[32], u[32], out[32];

		sd_case = "generated x25519";
		unhex(k, sizeof k, v->k);
		unhex(u, sizeof u, v->u);
		CHECK(sd_x25519(out, k, u) == SD_OK);
		CHECK_HEX(out, 32, v->out);
	}
}

/* §5: the scalar's three low bits and bit 255 are cleared and bit 254 set,
 * so changing them changes nothing; u's bit 255 is masked. */
static void x25519_clamp_and_mask(void)
{
	uint8_t k[32], k2[32], u[32], u2[32], o1[32], o2[32];
	sd_rng r;
	unsigned i;

	sd_case = "x25519 clamping and masking";
	rng_seed(&r, 7748);
	for (i = 0; i < 8; i++) {
		rng_bytes(&r, k, 32);
		rng_bytes(&r, u, 32);
		memcpy(k2, k, 32);
		k2[0] ^= 7;
		k2[31] ^= 0x80;
		k2[31] ^= (uint8_t)((k2[31] & 0x40) ^ 0x40);
		memcpy(u2, u, 32);
		u2[31] ^= 0x80;
		sd_x25519(o1, k, u);
		sd_x25519(o2, k2, u2);
		CHECK_MEM(o2, o1, 32);
	}
}

/* §6.1: small-order u give the all-zero output, which the caller must
 * detect; sd_x25519 reports it. The list holds 0, 1, the two points of
 * order 8 and p - 1 (order 4), and non-canonical forms p and p + 1. */
static void x25519_low_order(void)
{
	static const char *const small[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t k[32], u[32], out[32];
	unsigned i;
	sd_rng r;

	sd_case = "x25519 small-order points";
	rng_seed(&r, 61);
	for (i = 0; i < COUNT_OF(small); i++) {
		rng_bytes(&r, k, 32);
		unhex(u, sizeof u, small[i]);
		memset(out, 0xA5, sizeof out);
		CHECK(sd_x25519(out, k, u) == SD_ERR_LOW_ORDER);
		CHECK_HEX(out, 32, small[0]);
	}
}

/* Encodes a (any value below 2^256) fully reduced, without touching a. */
static void fe_out(uint8_t out[32], const fe a)
{
	fe copy, tmp;

	memcpy(copy, a, sizeof(fe));
	fe_to_bytes(out, copy, tmp);
}

static void field_arithmetic(void)
{
	sd_limb t[2 * FE_LIMBS];
	fe a, b, r, s, inv[4], k;
	uint8_t buf[32], out[32];
	unsigned i;

	for (i = 0; i < COUNT_OF(gen_fe25519); i++) {
		const struct gen_fe *v = &gen_fe25519[i];

		sd_case = "GF(2^255-19) (generated)";
		unhex(buf, sizeof buf, v->a);
		sd_bn_from_le(a, FE_LIMBS, buf, 32);
		unhex(buf, sizeof buf, v->b);
		sd_bn_from_le(b, FE_LIMBS, buf, 32);

		fe_add(r, a, b);
		fe_out(out, r);
		CHECK_HEX(out, 32, v->sum);
		fe_sub(r, a, b);
		fe_out(out, r);
		CHECK_HEX(out, 32, v->diff);
		fe_mul(r, a, b, t);
		fe_out(out, r);
		CHECK_HEX(out, 32, v->prod);
		/* In place. */
		memcpy(r, a, sizeof(fe));
		fe_mul(r, r, b, t);
		fe_out(out, r);
		CHECK_HEX(out, 32, v->prod);

		/* Squaring agrees with multiplication. */
		fe_sqr(r, a, t);
		fe_mul(s, a, a, t);
		fe_out(out, r);
		fe_out(buf, s);
		CHECK_MEM(out, buf, 32);

		/* a * 121665 by the short multiplier and by fe_mul. */
		memset(k, 0, sizeof k);
		k[0] = (sd_limb)(121665UL & (sd_limb)~(sd_limb)0);
#if SD_LIMB_BITS < 32
		k[1] = (sd_limb)(121665UL >> SD_LIMB_BITS);
#endif
#if SD_LIMB_BITS == 8
		k[2] = (sd_limb)(121665UL >> 16);
#endif
		fe_mul_a24(r, a, t);
		fe_mul(s, a, k, t);
		fe_out(out, r);
		fe_out(buf, s);
		CHECK_MEM(out, buf, 32);

		/* a * a^-1 = 1 unless a = 0 mod p. */
		fe_out(buf, a);
		if (buf[0] != 0 || memcmp(buf, buf + 1, 31) != 0) {
			fe_invert(r, a, inv[0], inv[1], inv[2], inv[3], t);
			fe_mul(r, r, a, t);
			fe_out(out, r);
			CHECK_HEX(out, 32, "01000000000000000000000000000000"
					   "00000000000000000000000000000000");
		}
	}
}

void test_x25519(void)
{
	field_arithmetic();
	x25519_rfc_single();
	x25519_rfc_iterated();
	x25519_rfc_dh();
	x25519_generated();
	x25519_clamp_and_mask();
	x25519_low_order();
}
