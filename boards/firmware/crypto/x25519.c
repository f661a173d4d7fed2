/*
 * crypto/x25519.c: X25519, RFC 7748 §5.
 *
 * Field elements of GF(p), p = 2^255 - 19, are 256-bit numbers in full-radix
 * limbs (bn.h), kept below 2^256 but not necessarily below p; only the
 * final encoding reduces them completely. Since 2^256 = 2 * 19 = 38 mod p,
 * every carry out of bit 255 of a sum or product folds back in as 38 times
 * the carry. All temporaries live in one struct that is wiped at the end.
 */
#include "x25519.h"

#include <string.h>

#include "bn.h"
#include "common.h"

#define FE_LIMBS SD_LIMBS(SD_X25519_LEN)
#define FOLD 38 /* 2^256 mod p */

typedef sd_limb fe[FE_LIMBS];

/* Limbs of fe_mul's and fe_sqr's scratch: the 2N-limb product, or the
 * 144 bytes of the fast AVR code's two Karatsuba levels. */
#if defined(SD_FE25519_AVR) && !defined(SD_CRYPTO_SMALL)
#define SD_FE25519_FAST
#define FE_SCRATCH (144 / SD_LIMB_BYTES)
#else
#define FE_SCRATCH (2 * FE_LIMBS)
#endif

#if defined(SD_FE25519_FAST)
/* port/avr/fe25519_fast.S: the linear functions, on the same bytes. */
void sd_fe25519_add_avr(uint8_t r[SD_X25519_LEN], const uint8_t a[SD_X25519_LEN],
			const uint8_t b[SD_X25519_LEN]);
void sd_fe25519_sub_avr(uint8_t r[SD_X25519_LEN], const uint8_t a[SD_X25519_LEN],
			const uint8_t b[SD_X25519_LEN]);
void sd_fe25519_mul121665_avr(uint8_t r[SD_X25519_LEN],
			      const uint8_t a[SD_X25519_LEN]);

static void fe_add(fe r, const fe a, const fe b)
{
	sd_fe25519_add_avr((uint8_t *)r, (const uint8_t *)a, (const uint8_t *)b);
}

static void fe_sub(fe r, const fe a, const fe b)
{
	sd_fe25519_sub_avr((uint8_t *)r, (const uint8_t *)a, (const uint8_t *)b);
}

/* r = a * 121665, the a24 of §5. */
static void fe_mul_a24(fe r, const fe a, sd_limb t[FE_SCRATCH])
{
	(void)t;
	sd_fe25519_mul121665_avr((uint8_t *)r, (const uint8_t *)a);
}
#else
/* a24 = (486662 - 2) / 4 = 121665 (§5), split into limbs. */
#if SD_LIMB_BITS == 8
#define A24_LIMBS 3
static const sd_limb a24[A24_LIMBS] = {0x41, 0xDB, 0x01};
#elif SD_LIMB_BITS == 16
#define A24_LIMBS 2
static const sd_limb a24[A24_LIMBS] = {0xDB41, 0x0001};
#else
#define A24_LIMBS 1
static const sd_limb a24[A24_LIMBS] = {0x0001DB41UL};
#endif

/* Adds c * 2^256 to r, reduced: r += 38c, then the possible carry once
 * more (which cannot carry again, r being below 38^2 after a wrap). c is
 * below 2^SD_LIMB_BITS (a carry limb), so 38c is a limb product (with
 * 32-bit limbs sd_mul32 takes c as a uint32_t without loss). */
static void fold(fe r, sd_dlimb c)
{
	c = sd_bn_add_word(r, FE_LIMBS, SD_LIMB_MUL(c, FOLD));
	sd_bn_add_word(r, FE_LIMBS, SD_LIMB_MUL(c, FOLD));
}

static void fe_add(fe r, const fe a, const fe b)
{
	fold(r, sd_bn_add(r, a, b, FE_LIMBS));
}

/* A borrow means 2^256 was added; take 38 away to compensate, twice if
 * that borrows again. */
