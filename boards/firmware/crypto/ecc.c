/*
 * crypto/ecc.c: arithmetic on y^2 = x^3 - 3x + b over GF(p), for the two
 * special forms of p of ecc_curves.c.
 *
 * Field elements are plain residues, always fully reduced below p, so
 * equal values have equal limbs. Multiplication forms the whole product
 * and reduces it by the form of p: for P-256 the fast reduction of FIPS
 * 186-4 Appendix D.2.3 (Solinas, "Generalized Mersenne numbers", 1999),
 * for secp160r1's p = 2^160 - 2^31 - 1 by 2^160 = 2^31 + 1 (mod p). Both
 * work on 16-bit columns, whatever the limb width: P-256's terms are
 * 32-bit words of the product, so each column sums halves of them.
 * Points are projective (X : Y : Z) with the point at
 * infinity (0 : 1 : 0), added and doubled by the complete formulas of
 * Renes, Costello and Batina, "Complete addition formulas for prime order
 * elliptic curves" (EUROCRYPT 2016), Algorithm 4 (addition) and Algorithm
 * 6 (doubling) for a = -3: no special cases, hence no branches.
 *
 * Outside SD_CRYPTO_SMALL builds the ladder runs all but its last two
 * steps on co-Z Jacobian coordinates (EC_COZ below): Meloni's addition of
 * two points sharing Z ("New point addition formulae for ECC
 * applications", WAIFI 2007) and its conjugate, in the Montgomery ladder
 * of Goundar, Joye, Miyaji, Rivain and Venelli ("Scalar multiplication
 * on Weierstrass elliptic curves from Co-Z arithmetic", J. Cryptographic
 * Engineering 1(2), 2011; Rivain, "Fast and regular algorithms for
 * scalar multiplication over elliptic curves", ePrint 2011/338): 11
 * products and 5 squares a step with Z kept, against 27 for the
 * complete formulas. Those formulas are not complete; the comment above
 * cozladder says why no step meets an exceptional case, and the last
 * two steps, where one could, use the complete ones.
 */
#include "ecc.h"

#include <string.h>

#include "bn.h"
#include "common.h"
#include "ecc_params.h"
#include "port.h"

#define EC_LIMBS SD_LIMBS(SD_ECC_MAX_SCALAR_LEN)

typedef sd_limb ec_fe[EC_LIMBS];

/* The reductions sum columns of the product: 32-bit with 32-bit limbs,
 * else 16-bit (8-bit limbs are paired). ec_sacc and ec_uacc hold a
 * column's signed and unsigned sums. */
#if SD_LIMB_BITS == 32
#define COL_BITS 32
typedef uint32_t ec_col;
typedef int64_t ec_sacc;
typedef uint64_t ec_uacc;
#else
#define COL_BITS 16
typedef uint16_t ec_col;
typedef int32_t ec_sacc;
typedef uint32_t ec_uacc;
#endif
#define COLS(bits) ((bits) / COL_BITS)
#define COL_PRODUCT COLS(16 * SD_ECC_MAX_FIELD_LEN)

/* The fast AVR build (the Makefile's AVR_FE=asm) forms P-256's products
 * with the Karatsuba multiplication of port/avr/fe25519_fast.S, which
 * needs 144 bytes of scratch and leaves the product at its start (and
 * squares with its squaring), and reduces them with
 * port/avr/p256_fast.S (the same sums as p256_reduce below); secp160r1's
 * products and squares, reduced below p, come whole from
 * port/avr/p160_fast.S (60 bytes of scratch). */
#if defined(SD_FE25519_AVR) && !defined(SD_CRYPTO_SMALL)
#define EC_AVR_FAST
#define COL_SCRATCH 72
void sd_mul256_avr(uint8_t t[144], const uint8_t a[32], const uint8_t b[32]);
void sd_sqr256_avr(uint8_t t[144], const uint8_t a[32]);
void sd_p256_reduce_avr(uint8_t t[64]);
void sd_p160_mul_avr(uint8_t r[20], const uint8_t a[20], const uint8_t b[20],
		     uint8_t t[60]);
void sd_p160_sqr_avr(uint8_t r[20], const uint8_t a[20], uint8_t t[60]);
#else
#define COL_SCRATCH COL_PRODUCT
#endif

/* The co-Z ladder (see the top of the file); SD_CRYPTO_SMALL builds keep
 * the complete formulas on every step, in less flash. */
#if !defined(SD_CRYPTO_SMALL)
#define EC_COZ
#endif

struct ec_point {
	ec_fe x, y, z;
};

/* The whole state of one operation; wiped before returning. */
struct ec_work {
	sd_len n;            /* limbs of a field element */
	sd_len ns;           /* limbs of a scalar */
	uint8_t flen, slen;  /* bytes of a field element, of a scalar */
	uint16_t bits;       /* bits of the group order n */
	uint8_t form;        /* SD_ECC_FORM_* */
	ec_fe p;             /* the field prime */
	ec_fe one;           /* 1 */
	ec_fe b;             /* the curve's b */
	sd_limb k[EC_LIMBS + 1]; /* the scalar; with EC_COZ k + n or k + 2n */
	struct ec_point r0, r1, out;
	ec_fe t0, t1, t2, t3, t4;
	sd_limb t[EC_LIMBS]; /* scratch of mul */
	/* The product being reduced, in columns: with 16- and 32-bit limbs
	 * the product's own limbs. */
	ec_col v[COL_SCRATCH];
#if SD_LIMB_BITS == 8
	sd_limb prod[2 * EC_LIMBS];
#endif
};

