/*
 * crypto/x25519.h: the X25519 function of RFC 7748 §5 (Curve25519
 * Diffie-Hellman, §6.1).
 *
 * Constant-time: the Montgomery ladder of §5 with conditional swaps by
 * masks; no branch and no memory index depends on the scalar or the
 * u-coordinate. All secrets are wiped before returning.
 */
#ifndef SD_CRYPTO_X25519_H
#define SD_CRYPTO_X25519_H

#include <stdint.h>

#define SD_X25519_LEN 32 /* scalars, u-coordinates and shared secrets */

/*
 * sd_x25519 computes out = X25519(scalar, u). The scalar is clamped and
 * the top bit of u masked, as §5 requires; non-canonical u (p <= u < 2^255)
 * is accepted and reduced. It returns SD_ERR_LOW_ORDER when the result is
 * all zeros (§6.1: u of small order; the caller must abort) and SD_OK
 * otherwise; out is written in both cases. out may alias scalar or u.
 */
int sd_x25519(uint8_t out[SD_X25519_LEN], const uint8_t scalar[SD_X25519_LEN],
	      const uint8_t u[SD_X25519_LEN]);

/* sd_x25519_base computes the public key X25519(scalar, 9) (§6.1). */
void sd_x25519_base(uint8_t pub[SD_X25519_LEN],
		    const uint8_t scalar[SD_X25519_LEN]);

#endif /* SD_CRYPTO_X25519_H */