static void fe_sub(fe r, const fe a, const fe b)
{
	sd_limb borrow = sd_bn_sub(r, a, b, FE_LIMBS);

	borrow = sd_bn_sub_word(r, FE_LIMBS, (sd_limb)(borrow * FOLD));
	sd_bn_sub_word(r, FE_LIMBS, (sd_limb)(borrow * FOLD));
}

/* r = t[0..N) + 38 * t[N..N+hi) mod p, for hi <= N. */
static void reduce(fe r, const sd_limb *t, sd_len hi)
{
	sd_limb c;

	memcpy(r, t, sizeof(fe));
	c = sd_bn_mac(r, t + FE_LIMBS, FOLD, hi);
	fold(r, sd_bn_add_word(r + hi, (sd_len)(FE_LIMBS - hi), c));
}

/* r = a * 121665. */
static void fe_mul_a24(fe r, const fe a, sd_limb t[FE_SCRATCH])
{
	sd_len i;

	memset(t, 0, (FE_LIMBS + A24_LIMBS) * sizeof(sd_limb));
	for (i = 0; i < A24_LIMBS; i++)
		t[i + FE_LIMBS] = sd_bn_mac(t + i, a, a24[i], FE_LIMBS);
	reduce(r, t, A24_LIMBS);
}
#endif /* SD_FE25519_FAST */

#if defined(SD_FE25519_AVR)
/* The AVR's hand-written field arithmetic, selected by the Makefile for
 * AVR builds: port/avr/fe25519_fast.S (multiplication, squaring, add, sub
 * and a24) or, with SD_CRYPTO_SMALL, the compact port/avr/fe25519.S
 * (multiplication and squaring only). They work on the same 32
 * little-endian bytes as these limbs and keep the C functions' contract:
 * any inputs below 2^256, a result below 2^256, r may alias a or b, t is
 * scratch. */
void sd_fe25519_mul_avr(uint8_t r[SD_X25519_LEN], const uint8_t a[SD_X25519_LEN],
			const uint8_t b[SD_X25519_LEN], uint8_t *t);
void sd_fe25519_sqr_avr(uint8_t r[SD_X25519_LEN], const uint8_t a[SD_X25519_LEN],
			uint8_t *t);

static void fe_mul(fe r, const fe a, const fe b, sd_limb t[FE_SCRATCH])
{
	sd_fe25519_mul_avr((uint8_t *)r, (const uint8_t *)a, (const uint8_t *)b,
			   (uint8_t *)t);
}

static void fe_sqr(fe r, const fe a, sd_limb t[FE_SCRATCH])
{
	sd_fe25519_sqr_avr((uint8_t *)r, (const uint8_t *)a, (uint8_t *)t);
}
#else
/* Schoolbook product by rows (operand scanning) into the 2N-limb t. */
static void fe_mul(fe r, const fe a, const fe b, sd_limb t[FE_SCRATCH])
{
	sd_len i;

	memset(t, 0, 2 * sizeof(fe));
	for (i = 0; i < FE_LIMBS; i++)
		t[i + FE_LIMBS] = sd_bn_mac(t + i, a, b[i], FE_LIMBS);
	reduce(r, t, FE_LIMBS);
}

/* Squaring: the cross products a_i a_j (i < j) once, doubled, plus the
 * squares a_i^2 on the diagonal; about half the limb products of fe_mul. */
static void fe_sqr(fe r, const fe a, sd_limb t[FE_SCRATCH])
{
	sd_limb carry;
	sd_dlimb s, p;
	sd_len i;

	memset(t, 0, 2 * sizeof(fe));
	for (i = 0; i + 1 < FE_LIMBS; i++)
		t[i + FE_LIMBS] = sd_bn_mac(t + 2 * i + 1, a + i + 1, a[i],
					    (sd_len)(FE_LIMBS - i - 1));
	carry = 0;
	for (i = 0; i < 2 * FE_LIMBS; i++) {
		sd_limb v = t[i];

		t[i] = (sd_limb)((sd_limb)(v << 1) | carry);
		carry = (sd_limb)(v >> (SD_LIMB_BITS - 1));
	}
	carry = 0;
	for (i = 0; i < FE_LIMBS; i++) {
		p = SD_LIMB_MUL(a[i], a[i]);
		s = (sd_dlimb)t[2 * i] + (sd_limb)p + carry;
		t[2 * i] = (sd_limb)s;
		s = (sd_dlimb)t[2 * i + 1] + (sd_limb)(p >> SD_LIMB_BITS) +
		    (sd_limb)(s >> SD_LIMB_BITS);
		t[2 * i + 1] = (sd_limb)s;
		carry = (sd_limb)(s >> SD_LIMB_BITS);
	}
	reduce(r, t, FE_LIMBS);
}
#endif /* SD_FE25519_AVR */

