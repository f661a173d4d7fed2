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

#endif /* SD_CRYPTO_COMMON_H */