/* ---- GF(p) ---- */

/* r = a + b mod p, for a, b < p. */
static void fadd(struct ec_work *w, sd_limb *r, const sd_limb *a,
		 const sd_limb *b)
{
	sd_bn_csub(r, r, w->p, w->n, sd_bn_add(r, a, b, w->n));
}

/* r = a - b mod p, for a, b < p: p added back after a borrow. */
static void fsub(struct ec_work *w, sd_limb *r, const sd_limb *a,
		 const sd_limb *b)
{
	sd_bn_cadd(r, w->p, w->n, SD_BN_MASK(sd_bn_sub(r, a, b, w->n)));
}

#if SD_LIMB_BITS == 8
#define PRODUCT(w) ((w)->prod)

/* w->v[0..n) = the 16-bit columns of PRODUCT(w), bytes paired. */
static void to_columns(struct ec_work *w, sd_len n)
{
	sd_len i;

	for (i = 0; i < n; i++)
		w->v[i] = (uint16_t)(w->prod[2 * i] | w->prod[2 * i + 1] << 8);
}

/* The limbs of w->v[0..flen/2), in w->t. */
static const sd_limb *from_columns(struct ec_work *w)
{
	sd_len i;

	for (i = 0; i < w->flen; i++)
		w->t[i] = (sd_limb)(w->v[i / 2] >> (8 * (i % 2)));
	return w->t;
}
#else
/* The columns are the limbs. */
#define PRODUCT(w) ((w)->v)
#define to_columns(w, n) ((void)0)
#define from_columns(w) ((const sd_limb *)(w)->v)
#endif

#if !defined(EC_AVR_FAST)
/*
 * FIPS 186-4 D.2.3: with c0..c15 the 32-bit words of the product, r =
 * s1 + 2 s2 + 2 s3 + s4 + s5 - s6 - s7 - s8 - s9 (mod p). Word j of that
 * sum, less c_j, gathers the c8..c15 below; with 16-bit columns, the
 * column of half h of word j takes half h of each word (C(i)). On the
 * AVR (the Uno agent, the AVR_FE=c build) and with SD_CRYPTO_SMALL the
 * same sums come from a table, in less flash and more time; the fast AVR
 * build has them in port/avr/p256_fast.S.
 */
#define C(i) ((ec_sacc)v[COLS(32) * (i) + h])
#if defined(SD_CRYPTO_SMALL) || defined(__AVR__)
static const int8_t p256_terms[8][8] SD_ROM = {
	/* c8 c9 c10 c11 c12 c13 c14 c15 */
	{1, 1, 0, -1, -1, -1, -1, 0},
	{0, 1, 1, 0, -1, -1, -1, -1},
	{0, 0, 1, 1, 0, -1, -1, -1},
	{-1, -1, 0, 2, 2, 1, 0, -1},
	{0, -1, -1, 0, 2, 2, 1, 0},
	{0, 0, -1, -1, 0, 2, 2, 1},
	{-1, -1, 0, 0, 0, 1, 3, 2},
	{1, 0, -1, -1, -1, -1, 0, 3},
};

/* The branches follow the table, not the data. */
static ec_sacc p256_word(const ec_col *v, uint8_t j, uint8_t h)
{
	ec_sacc acc = 0;
	int8_t k;
	uint8_t i;

	for (i = 0; i < 8; i++) {
		k = (int8_t)sd_rom_u8((const uint8_t *)&p256_terms[j][i]);
		if (k < 0)
			acc -= C(8 + i);
		for (; k > 0; k--)
			acc += C(8 + i);
	}
	return acc;
}
#else
/* k x for a column x >= 0 and a small k; under SD_CM3_CT_MUL through
 * sd_mul32, so that no UMLAL comes of it on the product's columns. */
#if defined(SD_CM3_CT_MUL)
#define KC(k, x) ((ec_sacc)sd_mul32((uint32_t)(x), (k)))
#else
#define KC(k, x) ((k) * (x))
#endif

static ec_sacc p256_word(const ec_col *v, uint8_t j, uint8_t h)
{
	switch (j) {
	case 0: return C(8) + C(9) - C(11) - C(12) - C(13) - C(14);
	case 1: return C(9) + C(10) - C(12) - C(13) - C(14) - C(15);
	case 2: return C(10) + C(11) - C(13) - C(14) - C(15);
	case 3: return KC(2, C(11)) + KC(2, C(12)) + C(13) - C(8) - C(9) - C(15);
	case 4: return KC(2, C(12)) + KC(2, C(13)) + C(14) - C(9) - C(10);
	case 5: return KC(2, C(13)) + KC(2, C(14)) + C(15) - C(10) - C(11);
	case 6: return KC(3, C(14)) + KC(2, C(15)) + C(13) - C(8) - C(9);
	default: return KC(3, C(15)) + C(8) - C(10) - C(11) - C(12) - C(13);
	}
}
#endif
#undef C