/* r = a^(2^n) */
static void fe_sqr_n(fe r, const fe a, unsigned n, sd_limb t[FE_SCRATCH])
{
	fe_sqr(r, a, t);
	while (--n > 0)
		fe_sqr(r, r, t);
}

/*
 * r = z^(p - 2) = 1/z (Fermat), with p - 2 = 2^255 - 21
 * = (2^250 - 1) * 2^5 + 11: 254 squarings and 11 multiplications.
 * zN below stands for z^N; z_k_0 for z^(2^k - 1). z11, z_10_0, z_50_0
 * and x are scratch.
 */
static void fe_invert(fe r, const fe z, fe z11, fe z_10_0, fe z_50_0, fe x,
		      sd_limb t[FE_SCRATCH])
{

	fe_sqr(x, z, t);              /* z^2 */
	fe_sqr_n(r, x, 2, t);         /* z^8 */
	fe_mul(r, r, z, t);           /* z^9 */
	fe_mul(z11, r, x, t);         /* z^11 */
	fe_sqr(x, z11, t);            /* z^22 */
	fe_mul(x, x, r, t);           /* z^31 = z_5_0 */
	fe_sqr_n(r, x, 5, t);
	fe_mul(z_10_0, r, x, t);      /* z_10_0 */
	fe_sqr_n(r, z_10_0, 10, t);
	fe_mul(x, r, z_10_0, t);      /* z_20_0 */
	fe_sqr_n(r, x, 20, t);
	fe_mul(r, r, x, t);           /* z_40_0 */
	fe_sqr_n(r, r, 10, t);
	fe_mul(z_50_0, r, z_10_0, t); /* z_50_0 */
	fe_sqr_n(r, z_50_0, 50, t);
	fe_mul(x, r, z_50_0, t);      /* z_100_0 */
	fe_sqr_n(r, x, 100, t);
	fe_mul(r, r, x, t);           /* z_200_0 */
	fe_sqr_n(r, r, 50, t);
	fe_mul(r, r, z_50_0, t);      /* z_250_0 */
	fe_sqr_n(r, r, 5, t);         /* z^(2^255 - 32) */
	fe_mul(r, r, z11, t);         /* z^(2^255 - 21) */
}

/* Encodes a fully reduced: subtracting p at most twice brings any value
 * below 2^256 under p (2^256 < 3p). */
static void fe_to_bytes(uint8_t out[SD_X25519_LEN], fe a, fe tmp)
{
	fe p;
	sd_len i, k;

	/* p = 2^255 - 19: all ones, minus 18 at the bottom, top bit clear. */
	for (i = 0; i < FE_LIMBS; i++)
		p[i] = (sd_limb)~(sd_limb)0;
	p[0] = (sd_limb)(p[0] - 18);
	p[FE_LIMBS - 1] = (sd_limb)(p[FE_LIMBS - 1] >> 1);
	for (k = 0; k < 2; k++) {
		sd_limb borrow = sd_bn_sub(tmp, a, p, FE_LIMBS);

		sd_bn_cmov(a, tmp, FE_LIMBS, SD_BN_MASK(borrow ^ 1));
	}
	sd_bn_to_le(out, SD_X25519_LEN, a);
}

/* Everything the ladder touches, wiped in one go. */
struct ladder {
	uint8_t k[SD_X25519_LEN]; /* the clamped scalar */
	fe x1, x2, z2, x3, z3;
	fe a, aa, b, bb, e, c, d; /* the ladder's; the inversion's scratch after */
	sd_limb t[FE_SCRATCH];
};

