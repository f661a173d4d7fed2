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

void ref_fe_mul(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
	sd_limb t[FE_SCRATCH];
	fe x, y;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	sd_bn_from_le(y, FE_LIMBS, b, 32);
	fe_mul(x, x, y, t);
	sd_bn_to_le(r, 32, x);
}

void ref_fe_sqr(uint8_t r[32], const uint8_t a[32])
{
	sd_limb t[FE_SCRATCH];
	fe x;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	fe_sqr(x, x, t);
	sd_bn_to_le(r, 32, x);
}

void ref_fe_add(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
	fe x, y;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	sd_bn_from_le(y, FE_LIMBS, b, 32);
	fe_add(x, x, y);
	sd_bn_to_le(r, 32, x);
}

void ref_fe_sub(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
	fe x, y;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	sd_bn_from_le(y, FE_LIMBS, b, 32);
	fe_sub(x, x, y);
	sd_bn_to_le(r, 32, x);
}

void ref_fe_a24(uint8_t r[32], const uint8_t a[32])
{
	sd_limb t[FE_SCRATCH];
	fe x;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	fe_mul_a24(x, x, t);
	sd_bn_to_le(r, 32, x);
}

void ref_fe_canon(uint8_t out[32], const uint8_t a[32])
{
	fe x, tmp;

	sd_bn_from_le(x, FE_LIMBS, a, 32);
	fe_to_bytes(out, x, tmp);
}
