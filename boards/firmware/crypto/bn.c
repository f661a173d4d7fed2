/* crypto/bn.c: fixed-size, constant-time multiprecision arithmetic. */
#include "bn.h"

#if !defined(SD_BN_AVR)
sd_limb sd_bn_add(sd_limb *r, const sd_limb *a, const sd_limb *b, sd_len n)
{
	sd_dlimb t = 0;
	sd_len i;

	for (i = 0; i < n; i++) {
		t = (sd_dlimb)a[i] + b[i] + (t >> SD_LIMB_BITS);
		r[i] = (sd_limb)t;
	}
	return (sd_limb)(t >> SD_LIMB_BITS);
}

sd_limb sd_bn_sub(sd_limb *r, const sd_limb *a, const sd_limb *b, sd_len n)
{
	sd_limb borrow = 0;
	sd_len i;

	for (i = 0; i < n; i++) {
		/* In double width a - b - borrow wraps to the top half being
		 * all ones exactly when it goes below zero. */
		sd_dlimb t = (sd_dlimb)a[i] - b[i] - borrow;

		r[i] = (sd_limb)t;
		borrow = (sd_limb)(t >> SD_LIMB_BITS) & 1;
	}
	return borrow;
}

#endif /* SD_BN_AVR */

sd_limb sd_bn_mac(sd_limb *r, const sd_limb *a, sd_limb b, sd_len n)
{
	sd_limb carry = 0;
	sd_len i;

	for (i = 0; i < n; i++) {
		/* (2^w - 1)^2 + 2 (2^w - 1) = 2^2w - 1: never overflows. */
		sd_dlimb t = SD_LIMB_MUL(a[i], b) + r[i] + carry;

		r[i] = (sd_limb)t;
		carry = (sd_limb)(t >> SD_LIMB_BITS);
	}
	return carry;
}

sd_dlimb sd_bn_add_word(sd_limb *r, sd_len n, sd_dlimb w)
{
	sd_len i;

	for (i = 0; i < n; i++) {
		w += r[i];
		r[i] = (sd_limb)w;
		w >>= SD_LIMB_BITS;
	}
	return w;
}

sd_limb sd_bn_sub_word(sd_limb *r, sd_len n, sd_limb w)
{
	sd_len i;

	for (i = 0; i < n; i++) {
		sd_dlimb t = (sd_dlimb)r[i] - w;

		r[i] = (sd_limb)t;
		w = (sd_limb)(t >> SD_LIMB_BITS) & 1;
	}
	return w;
}

#if !defined(SD_BN_AVR)
void sd_bn_csub(sd_limb *r, const sd_limb *a, const sd_limb *p, sd_len n,
		sd_limb carry)
{
	sd_limb borrow = 0, mask;
	sd_dlimb t;
	sd_len i;

	/* First only the borrow of a - p, then the subtraction of p or 0. */
	for (i = 0; i < n; i++) {
		t = (sd_dlimb)a[i] - p[i] - borrow;
		borrow = (sd_limb)(t >> SD_LIMB_BITS) & 1;
	}
	mask = SD_BN_MASK((carry | (borrow ^ 1)) & 1);
	borrow = 0;
	for (i = 0; i < n; i++) {
		t = (sd_dlimb)a[i] - (sd_limb)(p[i] & mask) - borrow;
		r[i] = (sd_limb)t;
		borrow = (sd_limb)(t >> SD_LIMB_BITS) & 1;
	}
}

void sd_bn_cadd(sd_limb *r, const sd_limb *p, sd_len n, sd_limb mask)
{
	sd_dlimb t = 0;
	sd_len i;

	for (i = 0; i < n; i++) {
		t = (sd_dlimb)r[i] + (sd_limb)(p[i] & mask) + (t >> SD_LIMB_BITS);
		r[i] = (sd_limb)t;
	}
}

void sd_bn_cmov(sd_limb *r, const sd_limb *a, sd_len n, sd_limb mask)
{
	sd_len i;

	for (i = 0; i < n; i++)
		r[i] ^= (sd_limb)(mask & (r[i] ^ a[i]));
}

void sd_bn_cswap(sd_limb *a, sd_limb *b, sd_len n, sd_limb mask)
{
	sd_len i;

	for (i = 0; i < n; i++) {
		sd_limb d = (sd_limb)(mask & (a[i] ^ b[i]));

		a[i] ^= d;
		b[i] ^= d;
	}
}

#endif /* SD_BN_AVR */

sd_limb sd_bn_zero_mask(const sd_limb *a, sd_len n)
{
	sd_limb acc = 0;
	sd_len i;

	for (i = 0; i < n; i++)
		acc |= a[i];
	/* acc - 1 borrows into the top half exactly when acc == 0. */
	return (sd_limb)((sd_dlimb)((sd_dlimb)acc - 1) >> SD_LIMB_BITS);
}

void sd_bn_from_le(sd_limb *r, sd_len n, const uint8_t *b, size_t len)
{
	size_t i;
	sd_len j;

	for (j = 0; j < n; j++)
		r[j] = 0;
	for (i = 0; i < len && i < (size_t)n * SD_LIMB_BYTES; i++)
		r[i / SD_LIMB_BYTES] |= (sd_limb)((sd_limb)b[i]
						  << (8 * (i % SD_LIMB_BYTES)));
}

void sd_bn_from_be(sd_limb *r, sd_len n, const uint8_t *b, size_t len)
{
	size_t i;
	sd_len j;

	for (j = 0; j < n; j++)
		r[j] = 0;
	for (i = 0; i < len && i < (size_t)n * SD_LIMB_BYTES; i++)
		r[i / SD_LIMB_BYTES] |= (sd_limb)((sd_limb)b[len - 1 - i]
						  << (8 * (i % SD_LIMB_BYTES)));
}

void sd_bn_to_le(uint8_t *b, size_t len, const sd_limb *a)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(a[i / SD_LIMB_BYTES] >> (8 * (i % SD_LIMB_BYTES)));
}

void sd_bn_to_be(uint8_t *b, size_t len, const sd_limb *a)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[len - 1 - i] =
			(uint8_t)(a[i / SD_LIMB_BYTES] >> (8 * (i % SD_LIMB_BYTES)));
}
