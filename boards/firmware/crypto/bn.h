/*
 * crypto/bn.h: fixed-size multiprecision arithmetic on little-endian arrays
 * of limbs, shared by x25519.c and ecc.c; internal to crypto/.
 *
 * The limb width is a compile-time choice, SD_LIMB_BITS = 8, 16 or 32. It
 * defaults to 32 (Cortex-M3's UMULL is 32x32->64) and to 16 on the AVR:
 * there 16-bit limbs ran X25519 in 42.7 M cycles against 57.6 M for 8-bit
 * limbs (ATmega328P, avr-gcc 5.4 -Os), the 16x16->32 helper beating the
 * loop overhead of four times as many 8x8 products. The tests run all
 * three widths on the host, so every chip's code path is tested there.
 *
 * ARMv6-M (the nRF51's Cortex-M0) has MULS, 32x32->32, and no wider
 * multiply: there 16-bit limbs ran X25519 in 10.21 M instructions, against
 * 14.24 M for 32-bit limbs with the compiler's 64-bit product (a call of
 * __aeabi_lmul) and 12.17 M for 32-bit limbs whose products are four
 * 16x16 MULS summed with 32-bit carries (QEMU microbit, GCC 12 -O2;
 * boards/firmware/README.md, "The nRF51").
 *
 * Every function runs in time that depends only on the lengths: no branch
 * and no memory index depends on limb values. Masks are all-zero or
 * all-one limbs.
 */
#ifndef SD_CRYPTO_BN_H
#define SD_CRYPTO_BN_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifndef SD_LIMB_BITS
#if defined(__AVR__) || defined(__ARM_ARCH_6M__)
#define SD_LIMB_BITS 16
#else
#define SD_LIMB_BITS 32
#endif
#endif

#if SD_LIMB_BITS == 8
typedef uint8_t sd_limb;
typedef uint16_t sd_dlimb;
#elif SD_LIMB_BITS == 16
typedef uint16_t sd_limb;
typedef uint32_t sd_dlimb;
#elif SD_LIMB_BITS == 32
typedef uint32_t sd_limb;
typedef uint64_t sd_dlimb;
#else
#error "SD_LIMB_BITS must be 8, 16 or 32"
#endif

/* The double-width product of two limbs (common.h's sd_mul32 for 32-bit
 * limbs). */
#if SD_LIMB_BITS == 32
#define SD_LIMB_MUL(a, b) sd_mul32((a), (b))
#else
#define SD_LIMB_MUL(a, b) ((sd_dlimb)(a) * (b))
#endif

#define SD_LIMB_BYTES (SD_LIMB_BITS / 8)
/* Limbs needed for nbytes bytes. */
#define SD_LIMBS(nbytes) (((nbytes) + SD_LIMB_BYTES - 1) / SD_LIMB_BYTES)

/* A count of limbs; at most 2 * 256 / 8 + 2 = 66. */
typedef uint_fast8_t sd_len;

/* The fast AVR build (SD_FE25519_AVR without SD_CRYPTO_SMALL) takes add,
 * sub, csub, cadd, cmov and cswap from port/avr/bn_fast.S (n at least 1
 * there, and even for csub and cadd). */
#if defined(SD_FE25519_AVR) && !defined(SD_CRYPTO_SMALL)
#define SD_BN_AVR
#endif

/* r = a + b, returns the carry (0 or 1). r may alias a or b. */
sd_limb sd_bn_add(sd_limb *r, const sd_limb *a, const sd_limb *b, sd_len n);
/* r = a - b, returns the borrow (0 or 1). r may alias a or b. */
sd_limb sd_bn_sub(sd_limb *r, const sd_limb *a, const sd_limb *b, sd_len n);
/* r[0..n) += a[0..n) * b, returns the carry limb. r must not overlap a. */
sd_limb sd_bn_mac(sd_limb *r, const sd_limb *a, sd_limb b, sd_len n);
/* r[0..n) += w, returns the carry out of r[n-1]; with n == 0 returns w.
 * w must be below 2^(2*SD_LIMB_BITS) - 2^SD_LIMB_BITS. */
sd_dlimb sd_bn_add_word(sd_limb *r, sd_len n, sd_dlimb w);
/* r[0..n) -= w, w < 2^SD_LIMB_BITS; returns the borrow (0 or 1). */
sd_limb sd_bn_sub_word(sd_limb *r, sd_len n, sd_limb w);

/* r = a - p if carry * 2^(w n) + a >= p, else a; carry is 0 or 1 and the
 * value below 2p. r may alias a. */
void sd_bn_csub(sd_limb *r, const sd_limb *a, const sd_limb *p, sd_len n,
		sd_limb carry);
/* r += mask & p, the carry out dropped. */
void sd_bn_cadd(sd_limb *r, const sd_limb *p, sd_len n, sd_limb mask);

/* r = mask ? a : r. */
void sd_bn_cmov(sd_limb *r, const sd_limb *a, sd_len n, sd_limb mask);
/* (a, b) = mask ? (b, a) : (a, b). */
void sd_bn_cswap(sd_limb *a, sd_limb *b, sd_len n, sd_limb mask);
/* All ones if a[0..n) is zero, else zero. */
sd_limb sd_bn_zero_mask(const sd_limb *a, sd_len n);
/* All ones if bit is 1, zero if bit is 0. */
#define SD_BN_MASK(bit) ((sd_limb)((sd_limb)0 - (sd_limb)(bit)))

/* Conversions between byte strings and n limbs. Shorter byte strings are
 * zero-extended; to_* write exactly len bytes (the limbs must fit). */
void sd_bn_from_le(sd_limb *r, sd_len n, const uint8_t *b, size_t len);
void sd_bn_from_be(sd_limb *r, sd_len n, const uint8_t *b, size_t len);
void sd_bn_to_le(uint8_t *b, size_t len, const sd_limb *a);
void sd_bn_to_be(uint8_t *b, size_t len, const sd_limb *a);

#endif /* SD_CRYPTO_BN_H */