/* v[0..256 bits) += c (2^224 - 2^192 - 2^96 + 1), 2^256 mod p, for a
 * small signed c; returns the signed carry out of bit 255. Right shifts
 * of negative values are arithmetic (GCC, "Integers implementation"). */
static ec_sacc p256_fold(ec_col *v, ec_sacc c)
{
	ec_sacc acc = 0;
	uint8_t i;

	for (i = 0; i < COLS(256); i++) {
		acc += v[i];
		if (i == COLS(0) || i == COLS(224))
			acc += c;
		if (i == COLS(96) || i == COLS(192))
			acc -= c;
		v[i] = (ec_col)acc;
		acc >>= COL_BITS;
	}
	return acc;
}

/* v[0..256 bits) = v[0..512 bits) mod p, below 2^256: the columns of
 * D.2.3 leave a carry c in [-4, 6]; folding it back leaves one in
 * [-1, 1], and folding that leaves none. */
static void p256_reduce(ec_col *v)
{
	ec_sacc acc = 0;
	uint8_t j, h;

	for (j = 0; j < 8; j++) {
		for (h = 0; h < COLS(32); h++) {
			acc += v[COLS(32) * j + h] + p256_word(v, j, h);
			v[COLS(32) * j + h] = (ec_col)acc;
			acc >>= COL_BITS;
		}
	}
	(void)p256_fold(v, p256_fold(v, acc));
}
#endif /* EC_AVR_FAST */

/* v[0..192 bits) = v[0..160 bits) + h (2^31 + 1) for h the nh columns from
 * bit 160, 2^160 = 2^31 + 1 (mod p): column j adds h_j and h_(j - s)
 * 2^b, with 31 = s COL_BITS + b. In place: column j reads h_j and
 * h_(j - s) from above column 160/COL_BITS + j - s - 1 >= j, before
 * column j is written. */
static void p160_fold(ec_col *v, uint8_t nh)
{
	enum { S = 31 / COL_BITS, B = 31 % COL_BITS };
	const ec_col *h = v + COLS(160);
	ec_uacc acc = 0;
	uint8_t j;

	for (j = 0; j < COLS(192); j++) {
		if (j < COLS(160))
			acc += v[j];
		if (j < nh)
			acc += h[j];
		if ((uint8_t)(j - S) < nh) /* wraps above nh for j < S */
			acc += (ec_uacc)h[(uint8_t)(j - S)] << B;
		v[j] = (ec_col)acc;
		acc >>= COL_BITS;
	}
}

/* v[0..160 bits) = v[0..320 bits) mod p, below 2^160: the first fold
 * leaves a top below 2^32, the second one of 0 or 1, which the third
 * folds into the low 64 bits without a carry. */
static void p160_reduce(ec_col *v)
{
	p160_fold(v, COLS(160));
	p160_fold(v, COLS(32));
	p160_fold(v, COLS(32));
}

/* w->v[0..flen/2) = w->v mod p, below 2^(8 flen), by the form of p. */
static void reduce(struct ec_work *w)
{
#if !defined(EC_AVR_FAST)
	if (w->form == SD_ECC_FORM_P256) {
		p256_reduce(w->v);
		return;
	}
#endif
	p160_reduce(w->v);
}

/* t[0..2n) = a b, schoolbook by rows. */
static void product(sd_limb *t, const sd_limb *a, const sd_limb *b, sd_len n)
{
	sd_len i;

	memset(t, 0, 2 * (size_t)n * sizeof(sd_limb));
	for (i = 0; i < n; i++)
		t[i + n] = sd_bn_mac(t + i, a, b[i], n);
}

/* r = w->v mod p, fully reduced: the product's columns reduced by the
 * form of p, then p subtracted once if needed. */
static void reduced(struct ec_work *w, sd_limb *r)
{
#if defined(EC_AVR_FAST)
	if (w->form == SD_ECC_FORM_P256)
		sd_p256_reduce_avr((uint8_t *)w->v);
	else
#endif
	{
		to_columns(w, w->flen);
		reduce(w);
	}
	/* below 2^(8 flen) < 2p */
	sd_bn_csub(r, from_columns(w), w->p, w->n, 0);
}

/* r = a b mod p, for a, b < p. r may alias a or b. */
static void fmul(struct ec_work *w, sd_limb *r, const sd_limb *a,
		 const sd_limb *b)
{
#if defined(EC_AVR_FAST)
	if (w->form == SD_ECC_FORM_P160) {
		sd_p160_mul_avr((uint8_t *)r, (const uint8_t *)a,
				(const uint8_t *)b, (uint8_t *)w->v);
		return;
	}
	if (w->form == SD_ECC_FORM_P256) /* 16-bit limbs: the product is w->v */
		sd_mul256_avr((uint8_t *)w->v, (const uint8_t *)a,
			      (const uint8_t *)b);
	else
#endif
		product(PRODUCT(w), a, b, w->n);
	reduced(w, r);
}

/* r = a^2 mod p, for a < p. r may alias a. Only the fast AVR build has a
 * squaring of its own. */
#if defined(EC_AVR_FAST)
static void fsqr(struct ec_work *w, sd_limb *r, const sd_limb *a)
{
	if (w->form == SD_ECC_FORM_P160) {
		sd_p160_sqr_avr((uint8_t *)r, (const uint8_t *)a,
				(uint8_t *)w->v);
		return;
	}
	if (w->form == SD_ECC_FORM_P256) {
		sd_sqr256_avr((uint8_t *)w->v, (const uint8_t *)a);
		reduced(w, r);
		return;
	}
	fmul(w, r, a, a);
}
#else
#define fsqr(w, r, a) fmul(w, r, a, a)
#endif

