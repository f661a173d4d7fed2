/*
 * crypto/common.h: result codes, secret wiping and constant-time comparison
 * shared by every primitive in crypto/.
 */
#ifndef SD_CRYPTO_COMMON_H
#define SD_CRYPTO_COMMON_H

#include <stddef.h>
#include <stdint.h>

/*
 * Result codes. Every function that can fail returns SD_OK or one of the
 * negative codes below; the code names the reason and carries nothing taken
 * from the input.
 */
enum {
	SD_OK = 0,
	SD_ERR_AUTH = -1,     /* AEAD tag does not verify */
	SD_ERR_LENGTH = -2,   /* a length outside what the spec allows */
	SD_ERR_POINT = -3,    /* a peer's public point fails validation */
	SD_ERR_SCALAR = -4,   /* a private scalar outside [1, n-1] */
	SD_ERR_LOW_ORDER = -5 /* the shared secret is zero or the point at infinity */
};

/*
 * sd_wipe overwrites n bytes at p with zeros through a volatile pointer, so
 * the compiler cannot drop the stores as dead. Use it on every secret
 * before its storage goes out of scope.
 */
void sd_wipe(void *p, size_t n);

/*
 * sd_ct_equal compares n bytes of a and b in time that depends only on n.
 * It returns 1 when they are equal and 0 otherwise.
 */
int sd_ct_equal(const void *a, const void *b, size_t n);

/*
 * sd_mul32 is the 64-bit product of two 32-bit words, for every product
 * of secrets with 32-bit limbs (bn.c, x25519.c, poly1305.c). Normally a
 * plain multiplication: UMULL on ARMv7-M, MUL and MULHU on RV32.
 *
 * SD_CM3_CT_MUL (the Makefile's CM3_CT_MUL=1) is for the Cortex-M3, whose
 * UMULL and UMLAL finish early on small operands (3 to 5 cycles; ARM
 * Cortex-M3 Technical Reference Manual r2p0, 3.3.1, "Cortex-M3
 * instruction set summary"; BearSSL's "Constant-Time Mul" page,
 * bearssl.org/ctmul.html, collects such cores): the product is then
 * formed from four 16 x 16 -> 32-bit products, which compile to MUL, one
 * cycle whatever its operands, and additions with carry. QEMU counts
 * instructions, not cycles, so it can show the option's cost but not the
 * timing difference it removes (docs/benchmarks.md).
 */
#if defined(SD_CM3_CT_MUL)
static inline uint64_t sd_mul32(uint32_t a, uint32_t b)
{
	uint32_t al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
	uint64_t mid = (uint64_t)(al * bh) + (ah * bl); /* below 2^33 */

	return ((uint64_t)(ah * bh) << 32) + (mid << 16) + (al * bl);
}
#else
#define sd_mul32(a, b) ((uint64_t)(uint32_t)(a) * (uint32_t)(b))
#endif

#endif /* SD_CRYPTO_COMMON_H */
