/*
 * test/test_ecc.c: P-256 and secp160r1 key generation, validation and
 * ECDH against RFC 5903 §8.1, NIST CAVS 14.1 and GEC 2, against
 * crypto/ecdh and vectorgen's math/big code (generated), the group order
 * ((n-1) G = -G, so n G = O), and the refusals: bad encodings, points off
 * the curve or out of range, scalars outside [1, n-1].
 *
 * White-box: this file includes crypto/ecc.c itself (the test build leaves
 * that file out of its list) to check the static field and point
 * arithmetic directly: GF(p) against math/big, and the special cases the
 * complete formulas must absorb (P + P, P + (-P), O + P, 2 O).
 */
#include <string.h>

#include "check.h"
#include "crypto/common.h"
#include "crypto/ecc.c"
#include "vectors/ecc_published.h"
#include "vectors/generated.h"

struct curve_case {
	const char *name;
	const sd_ecc_curve *c;
	const struct ecdh_kat *kats;
	unsigned nkats;
	const struct gen_ecdh *gen;
	unsigned ngen;
	const char *n_minus_1; /* the order minus one, big-endian */
	const char *g;         /* the base point, uncompressed */
	const char *p;         /* the field prime, big-endian */
	const struct gen_fe *fe;
	unsigned nfe;
	const struct gen_noncanonical *nc;
	unsigned nnc;
};

static const struct curve_case curves[] = {
	{"P-256", &sd_p256, p256_kats, COUNT_OF(p256_kats), gen_p256,
	 COUNT_OF(gen_p256),
	 "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550",
	 "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
	 "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
	 "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
	 gen_fp256, COUNT_OF(gen_fp256), gen_noncanonical_p256,
	 COUNT_OF(gen_noncanonical_p256)},
	{"secp160r1", &sd_secp160r1, secp160r1_kats, COUNT_OF(secp160r1_kats),
	 gen_secp160r1, COUNT_OF(gen_secp160r1),
	 "0100000000000000000001f4c8f927aed3ca752256",
	 "044a96b5688ef573284664698968c38bb913cbfc82"
	 "23a628553168947d59dcc912042351377ac5fb32",
	 "ffffffffffffffffffffffffffffffff7fffffff",
	 gen_fsecp160r1, COUNT_OF(gen_fsecp160r1), gen_noncanonical_secp160r1,
	 COUNT_OF(gen_noncanonical_secp160r1)},
};

static void sizes(const struct curve_case *cc)
{
	sd_case = cc->name;
	if (cc->c == &sd_p256) {
		CHECK(sd_ecc_field_len(cc->c) == SD_P256_FIELD_LEN);
		CHECK(sd_ecc_scalar_len(cc->c) == SD_P256_SCALAR_LEN);
		CHECK(sd_ecc_point_len(cc->c) == SD_P256_POINT_LEN);
	} else {
		CHECK(sd_ecc_field_len(cc->c) == SD_SECP160R1_FIELD_LEN);
		CHECK(sd_ecc_scalar_len(cc->c) == SD_SECP160R1_SCALAR_LEN);
		CHECK(sd_ecc_point_len(cc->c) == SD_SECP160R1_POINT_LEN);
	}
}

/* One ECDH case: pub = priv G, validation, and the shared x both ways
 * when the peer's private key is known. */
static void ecdh_case(const sd_ecc_curve *c, const char *priv_hex,
		      const char *pub_hex, const char *peer_priv_hex,
		      const char *peer_hex, const char *shared_hex)
{
	uint8_t priv[32], pub[65], peer[65], shared[32];
	size_t sl, pl, fl = sd_ecc_field_len(c);

	sl = unhex(priv, sizeof priv, priv_hex);
	CHECK(sl == sd_ecc_scalar_len(c));
	CHECK(sd_ecc_public(c, pub, priv) == SD_OK);
	CHECK_HEX(pub, sd_ecc_point_len(c), pub_hex);
	pl = unhex(peer, sizeof peer, peer_hex);
	CHECK(sd_ecc_validate(c, peer, pl) == SD_OK);
	CHECK(sd_ecc_validate(c, pub, pl) == SD_OK);
	CHECK(sd_ecdh(c, shared, priv, peer, pl) == SD_OK);
	CHECK_HEX(shared, fl, shared_hex);
	if (peer_priv_hex != NULL) {
		uint8_t ppriv[32], ppub[65];

		unhex(ppriv, sizeof ppriv, peer_priv_hex);
		CHECK(sd_ecc_public(c, ppub, ppriv) == SD_OK);
		CHECK_MEM(ppub, peer, pl);
		memset(shared, 0, sizeof shared);
		CHECK(sd_ecdh(c, shared, ppriv, pub, pl) == SD_OK);
		CHECK_HEX(shared, fl, shared_hex);
	}
}