/* r = a^(p-2) = a^-1 mod p (Fermat), two bits of the exponent at a time
 * (a, a^2 and a^3 at hand). The exponent is public, so its bits may steer
 * the loop. r must not alias a; uses t4, and t0 and t1 for a^2 and a^3. */
static void finv(struct ec_work *w, sd_limb *r, const sd_limb *a)
{
	sd_limb *e = w->t4, *a2 = w->t0, *a3 = w->t1;
	const sd_limb *m[4];
	int i;

	memcpy(e, w->p, sizeof(ec_fe));
	sd_bn_sub_word(e, w->n, 2);
	fsqr(w, a2, a);
	fmul(w, a3, a2, a);
	m[1] = a;
	m[2] = a2;
	m[3] = a3;
	memcpy(r, w->one, sizeof(ec_fe));
	for (i = (int)w->n * SD_LIMB_BITS - 2; i >= 0; i -= 2) {
		unsigned d = (unsigned)(e[i / SD_LIMB_BITS] >>
					(i % SD_LIMB_BITS)) & 3;

		fsqr(w, r, r);
		fsqr(w, r, r);
		if (d != 0)
			fmul(w, r, r, m[d]);
	}
}

/* ---- points: Renes-Costello-Batina 2016, a = -3 ---- */

/* Algorithm 4: o = p + q (complete). o must not alias p or q. */
static void padd(struct ec_work *w, struct ec_point *o,
		 const struct ec_point *p, const struct ec_point *q)
{
	sd_limb *t0 = w->t0, *t1 = w->t1, *t2 = w->t2, *t3 = w->t3, *t4 = w->t4;
	sd_limb *x3 = o->x, *y3 = o->y, *z3 = o->z;

	fmul(w, t0, p->x, q->x);  /*  1. t0 <- X1 X2 */
	fmul(w, t1, p->y, q->y);  /*  2. t1 <- Y1 Y2 */
	fmul(w, t2, p->z, q->z);  /*  3. t2 <- Z1 Z2 */
	fadd(w, t3, p->x, p->y);  /*  4. t3 <- X1 + Y1 */
	fadd(w, t4, q->x, q->y);  /*  5. t4 <- X2 + Y2 */
	fmul(w, t3, t3, t4);      /*  6. t3 <- t3 t4 */
	fadd(w, t4, t0, t1);      /*  7. t4 <- t0 + t1 */
	fsub(w, t3, t3, t4);      /*  8. t3 <- t3 - t4 */
	fadd(w, t4, p->y, p->z);  /*  9. t4 <- Y1 + Z1 */
	fadd(w, x3, q->y, q->z);  /* 10. X3 <- Y2 + Z2 */
	fmul(w, t4, t4, x3);      /* 11. t4 <- t4 X3 */
	fadd(w, x3, t1, t2);      /* 12. X3 <- t1 + t2 */
	fsub(w, t4, t4, x3);      /* 13. t4 <- t4 - X3 */
	fadd(w, x3, p->x, p->z);  /* 14. X3 <- X1 + Z1 */
	fadd(w, y3, q->x, q->z);  /* 15. Y3 <- X2 + Z2 */
	fmul(w, x3, x3, y3);      /* 16. X3 <- X3 Y3 */
	fadd(w, y3, t0, t2);      /* 17. Y3 <- t0 + t2 */
	fsub(w, y3, x3, y3);      /* 18. Y3 <- X3 - Y3 */
	fmul(w, z3, w->b, t2);    /* 19. Z3 <- b t2 */
	fsub(w, x3, y3, z3);      /* 20. X3 <- Y3 - Z3 */
	fadd(w, z3, x3, x3);      /* 21. Z3 <- X3 + X3 */
	fadd(w, x3, x3, z3);      /* 22. X3 <- X3 + Z3 */
	fsub(w, z3, t1, x3);      /* 23. Z3 <- t1 - X3 */
	fadd(w, x3, t1, x3);      /* 24. X3 <- t1 + X3 */
	fmul(w, y3, w->b, y3);    /* 25. Y3 <- b Y3 */
	fadd(w, t1, t2, t2);      /* 26. t1 <- t2 + t2 */
	fadd(w, t2, t1, t2);      /* 27. t2 <- t1 + t2 */
	fsub(w, y3, y3, t2);      /* 28. Y3 <- Y3 - t2 */
	fsub(w, y3, y3, t0);      /* 29. Y3 <- Y3 - t0 */
	fadd(w, t1, y3, y3);      /* 30. t1 <- Y3 + Y3 */
	fadd(w, y3, t1, y3);      /* 31. Y3 <- t1 + Y3 */
	fadd(w, t1, t0, t0);      /* 32. t1 <- t0 + t0 */
	fadd(w, t0, t1, t0);      /* 33. t0 <- t1 + t0 */
	fsub(w, t0, t0, t2);      /* 34. t0 <- t0 - t2 */
	fmul(w, t1, t4, y3);      /* 35. t1 <- t4 Y3 */
	fmul(w, t2, t0, y3);      /* 36. t2 <- t0 Y3 */
	fmul(w, y3, x3, z3);      /* 37. Y3 <- X3 Z3 */
	fadd(w, y3, y3, t2);      /* 38. Y3 <- Y3 + t2 */
	fmul(w, x3, x3, t3);      /* 39. X3 <- X3 t3 */
	fsub(w, x3, x3, t1);      /* 40. X3 <- X3 - t1 */
	fmul(w, z3, t4, z3);      /* 41. Z3 <- t4 Z3 */
	fmul(w, t1, t3, t0);      /* 42. t1 <- t3 t0 */
	fadd(w, z3, z3, t1);      /* 43. Z3 <- Z3 + t1 */
}

