/*
 * test/avr/fe_ref.c: the portable C field arithmetic and X25519 of
 * crypto/x25519.c, built for the AVR beside the hand-written assembly
 * (this file is compiled without -DSD_FE25519_AVR) and renamed, so that
 * test/avr/vectors.c can compare the two on the chip itself.
 */
#define sd_x25519 ref_x25519
#define sd_x25519_base ref_x25519_base
#include "crypto/x25519.c"

#include "fe_ref.h"

typedef void fe_op(fe r, const fe a, const fe b);

static void op_mul(fe r, const fe a, const fe b)
{
	sd_limb t[FE_SCRATCH];

	fe_mul(r, a, b, t);
}

static void op_sqr(fe r, const fe a, const fe b)
{
	sd_limb t[FE_SCRATCH];

	(void)b;
	fe_sqr(r, a, t);
}

static void op_a24(fe r, const fe a, const fe b)
{
	sd_limb t[FE_SCRATCH];

	(void)b;
	fe_mul_a24(r, a, t);
}

/* r = op(a, b), through the C code's limbs. */
static void apply(uint8_t r[32], const uint8_t a[32], const uint8_t b[32],
		  fe_op *op)
{
	fe x, y;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	sd_bn_from_le(y, FE_LIMBS, b, 32);
	op(x, x, y);
	sd_bn_to_le(r, 32, x);
}

void ref_fe_mul(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
	apply(r, a, b, op_mul);
}

void ref_fe_sqr(uint8_t r[32], const uint8_t a[32])
{
	apply(r, a, a, op_sqr);
}

void ref_fe_add(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
	apply(r, a, b, fe_add);
}

void ref_fe_sub(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
	apply(r, a, b, fe_sub);
}

void ref_fe_a24(uint8_t r[32], const uint8_t a[32])
{
	apply(r, a, a, op_a24);
}

void ref_fe_canon(uint8_t out[32], const uint8_t a[32])
{
	fe x, tmp;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	fe_to_bytes(out, x, tmp);
}