static void published(const struct curve_case *cc)
{
	unsigned i;

	for (i = 0; i < cc->nkats; i++) {
		const struct ecdh_kat *v = &cc->kats[i];

		sd_case = v->name;
		ecdh_case(cc->c, v->priv, v->pub, v->peer_priv, v->peer, v->shared);
	}
}

static void generated(const struct curve_case *cc)
{
	unsigned i;

	for (i = 0; i < cc->ngen; i++) {
		const struct gen_ecdh *v = &cc->gen[i];

		sd_case = cc->c == &sd_p256 ? "generated P-256 (crypto/ecdh)"
					    : "generated secp160r1 (math/big)";
		ecdh_case(cc->c, v->priv, v->pub, NULL, v->peer, v->shared);
	}
}

/* The uncompressed point pt becomes (x, p - y); y must be nonzero. */
static void negate_y(uint8_t *pt, const uint8_t *p, size_t fl)
{
	unsigned borrow = 0;
	size_t i;

	for (i = fl; i-- > 0;) {
		unsigned t = (unsigned)p[i] - pt[1 + fl + i] - borrow;

		pt[1 + fl + i] = (uint8_t)t;
		borrow = (t >> 8) & 1;
	}
	CHECK(borrow == 0);
}

/* (n-1) G = -G = (Gx, p - Gy), which with G != O is n G = O. Also 1 G = G
 * and the ECDH of n-1 with G gives Gx. */
static void group_order(const struct curve_case *cc)
{
	uint8_t k[32], g[65], pub[65], want[65], p[32], shared[32];
	size_t sl, fl = sd_ecc_field_len(cc->c), pl = sd_ecc_point_len(cc->c);

	sd_case = cc->name;
	sl = unhex(k, sizeof k, cc->n_minus_1);
	unhex(g, sizeof g, cc->g);
	unhex(p, sizeof p, cc->p);
	CHECK(sd_ecc_validate(cc->c, g, pl) == SD_OK);

	memcpy(want, g, pl);
	negate_y(want, p, fl); /* (Gx, p - Gy) */
	CHECK(sd_ecc_public(cc->c, pub, k) == SD_OK);
	CHECK_MEM(pub, want, pl);
	CHECK(sd_ecdh(cc->c, shared, k, g, pl) == SD_OK);
	CHECK_MEM(shared, g + 1, fl);

	memset(k, 0, sl);
	k[sl - 1] = 1;
	CHECK(sd_ecc_public(cc->c, pub, k) == SD_OK);
	CHECK_MEM(pub, g, pl);
}

/* Scalars outside [1, n-1] are refused: 0, n, n + 1 and all ones. */
static void bad_scalars(const struct curve_case *cc)
{
	uint8_t k[32], g[65], out[65], shared[32];
	size_t sl, pl = sd_ecc_point_len(cc->c);
	size_t i;

	sd_case = cc->name;
	unhex(g, sizeof g, cc->g);
	sl = unhex(k, sizeof k, cc->n_minus_1);

	k[sl - 1] = (uint8_t)(k[sl - 1] + 1); /* n (no carry: n - 1 is even) */
	CHECK(sd_ecc_public(cc->c, out, k) == SD_ERR_SCALAR);
	memset(shared, 0xA5, sizeof shared);
	CHECK(sd_ecdh(cc->c, shared, k, g, pl) == SD_ERR_SCALAR);
	CHECK(shared[0] == 0 && shared[sd_ecc_field_len(cc->c) - 1] == 0);
	k[sl - 1] = (uint8_t)(k[sl - 1] + 1); /* n + 1 */
	CHECK(sd_ecc_public(cc->c, out, k) == SD_ERR_SCALAR);

	memset(k, 0, sl);
	CHECK(sd_ecc_public(cc->c, out, k) == SD_ERR_SCALAR);
	CHECK(sd_ecdh(cc->c, shared, k, g, pl) == SD_ERR_SCALAR);
	for (i = 0; i < sl; i++)
		k[i] = 0xFF;
	CHECK(sd_ecc_public(cc->c, out, k) == SD_ERR_SCALAR);
}