/* Algorithm 6: o = 2p (complete). o must not alias p. */
static void pdbl(struct ec_work *w, struct ec_point *o, const struct ec_point *p)
{
	sd_limb *t0 = w->t0, *t1 = w->t1, *t2 = w->t2, *t3 = w->t3;
	sd_limb *x3 = o->x, *y3 = o->y, *z3 = o->z;

	fsqr(w, t0, p->x);        /*  1. t0 <- X X */
	fsqr(w, t1, p->y);        /*  2. t1 <- Y Y */
	fsqr(w, t2, p->z);        /*  3. t2 <- Z Z */
	fmul(w, t3, p->x, p->y);  /*  4. t3 <- X Y */
	fadd(w, t3, t3, t3);      /*  5. t3 <- t3 + t3 */
	fmul(w, z3, p->x, p->z);  /*  6. Z3 <- X Z */
	fadd(w, z3, z3, z3);      /*  7. Z3 <- Z3 + Z3 */
	fmul(w, y3, w->b, t2);    /*  8. Y3 <- b t2 */
	fsub(w, y3, y3, z3);      /*  9. Y3 <- Y3 - Z3 */
	fadd(w, x3, y3, y3);      /* 10. X3 <- Y3 + Y3 */
	fadd(w, y3, x3, y3);      /* 11. Y3 <- X3 + Y3 */
	fsub(w, x3, t1, y3);      /* 12. X3 <- t1 - Y3 */
	fadd(w, y3, t1, y3);      /* 13. Y3 <- t1 + Y3 */
	fmul(w, y3, x3, y3);      /* 14. Y3 <- X3 Y3 */
	fmul(w, x3, x3, t3);      /* 15. X3 <- X3 t3 */
	fadd(w, t3, t2, t2);      /* 16. t3 <- t2 + t2 */
	fadd(w, t2, t2, t3);      /* 17. t2 <- t2 + t3 */
	fmul(w, z3, w->b, z3);    /* 18. Z3 <- b Z3 */
	fsub(w, z3, z3, t2);      /* 19. Z3 <- Z3 - t2 */
	fsub(w, z3, z3, t0);      /* 20. Z3 <- Z3 - t0 */
	fadd(w, t3, z3, z3);      /* 21. t3 <- Z3 + Z3 */
	fadd(w, z3, z3, t3);      /* 22. Z3 <- Z3 + t3 */
	fadd(w, t3, t0, t0);      /* 23. t3 <- t0 + t0 */
	fadd(w, t0, t3, t0);      /* 24. t0 <- t3 + t0 */
	fsub(w, t0, t0, t2);      /* 25. t0 <- t0 - t2 */
	fmul(w, t0, t0, z3);      /* 26. t0 <- t0 Z3 */
	fadd(w, y3, y3, t0);      /* 27. Y3 <- Y3 + t0 */
	fmul(w, t0, p->y, p->z);  /* 28. t0 <- Y Z */
	fadd(w, t0, t0, t0);      /* 29. t0 <- t0 + t0 */
	fmul(w, z3, t0, z3);      /* 30. Z3 <- t0 Z3 */
	fsub(w, x3, x3, z3);      /* 31. X3 <- X3 - Z3 */
	fmul(w, z3, t0, t1);      /* 32. Z3 <- t0 t1 */
	fadd(w, z3, z3, z3);      /* 33. Z3 <- Z3 + Z3 */
	fadd(w, z3, z3, z3);      /* 34. Z3 <- Z3 + Z3 */
}

static void pcswap(struct ec_work *w, struct ec_point *a, struct ec_point *b,
		   sd_limb mask)
{
	sd_bn_cswap(a->x, b->x, w->n, mask);
	sd_bn_cswap(a->y, b->y, w->n, mask);
	sd_bn_cswap(a->z, b->z, w->n, mask);
}

/* Bit i of the scalar (public i, secret value). */
static sd_limb kbit(const struct ec_work *w, int i)
{
	return (sd_limb)((w->k[i / SD_LIMB_BITS] >> (i % SD_LIMB_BITS)) & 1);
}

/*
 * One step of the Montgomery ladder on the complete formulas, with r0 and
 * r1 exchanged while *swap is 1: (r0, r1) becomes (2 r0, r0 + r1) for bit
 * 0, (r0 + r1, 2 r1) for bit 1. The exchange follows the bits, in masks.
 */