int sd_x25519(uint8_t out[SD_X25519_LEN], const uint8_t scalar[SD_X25519_LEN],
	      const uint8_t u[SD_X25519_LEN])
{
	struct ladder L;
	sd_limb swap = 0, zero;
	int pos;

	/* §5 decodeScalar25519: clear the three low bits and bit 255, set
	 * bit 254. */
	memcpy(L.k, scalar, sizeof L.k);
	L.k[0] &= 248;
	L.k[31] &= 127;
	L.k[31] |= 64;

	/* §5 decodeUCoordinate: mask the most significant bit. */
	sd_bn_from_le(L.x1, FE_LIMBS, u, SD_X25519_LEN);
	L.x1[FE_LIMBS - 1] &= (sd_limb)((sd_limb)~(sd_limb)0 >> 1);

	/* x_2 = 1, z_2 = 0, x_3 = u, z_3 = 1 */
	memset(L.x2, 0, sizeof(fe));
	L.x2[0] = 1;
	memset(L.z2, 0, sizeof(fe));
	memcpy(L.x3, L.x1, sizeof(fe));
	memset(L.z3, 0, sizeof(fe));
	L.z3[0] = 1;

	for (pos = 254; pos >= 0; pos--) {
		sd_limb k_t = (sd_limb)((L.k[pos >> 3] >> (pos & 7)) & 1);

		swap ^= k_t;
		sd_bn_cswap(L.x2, L.x3, FE_LIMBS, SD_BN_MASK(swap));
		sd_bn_cswap(L.z2, L.z3, FE_LIMBS, SD_BN_MASK(swap));
		swap = k_t;

		fe_add(L.a, L.x2, L.z2);        /* A = x_2 + z_2 */
		fe_sqr(L.aa, L.a, L.t);         /* AA = A^2 */
		fe_sub(L.b, L.x2, L.z2);        /* B = x_2 - z_2 */
		fe_sqr(L.bb, L.b, L.t);         /* BB = B^2 */
		fe_sub(L.e, L.aa, L.bb);        /* E = AA - BB */
		fe_add(L.c, L.x3, L.z3);        /* C = x_3 + z_3 */
		fe_sub(L.d, L.x3, L.z3);        /* D = x_3 - z_3 */
		fe_mul(L.d, L.d, L.a, L.t);     /* DA = D * A */
		fe_mul(L.c, L.c, L.b, L.t);     /* CB = C * B */
		fe_add(L.x3, L.d, L.c);
		fe_sqr(L.x3, L.x3, L.t);        /* x_3 = (DA + CB)^2 */
		fe_sub(L.z3, L.d, L.c);
		fe_sqr(L.z3, L.z3, L.t);
		fe_mul(L.z3, L.z3, L.x1, L.t);  /* z_3 = x_1 * (DA - CB)^2 */
		fe_mul(L.x2, L.aa, L.bb, L.t);  /* x_2 = AA * BB */
		fe_mul_a24(L.z2, L.e, L.t);
		fe_add(L.z2, L.z2, L.aa);
		fe_mul(L.z2, L.z2, L.e, L.t);   /* z_2 = E * (AA + a24 * E) */
	}
	sd_bn_cswap(L.x2, L.x3, FE_LIMBS, SD_BN_MASK(swap));
	sd_bn_cswap(L.z2, L.z3, FE_LIMBS, SD_BN_MASK(swap));

	/* Return x_2 * (z_2^(p - 2)). */
	fe_invert(L.a, L.z2, L.aa, L.bb, L.e, L.c, L.t);
	fe_mul(L.x2, L.x2, L.a, L.t);
	fe_to_bytes(out, L.x2, L.b);

	sd_bn_from_le(L.a, FE_LIMBS, out, SD_X25519_LEN);
	zero = sd_bn_zero_mask(L.a, FE_LIMBS);
	sd_wipe(&L, sizeof L);
	return zero ? SD_ERR_LOW_ORDER : SD_OK;
}

void sd_x25519_base(uint8_t pub[SD_X25519_LEN],
		    const uint8_t scalar[SD_X25519_LEN])
{
	/* §4.1: the base point has u = 9. */
	uint8_t nine[SD_X25519_LEN] = {9};

	(void)sd_x25519(pub, scalar, nine);
}