/* Malformed or invalid peer points are refused before any secret is
 * used, and shared is zeroed. */
static void bad_points(const struct curve_case *cc)
{
	uint8_t g[65], q[66], k[32] = {0}, shared[32];
	size_t fl = sd_ecc_field_len(cc->c), pl = sd_ecc_point_len(cc->c);
	size_t sl = sd_ecc_scalar_len(cc->c);
	size_t i;
	unsigned bit;
	unsigned long refused = 0, tries = 0;

	sd_case = cc->name;
	unhex(g, sizeof g, cc->g);
	k[sl - 1] = 3;

	/* Lengths other than 1 + 2 field_len. */
	CHECK(sd_ecc_validate(cc->c, g, pl - 1) == SD_ERR_LENGTH);
	CHECK(sd_ecc_validate(cc->c, g, 1) == SD_ERR_LENGTH);
	CHECK(sd_ecc_validate(cc->c, g, 0) == SD_ERR_LENGTH);
	memcpy(q, g, pl);
	q[pl] = 0;
	CHECK(sd_ecc_validate(cc->c, q, pl + 1) == SD_ERR_LENGTH);
	/* The compressed and hybrid prefixes and 0x00 (infinity). */
	q[0] = 0x02;
	CHECK(sd_ecc_validate(cc->c, q, pl) == SD_ERR_POINT);
	q[0] = 0x06;
	CHECK(sd_ecc_validate(cc->c, q, pl) == SD_ERR_POINT);
	memset(q, 0, pl);
	CHECK(sd_ecc_validate(cc->c, q, pl) == SD_ERR_POINT);
	/* (0, 0) with the right prefix is not on the curve (b != 0). */
	q[0] = SD_ECC_POINT_UNCOMPRESSED;
	CHECK(sd_ecc_validate(cc->c, q, pl) == SD_ERR_POINT);

	/* Every single-bit change of G's coordinates leaves the curve. */
	memcpy(q, g, pl);
	for (i = 1; i < pl; i++) {
		for (bit = 0; bit < 8; bit++) {
			q[i] ^= (uint8_t)(1u << bit);
			tries++;
			if (sd_ecc_validate(cc->c, q, pl) == SD_ERR_POINT)
				refused++;
			q[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(refused == tries);

	/* The same residues with p added to a coordinate: only the range
	 * check of SEC 1 v2.0 §3.2.2.1 step 2 can refuse these. */
	for (i = 0; i < cc->nnc; i++) {
		uint8_t valid[65];

		unhex(valid, sizeof valid, cc->nc[i].valid);
		unhex(q, sizeof q, cc->nc[i].bad);
		CHECK(sd_ecc_validate(cc->c, valid, pl) == SD_OK);
		CHECK(sd_ecc_validate(cc->c, q, pl) == SD_ERR_POINT);
		memset(shared, 0xA5, sizeof shared);
		CHECK(sd_ecdh(cc->c, shared, k, q, pl) == SD_ERR_POINT);
		CHECK(shared[0] == 0 && shared[fl - 1] == 0);
		CHECK(sd_ecdh(cc->c, shared, k, valid, pl) == SD_OK);
	}

	/* Random garbage is refused (the chance of a random pair being on
	 * the curve is about 1/p). */
	{
		sd_rng r;
		unsigned j;

		rng_seed(&r, 5903);
		refused = 0;
		for (j = 0; j < 200; j++) {
			rng_bytes(&r, q, pl);
			q[0] = SD_ECC_POINT_UNCOMPRESSED;
			if (sd_ecdh(cc->c, shared, k, q, pl) == SD_ERR_POINT)
				refused++;
		}
		CHECK(refused == 200);
	}
}

static struct ec_work W; /* white-box state, static: it is large */

/* r = the big-endian hex value. */
static void fe_in(sd_limb *r, const char *hex)
{
	uint8_t b[32];
	size_t n = unhex(b, sizeof b, hex);

	sd_bn_from_be(r, W.n, b, n);
}

/* The big-endian encoding of a into out. */
static void fe_out(uint8_t *out, const sd_limb *a)
{
	sd_bn_to_be(out, W.flen, a);
}

static void field_arithmetic(const struct curve_case *cc)
{
	ec_fe a, b, r;
	uint8_t out[32];
	unsigned i;

	setup(&W, cc->c);
	for (i = 0; i < cc->nfe; i++) {
		const struct gen_fe *v = &cc->fe[i];

		sd_case = cc->c == &sd_p256 ? "GF(p) P-256 (generated)"
					    : "GF(p) secp160r1 (generated)";
		fe_in(a, v->a);
		fe_in(b, v->b);
		fadd(&W, r, a, b);
		fe_out(out, r);
		CHECK_HEX(out, W.flen, v->sum);
		fsub(&W, r, a, b);
		fe_out(out, r);
		CHECK_HEX(out, W.flen, v->diff);
		fmul(&W, r, a, b);
		fe_out(out, r);
		CHECK_HEX(out, W.flen, v->prod);
		memcpy(r, a, sizeof r);
		fmul(&W, r, r, b);
		fe_out(out, r);
		CHECK_HEX(out, W.flen, v->prod);
		if (sd_bn_zero_mask(a, W.n) == 0) {
			finv(&W, r, a);
			fmul(&W, r, r, a);
			CHECK(memcmp(r, W.one, sizeof r) == 0);
		}
	}
}

/* Affine x, y of a projective point, plain big-endian; returns 0 for the
 * point at infinity. */
static int to_affine(const struct ec_point *q, uint8_t *x, uint8_t *y)
{
	ec_fe zinv, v;

	if (sd_bn_zero_mask(q->z, W.n) != 0)
		return 0;
	finv(&W, zinv, q->z);
	fmul(&W, v, q->x, zinv);
	fe_out(x, v);
	fmul(&W, v, q->y, zinv);
	fe_out(y, v);
	return 1;
}

static void point_special_cases(const struct curve_case *cc)
{
	struct ec_point g, neg, o, r1, r2;
	uint8_t gb[65], x1[32], y1[32], x2[32], y2[32];
	size_t fl;

	sd_case = cc->name;
	setup(&W, cc->c);
	fl = W.flen;
	unhex(gb, sizeof gb, cc->g);
	CHECK(load_point(&W, &g, gb, 1 + 2 * fl) == SD_OK);
	memcpy(&neg, &g, sizeof g);
	memset(neg.y, 0, sizeof neg.y);
	fsub(&W, neg.y, neg.y, g.y); /* -G = (x, -y) */
	memset(o.x, 0, sizeof o.x);
	memcpy(o.y, W.one, sizeof o.y);
	memset(o.z, 0, sizeof o.z);

	/* G + G (addition formula) = 2G (doubling formula). */
	padd(&W, &r1, &g, &g);
	pdbl(&W, &r2, &g);
	CHECK(to_affine(&r1, x1, y1) && to_affine(&r2, x2, y2));
	CHECK_MEM(x1, x2, fl);
	CHECK_MEM(y1, y2, fl);
	/* 2G + G = G + 2G, and not 2G. */
	padd(&W, &r1, &r2, &g);
	padd(&W, &o, &g, &r2);
	CHECK(to_affine(&r1, x1, y1) && to_affine(&o, x2, y2));
	CHECK_MEM(x1, x2, fl);
	CHECK(to_affine(&r2, x2, y2) && memcmp(x1, x2, fl) != 0);
	/* G + (-G) = O, O + G = G, G + O = G, 2 O = O, O + O = O. */
	memset(o.x, 0, sizeof o.x);
	memcpy(o.y, W.one, sizeof o.y);
	memset(o.z, 0, sizeof o.z);
	padd(&W, &r1, &g, &neg);
	CHECK(!to_affine(&r1, x1, y1));
	padd(&W, &r1, &o, &g);
	CHECK(to_affine(&r1, x1, y1));
	CHECK_MEM(x1, gb + 1, fl);
	CHECK_MEM(y1, gb + 1 + fl, fl);
	padd(&W, &r1, &g, &o);
	CHECK(to_affine(&r1, x1, y1));
	CHECK_MEM(x1, gb + 1, fl);
	pdbl(&W, &r1, &o);
	CHECK(!to_affine(&r1, x1, y1));
	padd(&W, &r1, &o, &o);
	CHECK(!to_affine(&r1, x1, y1));
}

/* out (sl bytes, big-endian) = v - d, for v big-endian in sl bytes and
 * d below 256; returns the borrow out. out may alias v. */
static unsigned sub_small(uint8_t *out, const uint8_t *v, size_t sl, unsigned d)
{
	size_t i;

	for (i = sl; i-- > 0;) {
		unsigned t = (unsigned)v[i] - d;

		out[i] = (uint8_t)t;
		d = (t >> 8) & 1;
	}
	return d;
}

/* out = 2^m - v in sl bytes, big-endian, for 0 < v < 2^m <= 2^(8 sl):
 * 2^m modulo 2^(8 sl), less v, the borrow out dropped. */
static void pow2_minus(uint8_t *out, const uint8_t *v, size_t sl, unsigned m)
{
	unsigned borrow = 0;
	size_t i;

	memset(out, 0, sl);
	if (m < 8 * sl)
		out[sl - 1 - m / 8] = (uint8_t)(1u << (m % 8));
	for (i = sl; i-- > 0;) {
		unsigned t = (unsigned)out[i] - v[i] - borrow;

		out[i] = (uint8_t)t;
		borrow = (t >> 8) & 1;
	}
}

/*
 * The scalars where the ladder's steps come near the exceptional cases
 * of incomplete formulas (crypto/ecc.c, ladder): j G and (n - j) G =
 * -j G for j = 1, 2, 3, with 2G from the doubling formula; and both
 * sides of the regularisation's choice between k + n and k + 2n (k =
 * 2^m - n and 2^m - n - 1), where ECDH with a second key must agree both
 * ways.
 */
static void ladder_ends(const struct curve_case *cc)
{
	uint8_t n1[32], k[32], g[65], pub[65], neg[65], p[32], twog[65];
	uint8_t other[32], opub[65], s1[32], s2[32];
	size_t sl, fl = sd_ecc_field_len(cc->c), pl = sd_ecc_point_len(cc->c);
	struct ec_point gp, r;
	unsigned j;

	sd_case = cc->name;
	sl = unhex(n1, sizeof n1, cc->n_minus_1);
	unhex(g, sizeof g, cc->g);
	unhex(p, sizeof p, cc->p);
	setup(&W, cc->c);
	CHECK(load_point(&W, &gp, g, pl) == SD_OK);
	pdbl(&W, &r, &gp);
	twog[0] = SD_ECC_POINT_UNCOMPRESSED;
	CHECK(to_affine(&r, twog + 1, twog + 1 + fl));
	for (j = 1; j <= 3; j++) {
		memset(k, 0, sl);
		k[sl - 1] = (uint8_t)j;
		CHECK(sd_ecc_public(cc->c, pub, k) == SD_OK);
		if (j == 1)
			CHECK_MEM(pub, g, pl);
		if (j == 2)
			CHECK_MEM(pub, twog, pl);
		CHECK(sub_small(k, n1, sl, j - 1) == 0); /* n - j */
		CHECK(sd_ecc_public(cc->c, neg, k) == SD_OK);
		negate_y(pub, p, fl);
		CHECK_MEM(neg, pub, pl);
	}

	memset(other, 0, sl);
	memcpy(other + sl - 8, "\x5e\xc7\x01\x9b\x2a\x44\xd3\x17", 8);
	CHECK(sd_ecc_public(cc->c, opub, other) == SD_OK);
	pow2_minus(k, n1, sl, sd_rom_u16(&cc->c->order_bits));
	for (j = 0; j < 2; j++) { /* 2^m - n, then 2^m - n - 1 */
		CHECK(sub_small(k, k, sl, 1) == 0);
		CHECK(sd_ecc_public(cc->c, pub, k) == SD_OK);
		CHECK(sd_ecdh(cc->c, s1, k, opub, pl) == SD_OK);
		CHECK(sd_ecdh(cc->c, s2, other, pub, pl) == SD_OK);
		CHECK_MEM(s1, s2, fl);
	}
}

void test_ecc(void)
{
	unsigned i;

	for (i = 0; i < COUNT_OF(curves); i++) {
		sizes(&curves[i]);
		field_arithmetic(&curves[i]);
		point_special_cases(&curves[i]);
		published(&curves[i]);
		generated(&curves[i]);
		group_order(&curves[i]);
		ladder_ends(&curves[i]);
		bad_scalars(&curves[i]);
		bad_points(&curves[i]);
	}
}