static void rcb_step(struct ec_work *w, sd_limb bit, sd_limb *swap)
{
	*swap ^= bit;
	pcswap(w, &w->r0, &w->r1, SD_BN_MASK(*swap));
	*swap = bit;
	padd(w, &w->out, &w->r0, &w->r1);
	memcpy(&w->r1, &w->out, sizeof w->out);
	pdbl(w, &w->out, &w->r0);
	memcpy(&w->r0, &w->out, sizeof w->out);
}

#if defined(EC_COZ)
/* ---- the co-Z ladder: Jacobian (X, Y, Z), x = X/Z^2, y = Y/Z^3 ---- */

/* The common Z of r0 and r1 (out is free until the last two steps). */
#define COZ_Z(w) ((w)->out.z)

/*
 * Co-Z addition of P = (x1, y1) and Q = (x2, y2) on the common Z
 * (Meloni 2007; Goundar et al. 2011, ZADDU and the conjugate ZADDC). With
 * Z' = Z (X1 - X2), C = (X1 - X2)^2, W1 = X1 C, W2 = X2 C and A1 = Y1
 * (W1 - W2) = Y1 (X1 - X2)^3, P on Z' is (W1, A1), and
 *
 *   P + Q = ((Y1 - Y2)^2 - W1 - W2, (Y1 - Y2)(W1 - X3) - A1),
 *   P - Q = ((Y1 + Y2)^2 - W1 - W2, (Y1 + Y2)(W1 - X3') - A1),
 *
 * the affine sums' slopes times Z' being Y1 - Y2 and Y1 + Y2. Writes P + Q
 * into (x2, y2) and P - Q (conj 1) or P on Z' (conj 0) into (x1, y1);
 * Z' into COZ_Z. Needs P != +-Q, neither O. Uses t0..t4.
 */
static void zadd(struct ec_work *w, sd_limb *x1, sd_limb *y1, sd_limb *x2,
		 sd_limb *y2, int conj)
{
	sd_limb *t0 = w->t0, *t1 = w->t1, *t2 = w->t2, *t3 = w->t3, *t4 = w->t4;

	fsub(w, t0, x1, x2);          /* X1 - X2 */
	fmul(w, COZ_Z(w), COZ_Z(w), t0); /* Z' */
	fsqr(w, t0, t0);              /* C */
	fmul(w, t1, x1, t0);          /* W1 */
	fmul(w, t2, x2, t0);          /* W2 */
	fsub(w, t0, y1, y2);          /* Y1 - Y2 */
	if (conj)
		fadd(w, t3, y1, y2);  /* Y1 + Y2 */
	fsub(w, t4, t1, t2);          /* W1 - W2 */
	fmul(w, y1, y1, t4);          /* A1 */
	fadd(w, t2, t1, t2);          /* W1 + W2 */
	fsqr(w, x2, t0);
	fsub(w, x2, x2, t2);          /* X3 */
	fsub(w, t4, t1, x2);
	fmul(w, y2, t0, t4);
	fsub(w, y2, y2, y1);          /* Y3 */
	if (!conj) {
		memcpy(x1, t1, sizeof(ec_fe)); /* P = (W1, A1) */
		return;
	}
	fsqr(w, x1, t3);
	fsub(w, x1, x1, t2);          /* X3' */
	fsub(w, t4, t1, x1);
	fmul(w, t4, t3, t4);
	fsub(w, y1, t4, y1);          /* Y3' */
}

/*
 * (r0, r1) = (P, 2P) on the common Z = 2y, from the affine P = (x, y) in
 * r1: Jacobian doubling with Z = 1 and a = -3, M = 3 (x^2 - 1), S = 4 x
 * y^2, gives 2P = (M^2 - 2S, M (S - X') - 8 y^4), and P on Z = 2y is
 * (x (2y)^2, y (2y)^3) = (S, 8 y^4). y != 0: n is odd, P has no order 2.
 */
static void coz_init(struct ec_work *w)
{
	sd_limb *x = w->r1.x, *y = w->r1.y, *s = w->r0.x, *y4 = w->r0.y;
	sd_limb *t0 = w->t0, *t1 = w->t1, *t2 = w->t2;

	fadd(w, COZ_Z(w), y, y);
	fsqr(w, t0, y);
	fadd(w, t0, t0, t0);          /* 2 y^2 */
	fmul(w, s, x, t0);
	fadd(w, s, s, s);             /* S */
	fsqr(w, t1, t0);
	fadd(w, y4, t1, t1);          /* 8 y^4 */
	fsqr(w, t1, x);
	fsub(w, t1, t1, w->one);
	fadd(w, t2, t1, t1);
	fadd(w, t1, t2, t1);          /* M */
	fsqr(w, t2, t1);
	fsub(w, t2, t2, s);
	fsub(w, x, t2, s);            /* X' */
	fsub(w, t2, s, x);
	fmul(w, t2, t1, t2);
	fsub(w, y, t2, y4);           /* Y' */
}

/* r0 and r1 to the projective coordinates of the complete formulas:
 * (X, Y, Z) Jacobian is (X Z, Y, Z^3) projective. */
static void coz_to_projective(struct ec_work *w)
{
	sd_limb *z = COZ_Z(w);

	fmul(w, w->r0.x, w->r0.x, z);
	fmul(w, w->r1.x, w->r1.x, z);
	fsqr(w, w->t0, z);
	fmul(w, w->r0.z, w->t0, z);
	memcpy(w->r1.z, w->r0.z, sizeof(ec_fe));
}

/*
 * r0 = k P, P the affine point in r1, by the Montgomery ladder over the
 * bits of the regularised k (load_scalar: 2^m <= k < 2^(m+1), m the bits
 * of n, the same length for every scalar), keeping r1 - r0 = P.
 *
 * Why the co-Z steps meet no exceptional case: before the step of bit i,
 * r0 = a P and r1 = (a + 1) P with a = floor(k / 2^(i+1)) >= 1. The step
 * adds r0 and r1 (needs a, a + 1 and 2a + 1 not multiples of n: then r0,
 * r1 != O and r0 != +-r1) and then their sum and +-P (needs 2a and 2a + 2
 * not multiples of n). For i >= 2, a < 2^(m+1) / 8 <= n / 2, so
 * 1 <= a < 2a + 2 <= n, and n is odd: none is. The steps of bits 1 and 0,
 * where a may reach n - 1 (for k = 1 + 2n, n - 2 + n, n - 1 + n: the
 * scalars 1, n - 2 and n - 1), run on the complete formulas.
 */
#define COZ_TAIL 2 /* the last steps, on the complete formulas */

static void ladder(struct ec_work *w)
{
	sd_limb swap = 0, bit;
	int i;

	coz_init(w);
	for (i = (int)w->bits - 1; i >= COZ_TAIL; i--) {
		bit = kbit(w, i);
		swap ^= bit;
		sd_bn_cswap(w->r0.x, w->r1.x, w->n, SD_BN_MASK(swap));
		sd_bn_cswap(w->r0.y, w->r1.y, w->n, SD_BN_MASK(swap));
		swap = bit;
		/* r1 = r0 + r1, r0 = r0 - r1 = -P (r1 - r0 = P); then r0 =
		 * r1 + r0 = 2 r0 and r1 the same sum on the new Z. */
		zadd(w, w->r0.x, w->r0.y, w->r1.x, w->r1.y, 1);
		zadd(w, w->r1.x, w->r1.y, w->r0.x, w->r0.y, 0);
	}
	coz_to_projective(w);
	for (; i >= 0; i--)
		rcb_step(w, kbit(w, i), &swap);
	pcswap(w, &w->r0, &w->r1, SD_BN_MASK(swap));
}
#else
/*
 * r0 = k r1 by the Montgomery ladder, keeping r1 - r0 = P: for each bit
 * of k from the top, (r0, r1) becomes (2 r0, r0 + r1) or (r0 + r1, 2 r1).
 * It runs over all bits of n, whatever the value of k.
 */
static void ladder(struct ec_work *w)
{
	sd_limb swap = 0;
	int i;

	memset(w->r0.x, 0, sizeof(ec_fe)); /* r0 = (0 : 1 : 0) */
	memcpy(w->r0.y, w->one, sizeof(ec_fe));
	memset(w->r0.z, 0, sizeof(ec_fe));
	for (i = (int)w->bits - 1; i >= 0; i--)
		rcb_step(w, kbit(w, i), &swap);
	pcswap(w, &w->r0, &w->r1, SD_BN_MASK(swap));
}
#endif /* EC_COZ */

/* ---- setup, encodings ---- */

/* r (n limbs) = the big-endian ROM constant of len bytes. */
static void load_rom(struct ec_work *w, sd_limb *r, sd_len n,
		     const uint8_t *rom, size_t len)
{
	uint8_t *buf = (uint8_t *)w->t0;

	sd_rom_copy(buf, rom, len);
	sd_bn_from_be(r, n, buf, len);
}

static void setup(struct ec_work *w, const sd_ecc_curve *c)
{
	memset(w, 0, sizeof *w);
	w->flen = sd_rom_u8(&c->field_len);
	w->slen = sd_rom_u8(&c->scalar_len);
	w->bits = sd_rom_u16(&c->order_bits);
	w->n = (sd_len)SD_LIMBS(w->flen);
	w->ns = (sd_len)SD_LIMBS(w->slen);
	load_rom(w, w->p, w->n, c->p, w->flen);

	w->form = sd_rom_u8(&c->form);
	w->one[0] = 1;
	load_rom(w, w->b, w->n, c->b, w->flen);
}

/* Loads the scalar into w->k; SD_ERR_SCALAR unless 1 <= k < n. With
 * EC_COZ k then becomes k + n if that reaches 2^m (m the bits of n), else
 * k + 2n: n > 2^(m-1) and k < n put both in [2^m, 2^(m+1)). The choice
 * is a mask, the same work for every k. */
static int load_scalar(struct ec_work *w, const sd_ecc_curve *c,
		       const uint8_t *priv)
{
	sd_limb below_n, zero;

	sd_bn_from_be(w->k, w->ns, priv, w->slen);
	load_rom(w, w->t1, w->ns, c->n, w->slen);
	below_n = sd_bn_sub(w->t2, w->k, w->t1, w->ns);
	zero = sd_bn_zero_mask(w->k, w->ns);
#if defined(EC_COZ)
	{
		sd_limb *n = w->t1, *k2n = w->t2, top, big;

		w->k[w->ns] = sd_bn_add(w->k, w->k, n, w->ns);
		top = (sd_limb)(w->k[w->ns] + sd_bn_add(k2n, w->k, n, w->ns));
		big = SD_BN_MASK(kbit(w, w->bits));
		sd_bn_cmov(w->k, k2n, w->ns, (sd_limb)~big);
		w->k[w->ns] ^= (sd_limb)(~big & (w->k[w->ns] ^ top));
	}
#endif
	return (below_n & (sd_limb)~zero & 1) ? SD_OK : SD_ERR_SCALAR;
}

/* Decodes and validates (SEC 1 v2.0 §3.2.2.1) an uncompressed point into
 * q, with Z = 1. */
static int load_point(struct ec_work *w, struct ec_point *q,
		      const uint8_t *pub, size_t len)
{
	sd_limb in_range, on_curve;

	if (len != 1 + 2 * (size_t)w->flen)
		return SD_ERR_LENGTH;
	if (pub[0] != SD_ECC_POINT_UNCOMPRESSED)
		return SD_ERR_POINT; /* includes 0x00, the point at infinity */

	/* Step 2: x and y are integers in [0, p - 1]. */
	sd_bn_from_be(q->x, w->n, pub + 1, w->flen);
	sd_bn_from_be(q->y, w->n, pub + 1 + w->flen, w->flen);
	in_range = sd_bn_sub(w->t0, q->x, w->p, w->n);
	in_range &= sd_bn_sub(w->t0, q->y, w->p, w->n);

	/* Step 3: y^2 = x^3 - 3x + b (mod p). */
	memcpy(q->z, w->one, sizeof(ec_fe));
	fsqr(w, w->t0, q->y);
	fsqr(w, w->t1, q->x);
	fmul(w, w->t1, w->t1, q->x);
	fadd(w, w->t2, q->x, q->x);
	fadd(w, w->t2, w->t2, q->x);
	fsub(w, w->t1, w->t1, w->t2);
	fadd(w, w->t1, w->t1, w->b);
	fsub(w, w->t2, w->t0, w->t1);
	on_curve = sd_bn_zero_mask(w->t2, w->n);
	return (in_range & on_curve & 1) ? SD_OK : SD_ERR_POINT;
}

/* Leaves the affine x (and y if wanted) of r0 in t0 (and t1).
 * SD_ERR_LOW_ORDER for the point at infinity. */
static int affine(struct ec_work *w, int want_y)
{
	sd_limb *zinv = w->t2;
	sd_limb infinity = sd_bn_zero_mask(w->r0.z, w->n);

	finv(w, zinv, w->r0.z);
	fmul(w, w->t0, w->r0.x, zinv);
	if (want_y)
		fmul(w, w->t1, w->r0.y, zinv);
	return (infinity & 1) ? SD_ERR_LOW_ORDER : SD_OK;
}

/* ---- API ---- */

size_t sd_ecc_field_len(const sd_ecc_curve *c)
{
	return sd_rom_u8(&c->field_len);
}

size_t sd_ecc_scalar_len(const sd_ecc_curve *c)
{
	return sd_rom_u8(&c->scalar_len);
}

size_t sd_ecc_point_len(const sd_ecc_curve *c)
{
	return 1 + 2 * sd_ecc_field_len(c);
}

int sd_ecc_validate(const sd_ecc_curve *c, const uint8_t *pub, size_t len)
{
	struct ec_work w;
	int err;

	setup(&w, c);
	err = load_point(&w, &w.r1, pub, len);
	sd_wipe(&w, sizeof w);
	return err;
}

int sd_ecc_public(const sd_ecc_curve *c, uint8_t *pub, const uint8_t *priv)
{
	struct ec_work w;
	int err;

	setup(&w, c);
	err = load_scalar(&w, c, priv);
	if (err == SD_OK) {
		load_rom(&w, w.r1.x, w.n, c->gx, w.flen);
		load_rom(&w, w.r1.y, w.n, c->gy, w.flen);
		memcpy(w.r1.z, w.one, sizeof(ec_fe));
		ladder(&w);
		err = affine(&w, 1);
	}
	if (err == SD_OK) {
		pub[0] = SD_ECC_POINT_UNCOMPRESSED;
		sd_bn_to_be(pub + 1, w.flen, w.t0);
		sd_bn_to_be(pub + 1 + w.flen, w.flen, w.t1);
	}
	sd_wipe(&w, sizeof w);
	return err;
}

void sd_ecc_generator(const sd_ecc_curve *c, uint8_t *pub)
{
	size_t flen = sd_ecc_field_len(c);

	pub[0] = SD_ECC_POINT_UNCOMPRESSED;
	sd_rom_copy(pub + 1, c->gx, flen);
	sd_rom_copy(pub + 1 + flen, c->gy, flen);
}

int sd_ecdh(const sd_ecc_curve *c, uint8_t *shared, const uint8_t *priv,
	    const uint8_t *peer, size_t peer_len)
{
	struct ec_work w;
	int err;

	setup(&w, c);
	err = load_point(&w, &w.r1, peer, peer_len);
	if (err == SD_OK)
		err = load_scalar(&w, c, priv);
	if (err == SD_OK) {
		ladder(&w);
		err = affine(&w, 0);
	}
	if (err == SD_OK)
		sd_bn_to_be(shared, w.flen, w.t0);
	else
		sd_wipe(shared, w.flen);
	sd_wipe(&w, sizeof w);
	return err;
}
